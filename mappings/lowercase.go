package mappings

import (
	"bytes"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	bmapping "github.com/blevesearch/bleve/v2/mapping"
)

// FixLowercase replaces, in m's English analyser, Bleve's lower-case
// filter with lowerCase. Bleve's lowers a word in place and, when a
// letter's lower case is shorter than the letter (İ, ẞ), moves on without
// shifting the rest of the word back: "İzmir" became the term
// "i\xb0zmi", which no query but the same spelling could meet, so that
// izmir never found İzmir and İstanbul's events were not Istanbul's.
// Every other word lowers exactly as before, so terms built before the
// fix stay valid for them. Analysers are cached in a mapping: replacing
// the filter in the cached one serves every later use of m (analysing
// queries, and the documents of a Bleve batch); it must happen before m
// is shared.
func FixLowercase(m bmapping.IndexMapping) {
	a, ok := m.AnalyzerNamed(en.AnalyzerName).(*analysis.DefaultAnalyzer)
	if !ok {
		return
	}
	for i, f := range a.TokenFilters {
		if _, ok := f.(*lowercase.LowerCaseFilter); ok {
			a.TokenFilters[i] = lowerCase{bleve: f}
		}
	}
}

// lowerCase is Bleve's lower-case filter, with words holding a letter
// whose lower case is shorter lowered into a new slice.
type lowerCase struct {
	bleve analysis.TokenFilter
}

func (f lowerCase) Filter(input analysis.TokenStream) analysis.TokenStream {
	for _, t := range input {
		if shrinks(t.Term) {
			t.Term = lowerCopy(t.Term)
		}
	}
	return f.bleve.Filter(input) // lowers the rest in place (and leaves the lowered alone)
}

// shrinks reports whether s holds a letter whose lower case is encoded
// in fewer bytes.
func shrinks(s []byte) bool {
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, w := utf8.DecodeRune(s[i:])
		if l := unicode.ToLower(r); l != r && utf8.RuneLen(l) < w {
			return true
		}
		i += w
	}
	return false
}

// lowerCopy lowers s as Bleve's filter means to: a final capital sigma
// becomes ς, and a letter whose lower case is wider lowers the rest as
// bytes.ToLower does.
func lowerCopy(s []byte) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRune(s[i:])
		l := unicode.ToLower(r)
		if l == 'σ' && l != r && i+2 == len(s) {
			l = 'ς'
		}
		if utf8.RuneLen(l) > w {
			return append(out, bytes.ToLower(s[i:])...)
		}
		out = utf8.AppendRune(out, l)
		i += w
	}
	return out
}
