package search

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/english"
	"github.com/newsdesk/newsdesk/query"
	"github.com/newsdesk/newsdesk/snapshot"
)

// Spellings of one word with and without its accents. Events write
// names as their language does (Erdoğan, São Paulo, Côte d'Ivoire), a
// search box is typed without the accents: erdogan found the 8 events
// that write it so, not the 194 that write Erdoğan, and cote was
// corrected to vote. A word matches the index's terms that are it with
// other letters, as the same word (not as a place's other name, which
// counts less): its spellings. So is a word written after an elided
// article (Côte d'Ivoire's ivoire, L'Aquila's aquila: elided).

// spellings holds the spellings of the index terms of the text field
// with letters beyond ASCII. byKey maps a plain form to the terms that
// have it; keys, each such term to its plain forms. A term's plain form
// is its letters folded (erdoğan: erdogan, the term of Erdogan); and,
// when that plain form stems further, also the term of the word the
// events write, folded (André is written, its term andré, and Andre's
// term andr: the stemmer takes é for a consonant, and ends andre at
// andr). Not the folded term stemmed again: Armée's term armé would be
// keyed arm, the term of arms, where Armee's is arme.
type spellings struct {
	byKey map[string][]string
	keys  map[string][]string
	// plain and written hold byKey's and keys' keys, sorted, for
	// prefixes (prefixed).
	plain, written []string
}

// spellingsOf walks the text field's terms of snap (65,793 on the
// corpus, 23 ms), and reads one event of each term whose plain form
// stems further, for the word it writes.
func spellingsOf(snap *snapshot.Snapshot) spellings {
	out := spellings{byKey: map[string][]string{}, keys: map[string][]string{}}
	d, err := snap.Reader().FieldDict(newsdesk.FieldText)
	if err != nil {
		return out
	}
	defer d.Close()
	add := func(key, term string) {
		if key != "" && key != term && !slices.Contains(out.keys[term], key) {
			out.byKey[key] = append(out.byKey[key], term)
			out.keys[term] = append(out.keys[term], key)
		}
	}
	for e, err := d.Next(); err == nil && e != nil; e, err = d.Next() {
		if rest := elided(fold(e.Term)); rest != "" {
			add(rest, e.Term)
			if w, ok := writtenForm(snap, e.Term); ok {
				if wr := elided(fold(w)); wr != "" {
					add(stemPlain(wr), e.Term)
				}
			}
		}
		if ascii(e.Term) {
			continue
		}
		f := fold(e.Term)
		add(f, e.Term)
		if stemPlain(f) == f {
			continue
		}
		if w, ok := writtenForm(snap, e.Term); ok {
			add(stemPlain(fold(w)), e.Term)
		}
	}
	out.plain = slices.Sorted(maps.Keys(out.byKey))
	out.written = slices.Sorted(maps.Keys(out.keys))
	return out
}

// elided returns the word a term writes after a French or Italian elided
// article or preposition (ivoir for d'ivoir, aquila for l'aquila, djamena
// for n'djamena), or "": the index keeps Côte d'Ivoire's word whole, so
// ivoire was corrected to ivory (139 events of elephant ivory and the
// Ivory Coast) and aquila found no event of L'Aquila. Words of 3 letters
// or more after d', l', n' or qu' (not O'Brien's o').
func elided(term string) string {
	for _, p := range []string{"d'", "l'", "n'", "qu'"} {
		if rest, ok := strings.CutPrefix(term, p); ok && utf8.RuneCountInString(rest) >= 3 && !strings.ContainsRune(rest, '\'') {
			return rest
		}
	}
	return ""
}

// writtenForm returns a word, lower case and without a possessive, that
// an event holding term in its text field writes for it: one event is
// enough to tell.
func writtenForm(snap *snapshot.Snapshot, term string) (string, bool) {
	ps, err := snap.Postings(newsdesk.FieldText, []byte(term))
	if err != nil {
		return "", false
	}
	forms, err := writtenForms(context.Background(), snap, func(text string) (analysis.TokenStream, error) {
		an, err := enAnalyzer()
		if err != nil {
			return nil, err
		}
		return an.Analyze([]byte(text)), nil
	}, term, ps, 1)
	for w := range forms {
		return w, err == nil
	}
	return "", false
}

