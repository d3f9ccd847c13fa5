package search

import (
	"html"
	"slices"
	"strings"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"

	"github.com/newsdesk/newsdesk/entities"
	"github.com/newsdesk/newsdesk/query"
)

// Highlighting is done here, on the few hits of a page, rather than by
// Bleve: Bleve's highlighter needs the search to decode term locations
// for every matching event, which made a query with highlighting a third
// slower whatever the page size.

// Fragment sizes, in bytes of the original text.
const (
	maxWholeText  = 320 // texts up to this long are one fragment
	fragmentSize  = 160 // else fragments of about this size around matches
	maxFragments  = 3
	markOpen      = "<mark>"
	markClose     = "</mark>"
	fragmentSpill = "…"
)

// highlighter marks the words of a text that a query matched.
type highlighter struct {
	an       query.Analyzer
	terms    map[string]bool
	prefixes []string
	// phrases are the query's phrases of several words, and the codes
	// matched as their parts in a row ("g 20"): their words are marked
	// only where they are in a row, as the search matched them ("peace
	// talks" marked the peace of "peace deal" and the talks of "direct
	// talks"; g20 the 20 of "Group of 20": a review's findings).
	phrases [][]phraseWord
}

// phraseWord is a word of a phrase: its terms (its spellings), and its
// position after the phrase's first word (stop words left out count).
type phraseWord struct {
	terms  map[string]bool
	offset int
}

func newHighlighter(an query.Analyzer, ents *entities.Table, p query.Params) *highlighter {
	h := &highlighter{an: an, terms: map[string]bool{}}
	spellings := func(t string) map[string]bool {
		m := map[string]bool{t: true}
		if p.Spellings != nil { // a phrase's words match in any spelling too
			for _, v := range p.Spellings(t) { // erdoğan for erdogan
				m[v] = true
			}
		}
		return m
	}
	for _, c := range p.Query.Clauses {
		if c.Negated {
			continue
		}
		switch c.Kind {
		case query.Word, query.Phrase:
			toks, _ := an.AnalyzeText(en.AnalyzerName, []byte(c.Text))
			if len(toks) > 1 && (c.Kind == query.Phrase || len(c.Values) > 0) {
				var ph []phraseWord
				for _, t := range toks {
					ph = append(ph, phraseWord{terms: spellings(string(t.Term)), offset: t.Position - toks[0].Position})
				}
				h.phrases = append(h.phrases, ph)
			} else {
				for _, t := range toks {
					for v := range spellings(string(t.Term)) {
						h.terms[v] = true
					}
					if c.Kind == query.Word && ents != nil {
						for _, v := range ents.Variants(string(t.Term)) { // matched too: Syrian for syria
							h.terms[v] = true
						}
					}
				}
			}
			for _, t := range c.Values { // a code written joined: G20 for "g 20"
				h.terms[t] = true
			}
		case query.Prefix:
			h.prefixes = append(h.prefixes, query.PrefixForms(c.Text)...)
			for _, t := range c.Values {
				h.terms[t] = true
			}
		}
	}
	return h
}

func (h *highlighter) matches(term string) bool {
	if h.terms[term] {
		return true
	}
	for _, p := range h.prefixes {
		if strings.HasPrefix(term, p) {
			return true
		}
	}
	return false
}

// fragments returns up to maxFragments HTML fragments of text with the
// matched words in <mark>, everything else escaped; nil when nothing
// matched.
func (h *highlighter) fragments(text string) []string {
	if text == "" || (len(h.terms) == 0 && len(h.prefixes) == 0 && len(h.phrases) == 0) {
		return nil
	}
	toks, err := h.an.AnalyzeText(en.AnalyzerName, []byte(text))
	if err != nil {
		return nil
	}
	// The tokens of the phrases' words where they are in a row.
	inPhrase := make([]bool, len(toks))
	for _, ph := range h.phrases {
		for i, t := range toks {
			if !ph[0].terms[string(t.Term)] {
				continue
			}
			at := []int{i}
			for _, w := range ph[1:] {
				j := slices.IndexFunc(toks[i:], func(u *analysis.Token) bool {
					return u.Position == t.Position+w.offset && w.terms[string(u.Term)]
				})
				if j < 0 {
					break
				}
				at = append(at, i+j)
			}
			if len(at) == len(ph) {
				for _, k := range at {
					inPhrase[k] = true
				}
			}
		}
	}
	type span struct{ start, end int }
	var marks []span
	for i, t := range toks {
		if (inPhrase[i] || h.matches(string(t.Term))) && t.Start >= 0 && t.End <= len(text) && t.Start < t.End {
			if n := len(marks); n > 0 && marks[n-1].end > t.Start {
				continue // overlapping tokens: keep the first
			} else if n > 0 && marks[n-1].end == t.Start {
				// Touching tokens (Chinese and Japanese are a token a
				// character) are one mark: 消防庁, not every other one.
				marks[n-1].end = t.End
				continue
			}
			marks = append(marks, span{t.Start, t.End})
		}
	}
	if len(marks) == 0 {
		return nil
	}
	render := func(from, to int) string {
		var b strings.Builder
		at := from
		for _, m := range marks {
			if m.start < from || m.end > to {
				continue
			}
			b.WriteString(html.EscapeString(text[at:m.start]))
			b.WriteString(markOpen)
			b.WriteString(html.EscapeString(text[m.start:m.end]))
			b.WriteString(markClose)
			at = m.end
		}
		b.WriteString(html.EscapeString(text[at:to]))
		return b.String()
	}
	if len(text) <= maxWholeText {
		return []string{render(0, len(text))}
	}
	// Spans of the text around the marks. A gap of less than a third of
	// a fragment (a few words) to the text's start or end, or to the
	// previous span, is taken in: leaving it out would cost an ellipsis
	// for as much text, and two spans that touch are one ("… …" in the
	// middle of a sentence, its first words gone, for a text of 321 bytes).
	const gap = fragmentSize / 3
	var spans [][2]int
	end, made := 0, 0
	for _, m := range marks {
		if m.start < end || made == maxFragments {
			continue
		}
		made++
		// Never back into the previous span (its last word).
		from := max(end, wordStart(text, max(end, m.start-gap)))
		if from-end < gap {
			from = end
		}
		to := max(wordEnd(text, min(len(text), from+fragmentSize)), m.end)
		if len(text)-to < gap {
			to = len(text)
		}
		if n := len(spans); n > 0 && spans[n-1][1] == from {
			spans[n-1][1] = to
		} else {
			spans = append(spans, [2]int{from, to})
		}
		end = to
	}
	out := make([]string, 0, len(spans))
	for _, sp := range spans {
		frag := render(sp[0], sp[1])
		if sp[0] > 0 {
			frag = fragmentSpill + frag
		}
		if sp[1] < len(text) {
			frag += fragmentSpill
		}
		out = append(out, frag)
	}
	return out
}

// wordStart moves i back to the start of the word it is in.
func wordStart(s string, i int) int {
	for i > 0 && s[i-1] != ' ' {
		i--
	}
	return i
}

// wordEnd moves i forward to the end of the word it is in.
func wordEnd(s string, i int) int {
	for i < len(s) && s[i] != ' ' {
		i++
	}
	return i
}
