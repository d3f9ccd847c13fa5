// Package entities normalises the names news events use for places and
// running stories, so that different spellings of one entity meet: a
// country and its adjective or demonym (Syria, Syrian; Myanmar, Burmese),
// and the case, dash, word-order and parenthesis variants of a tag
// ("Russia-Estonia relations", "Estonia–Russia relations", "Estonian-Russian
// relations"). The search box uses it to match Syria with Syrian, the
// related-stories ranking to compare tags.
//
// Its place list (places.tsv, embedded) is a general gazetteer: the
// countries of the world and some well-known regions with their other
// names, adjectives and demonyms. Words are compared as the index stores
// them: after Bleve's English analysis (lower case, stop words dropped,
// Porter stems).
package entities

import (
	_ "embed"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/blevesearch/bleve/v2/analysis"
	"golang.org/x/text/unicode/norm"

	"github.com/newsdesk/newsdesk/english"
)

//go:embed places.tsv
var placesTSV string

// Table holds the place list, analysed. It is immutable and safe for
// concurrent use.
type Table struct {
	an analysis.Analyzer
	// place maps the stem of a place's other name, adjective or demonym
	// to the stems of the place: syrian → [syria], american → [unit
	// state], korean → [korea] (from North Korean, South Korean).
	place map[string][]string
	// group maps each one-word form of a one-word place to its other
	// one-word forms: syria → [syrian], syrian → [syria].
	group map[string][]string
	// placeKeys holds the keys of places ("syria", "state unit").
	placeKeys map[string]bool
}

// New analyses the embedded place list with Bleve's English analyser, as
// the index analyses text.
func New() (*Table, error) {
	an, err := english.Analyzer()
	if err != nil {
		return nil, fmt.Errorf("entities: %w", err)
	}
	t := &Table{an: an, place: map[string][]string{}, group: map[string][]string{}, placeKeys: map[string]bool{}}
	for n, line := range strings.Split(placesTSV, "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, others, ok := strings.Cut(line, "\t")
		if !ok {
			return nil, fmt.Errorf("entities: places.tsv line %d: want a place, a tab and its other names", n+1)
		}
		p := t.Tokens(name)
		if len(p) == 0 {
			continue
		}
		t.placeKeys[strings.Join(sortedSet(p), " ")] = true
		forms := []string{}
		if len(p) == 1 {
			forms = append(forms, p[0])
		}
		for _, other := range strings.Split(others, ",") {
			a := t.Tokens(other)
			switch {
			case len(a) == 1 && slices.Contains(p, a[0]):
				// Saudi, of Saudi Arabia: the word is in the name already.
			case len(a) == 1:
				if _, dup := t.place[a[0]]; !dup {
					t.place[a[0]] = p
				}
				if len(p) == 1 {
					forms = append(forms, a[0])
				}
			case len(a) == len(p) && slices.Equal(a[:len(a)-1], p[:len(p)-1]):
				// North Korean → North Korea: the last word is the adjective.
				if _, dup := t.place[a[len(a)-1]]; !dup {
					t.place[a[len(a)-1]] = p[len(p)-1:]
				}
			}
		}
		forms = sortedSet(forms)
		for _, f := range forms {
			for _, g := range forms {
				if g != f && !slices.Contains(t.group[f], g) {
					t.group[f] = append(t.group[f], g)
				}
			}
		}
	}
	return t, nil
}

// Tokens returns the analysed words of s, as the index has them.
func (t *Table) Tokens(s string) []string {
	ts := t.an.Analyze([]byte(s))
	out := make([]string, 0, len(ts))
	for _, tok := range ts {
		out = append(out, string(tok.Term))
	}
	return out
}

// Variants returns the other one-word forms of stem's place (syria →
// [syrian]), or nil. Do not modify the result.
func (t *Table) Variants(stem string) []string { return t.group[stem] }

// Place returns the stems of the place stem names (syrian → [syria],
// american → [unit state]), or nil when stem names no place by another
// name. Do not modify the result.
func (t *Table) Place(stem string) []string { return t.place[stem] }

