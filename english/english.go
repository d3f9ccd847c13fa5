// Package english provides the English analyser the index uses: Bleve's
// en analyser, with its lower-case filter replaced by one that does not
// garble a word holding a letter whose lower case is shorter (İ, ẞ).
// Bleve's lowers a word in place and, after such a letter, moves on
// without shifting the rest of the word back: "İzmir" became the term
// "i\xb0zmi", which no query but the same spelling could meet, so that
// izmir never found İzmir. Every other word lowers exactly as Bleve
// lowers it, so terms built before the fix stay valid for them.
package english

import (
	"bytes"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/registry"
)

// Analyzer returns a new English analyser, fixed.
func Analyzer() (analysis.Analyzer, error) {
	a, err := registry.NewCache().AnalyzerNamed(en.AnalyzerName)
	if err != nil {
		return nil, fmt.Errorf("english: %w", err)
	}
	Fix(a)
	return a, nil
}

// Fix replaces Bleve's lower-case filter in a, if a is an analyser of
// filters that holds one. Analysers are cached in a mapping or a
// registry cache: fixing the cached one serves every later use of it; it
// must happen before a is shared.
func Fix(a analysis.Analyzer) {
	da, ok := a.(*analysis.DefaultAnalyzer)
	if !ok {
		return
	}
	for i, f := range da.TokenFilters {
		if _, ok := f.(*lowercase.LowerCaseFilter); ok {
			da.TokenFilters[i] = lowerCase{bleve: f}
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
