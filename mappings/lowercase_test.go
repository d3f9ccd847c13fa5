package mappings

import (
	"testing"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
)

func TestFixLowercase(t *testing.T) {
	m := New()
	for _, tt := range []struct{ text, want string }{
		{"İzmir", "izmir"},
		{"İSTANBUL", "istanbul"},
		{"STRAẞE", "straße"},
		{"ΣΟΦΟΣ", "σοφος"}, // a final sigma, as Bleve lowers it
		{"Ⱥrea", "ⱥrea"},   // a wider lower case, as Bleve lowers it
		{"Erdoğan", "erdoğan"},
		{"Syria's", "syria"},
	} {
		toks, err := m.AnalyzeText(en.AnalyzerName, []byte(tt.text))
		if err != nil {
			t.Fatal(err)
		}
		if len(toks) != 1 || string(toks[0].Term) != tt.want {
			t.Errorf("%s: %q, want one term %q", tt.text, toks, tt.want)
		}
	}
	// Words without a shrinking letter lower exactly as Bleve lowers
	// them: the terms of indexes built before the fix stay valid.
	bleve, fixed := lowercase.NewLowerCaseFilter(), lowerCase{bleve: lowercase.NewLowerCaseFilter()}
	for _, w := range []string{"Peace", "ÉLYSÉE", "ΣΟΦΟΣ", "ȺȾ", "Kiev", "Ωmega", "ﬁre", "ÇAĞ"} {
		a := bleve.Filter(analysis.TokenStream{{Term: []byte(w)}})
		b := fixed.Filter(analysis.TokenStream{{Term: []byte(w)}})
		if string(a[0].Term) != string(b[0].Term) {
			t.Errorf("%s: %q, Bleve %q", w, b[0].Term, a[0].Term)
		}
	}
}