// Normalize replaces each other name, adjective or demonym among stems by
// its place's stems, in place order.
func (t *Table) Normalize(stems []string) []string {
	out := make([]string, 0, len(stems))
	for _, s := range stems {
		if p := t.place[s]; p != nil {
			out = append(out, p...)
			continue
		}
		out = append(out, s)
	}
	return out
}

// Kind is what a tag names.
type Kind uint8

// Kinds of tags.
const (
	Story Kind = iota // a running story, an event, an organisation, a person…
	Place             // a country or region of the place list
	Year              // only years ("2006")
)

// Key is a tag in normal form: its words, analysed, with other names of
// places replaced by the place, as a sorted set; so case, dashes, word
// order, parentheses and demonyms do not matter.
type Key struct {
	// Full is the sorted set of words, space-separated.
	Full string
	// Yearless is Full without years and "present": the story a yearly
	// tag belongs to ("2011 Egyptian revolution" → "egypt revolut").
	Yearless string
	Kind     Kind
}

var (
	dashes = regexp.MustCompile(`[\x{2010}-\x{2015}\x{2212}]`)
	parens = regexp.MustCompile(`\([^)]*\)`)
	years  = regexp.MustCompile(`^(1[89]|2[01])\d\d$`)
)

// Keys returns the keys of a tag or topic: one per part, parts being
// separated by ";", or by "/" between parts of two words or more each
// ("Naxalite–Maoist insurgency/Indian general election, 2014"), not
// within a name ("HIV/AIDS", "Apple / Google smartphone tracking",
// "GNU/Linux", "9/11"). Parts without words (stop words only) have none.
func (t *Table) Keys(tag string) []Key {
	s := norm.NFKC.String(tag)
	s = dashes.ReplaceAllString(s, "-")
	s = parens.ReplaceAllString(s, " ")
	var out []Key
	for _, part := range t.parts(s) {
		words := sortedSet(t.Normalize(t.Tokens(part)))
		if len(words) == 0 {
			continue
		}
		k := Key{Full: strings.Join(words, " ")}
		var rest []string
		for _, w := range words {
			if !years.MatchString(w) && w != "present" {
				rest = append(rest, w)
			}
		}
		k.Yearless = strings.Join(rest, " ")
		k.Kind = t.kind(k.Full, len(rest))
		if !slices.ContainsFunc(out, func(o Key) bool { return o.Full == k.Full }) {
			out = append(out, k)
		}
	}
	return out
}

// parts splits a tag into the stories it names: at each ";", and at each
// "/" whose sides both hold two words or more.
func (t *Table) parts(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ";") {
		pieces := strings.Split(part, "/")
		for i, cur := 0, ""; i < len(pieces); i++ {
			if cur == "" {
				cur = pieces[i]
			} else {
				cur += "/" + pieces[i]
			}
			if i+1 < len(pieces) && (len(t.Tokens(cur)) < 2 || len(t.Tokens(strings.Join(pieces[i+1:], "/"))) < 2 ||
				len(t.Tokens(pieces[i+1])) < 2) {
				continue // "/" within a name: the piece goes on
			}
			out = append(out, cur)
			cur = ""
		}
	}
	return out
}

// KindOf returns the kind of a key's Full or Yearless form, as Keys
// gives it: the index stores keys as strings, without their kind.
func (t *Table) KindOf(key string) Kind {
	words := strings.Fields(key)
	rest := 0
	for _, w := range words {
		if !years.MatchString(w) && w != "present" {
			rest++
		}
	}
	return t.kind(key, rest)
}

// kind is the kind of key full, of which rest words are not years.
func (t *Table) kind(full string, rest int) Kind {
	switch {
	case rest == 0:
		return Year
	case t.placeKeys[full]:
		return Place
	}
	return Story
}

func sortedSet(words []string) []string {
	out := slices.Clone(words)
	slices.Sort(out)
	return slices.Compact(out)
}
