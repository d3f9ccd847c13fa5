package english

import (
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
)

func TestLowerCase(t *testing.T) {
	a, err := Analyzer()
	if err != nil {
		t.Fatal(err)
	}
	bleve := lowercase.NewLowerCaseFilter()
	f := lowerCase{bleve: lowercase.NewLowerCaseFilter()}
	lower := func(filter analysis.TokenFilter, w string) string {
		return string(filter.Filter(analysis.TokenStream{{Term: []byte(w)}})[0].Term)
	}
	for _, tt := range []struct {
		word, want string
		shrinks    bool // a letter's lower case is shorter
		garbled    bool // and Bleve's filter garbles the word: a letter already lower follows it
	}{
		{"İzmir", "izmir", true, true},
		{"İSTANBUL", "istanbul", true, false}, // each letter after it moves as it is lowered
		{"İSTANBUL'da", "istanbul'da", true, true},
		{"Straẞe", "straße", true, true},
		{"\u212aelvin", "kelvin", true, true},            // the Kelvin sign
		{"\u2126mega", "ωmega", true, true},              // the ohm sign
		{"\u212bngström", "ångström", true, true},        // the ångström sign
		{"İSTANBUL ΣΟΦΟΣ", "istanbul σοφος", true, true}, // a final sigma, as Bleve lowers it
		{"Peace", "peace", false, false},
		{"ÉLYSÉE", "élysée", false, false},
		{"ΣΟΦΟΣ", "σοφος", false, false},
		{"ȺȾ", "ⱥⱦ", false, false}, // wider: Bleve copies
		{"ﬁre", "ﬁre", false, false},
		{"ÇAĞ", "çağ", false, false},
	} {
		if got := lower(f, tt.word); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.word, got, tt.want)
		}
		// Bleve's filter garbles what the test says, and nothing else:
		// every word without a shrinking letter lowers as Bleve lowers
		// it, so the terms of indexes built before stay valid.
		if b := lower(bleve, tt.word); (b != tt.want) != tt.garbled {
			t.Errorf("%s: Bleve gives %q (want garbled: %v)", tt.word, b, tt.garbled)
		}
		if shrinks([]byte(tt.word)) != tt.shrinks {
			t.Errorf("%s: shrinks = %v", tt.word, !tt.shrinks)
		}
	}
	// The analyser holds the fixed filter.
	toks := a.Analyze([]byte("İzmir"))
	if len(toks) != 1 || string(toks[0].Term) != "izmir" || strings.ContainsRune(string(toks[0].Term), '\uFFFD') {
		t.Errorf("Analyzer: %q", toks)
	}
}
