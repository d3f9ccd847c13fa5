package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
	"golang.org/x/text/unicode/norm"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/snapshot"
)

// Spellings of one word with and without its accents. Events write
// names as their language does (Erdoğan, São Paulo, Côte d'Ivoire), a
// search box is typed without the accents: erdogan found the 8 events
// that write it so, not the 194 that write Erdoğan, and cote was
// corrected to vote. A word matches the index's terms that are it with
// other letters, as the same word (not as a place's other name, which
// counts less): its spellings.

// spellings maps the plain form of each index term of the text field
// with letters beyond ASCII (plain: its letters folded, then stemmed as
// the index stems words) to those terms. Stemmed again, since the
// stemmer treats a letter with an accent as a consonant: André's term
// is andré, Andre's andr.
type spellings map[string][]string

// spellingsOf walks the text field's terms of snap (65,793 on the
// corpus, 23 ms).
func spellingsOf(snap *snapshot.Snapshot) spellings {
	d, err := snap.Reader().FieldDict(newsdesk.FieldText)
	if err != nil {
		return nil
	}
	defer d.Close()
	out := spellings{}
	for e, err := d.Next(); err == nil && e != nil; e, err = d.Next() {
		if !ascii(e.Term) {
			if p := plainStem(e.Term); p != e.Term && p != "" {
				out[p] = append(out[p], e.Term)
			}
		}
	}
	return out
}

// of returns the other spellings of term the index may hold: the terms
// with other letters whose plain form is term's, and term's plain form
// itself (erdogan for erdoğan). The caller looks them up.
func (s spellings) of(term string) []string {
	f := term
	if !ascii(term) {
		f = plainStem(term)
	}
	var out []string
	if f != term {
		out = append(out, f)
	}
	for _, t := range s[f] {
		if t != term {
			out = append(out, t)
		}
	}
	return out
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// plainStem returns the term an index term with accents would be without
// them: folded, then stemmed as the text field's analyser stems (Porter).
func plainStem(term string) string {
	ts := porter.NewPorterStemmer().Filter(analysis.TokenStream{{Term: []byte(fold(term))}})
	return string(ts[0].Term)
}

// fold returns s without its accents: decomposed, its combining marks
// dropped, and the letters that do not decompose replaced (ø, ł, đ, ß,
// æ, œ, ı, þ, ð).
func fold(s string) string {
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
