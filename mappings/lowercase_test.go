package mappings

import (
	"testing"

	"github.com/blevesearch/bleve/v2/analysis/lang/en"
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
}
