package english

import (
	"strings"
	"unicode"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	unicodetok "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/registry"
	porterstemmer "github.com/blevesearch/go-porterstemmer"
	"golang.org/x/text/unicode/norm"
)

// FormsAnalyzerName is the analyser of the text's word forms: the words
// as the en analyser reads them (possessive, case, stop words) whose
// Porter stem drops a derivational ending, each as its inflections' form
// (generation's stem gener is general's too, experiment's experi is
// experience's; their forms are generation and experiment). The other
// words are left out.
const FormsAnalyzerName = "newsdesk_forms"

func init() {
	if err := registry.RegisterAnalyzer(FormsAnalyzerName, formsConstructor); err != nil {
		panic(err)
	}
}

func formsConstructor(_ map[string]any, cache *registry.Cache) (analysis.Analyzer, error) {
	tokenizer, err := cache.TokenizerNamed(unicodetok.Name)
	if err != nil {
		return nil, err
	}
	var filters []analysis.TokenFilter
	for _, name := range []string{en.PossessiveName, lowercase.Name, en.StopName} {
		f, err := cache.TokenFilterNamed(name)
		if err != nil {
			return nil, err
		}
		if name == lowercase.Name {
			f = lowerCase{bleve: f}
		}
		filters = append(filters, f)
	}
	return &analysis.DefaultAnalyzer{Tokenizer: tokenizer, TokenFilters: append(filters, formsFilter{})}, nil
}

// formsFilter keeps the tokens whose Form is not their stem (Derived),
// made their Form: the others are the text field's terms already, and
// leaving them out keeps the field to 8% of the words (on the corpus),
// where all of them cost a fifth more build time.
type formsFilter struct{}

func (formsFilter) Filter(input analysis.TokenStream) analysis.TokenStream {
	out := input[:0]
	for _, t := range input {
		// Without accents: fédération and federation are one form, as
		// the search box finds them alike (a review found federation
		// boosting the events that write it unaccented only).
		w := Fold(string(t.Term))
		if f := Form(w); f != porterstemmer.StemString(w) {
			t.Term = []byte(f)
			out = append(out, t)
		}
	}
	return out
}

// Fold returns s without its accents: decomposed, its combining marks
// dropped, and the letters that do not decompose replaced (ø, ł, đ, ß,
// æ, œ, ı, þ, ð, ħ).
func Fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		if rep, ok := letters[r]; ok {
			b.WriteString(rep)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

var letters = map[rune]string{'ø': "o", 'ł': "l", 'đ': "d", 'ß': "ss", 'æ': "ae", 'œ': "oe", 'ı': "i", 'þ': "th", 'ð': "d", 'ħ': "h"}

// Form returns the term of a lower-case word in the forms field: the form
// its inflections share (Porter's step 1: talks, talked, talking) when
// Porter's stem goes past it, beyond the final e or double l its last
// step drops (generation, whose stem gener is general's); else the stem
// (univers, for universe and universes, where university's form is
// universiti). So the words of one stem with different derivational
// endings have different forms, and a word's inflections one.
func Form(word string) string {
	s := []rune(word)
	stem := porterstemmer.StemString(word)
	if len(s) <= 2 {
		return stem // Porter leaves them whole
	}
	form := string(step1c(step1b(step1a(s))))
	if string(step5b(step5a([]rune(form)))) == stem {
		return stem
	}
	return form
}