// enAnalyzer is the text field's analyser (Bleve's en), for writtenForm.
var enAnalyzer = sync.OnceValues(func() (analysis.Analyzer, error) {
	return english.Analyzer()
})

// of returns the other spellings of term the index may hold: the terms
// with other letters whose plain form is term (erdoğan for erdogan), and
// term's plain forms (erdogan for erdoğan; andr, Andre's term, for
// andré). The caller looks them up.
func (s spellings) of(term string) []string {
	keys := []string{term}
	if !ascii(term) {
		keys = s.keys[term]
		if len(keys) == 0 {
			keys = []string{fold(term)} // a term the index lacks
		}
	}
	var out []string
	for _, k := range keys {
		if k != term && !slices.Contains(out, k) {
			out = append(out, k)
		}
		for _, t := range s.byKey[k] {
			if t != term && !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out
}

// prefixed returns the terms of the text field a prefix (lower case)
// begins in another spelling, at most prefixSpellings: those with other
// letters whose plain form begins with the prefix's (erdoğan and
// o’brien for erdog* and o'bri*), or is one of stems, the stems the
// words the prefix begins may be kept as (query.PrefixStems: armé, whose
// plain form arme is armee's stem, for armee*; élysé for elysee*); and,
// for a prefix with other letters itself, the plain forms of the terms it
// begins and of its stems, and no more (erdogan for erdoğ*; andr, Andre's
// term, for andré*: not Andrew, which andre* would begin, nor Condé for
// côn*, since the accent was typed). The terms that begin with the prefix
// as typed are not among them: the prefix matches them itself.
func (s spellings) prefixed(prefix string, stems []string) []string {
	p := fold(prefix)
	var out []string
	add := func(terms []string) {
		for _, t := range terms {
			if len(out) < prefixSpellings && !strings.HasPrefix(t, prefix) && !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	if p != prefix {
		// An accent typed is meant: the words it begins, in their plain
		// forms, and no other word with accents whose plain form begins
		// as the prefix's does (côn* is no Condé, mün* no Muñoz).
		for i, _ := slices.BinarySearch(s.written, prefix); i < len(s.written) && strings.HasPrefix(s.written[i], prefix) && len(out) < prefixSpellings; i++ {
			add(s.keys[s.written[i]])
		}
		for _, st := range stems {
			if utf8.RuneCountInString(st) >= query.MinPrefixLen {
				add(s.keys[st]) // élysé, élysée's stem: elyse
			}
		}
		return out
	}
	for i, _ := slices.BinarySearch(s.plain, p); i < len(s.plain) && strings.HasPrefix(s.plain[i], p) && len(out) < prefixSpellings; i++ {
		add(s.byKey[s.plain[i]])
	}
	for _, st := range stems {
		if utf8.RuneCountInString(st) >= query.MinPrefixLen { // o'* is no prefix of ó's
			add(s.of(st))
		}
	}
	return out
}

// prefixSpellings is the most terms a prefix matches in other spellings,
// so that a short prefix does not become a query of hundreds of terms
// (they match as terms, beside the prefix's own).
const prefixSpellings = 64

// stemPlain returns a plain word stemmed as the text field's analyser
// stems (Porter).
func stemPlain(word string) string {
	ts := porter.NewPorterStemmer().Filter(analysis.TokenStream{{Term: []byte(word)}})
	return string(ts[0].Term)
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// fold returns s without its accents (english.Fold), its typographic
// apostrophes and quotes straight, as a query reads them
// (query.Straight): 734 events of the corpus hold ’ (O’Brien, Sana’a,
// Qur’an), the others write O'Brien.
func fold(s string) string { return english.Fold(query.Straight(s)) }
