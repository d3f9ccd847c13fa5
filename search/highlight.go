package search

import (
	"html"
	"strings"

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
}

func newHighlighter(an query.Analyzer, ents *entities.Table, p query.Params) *highlighter {
	h := &highlighter{an: an, terms: map[string]bool{}}
	for _, c := range p.Query.Clauses {
		if c.Negated {
			continue
		}
		switch c.Kind {
		case query.Word, query.Phrase:
			toks, _ := query.Tokens(an, c.Text)
			for _, t := range toks {
				h.terms[t] = true
				if c.Kind == query.Word && ents != nil {
					for _, v := range ents.Variants(t) { // matched too: Syrian for syria
						h.terms[v] = true
					}
				}
			}
		case query.Prefix:
			h.prefixes = append(h.prefixes, query.PrefixForms(an, c.Text)...)
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
	if text == "" || (len(h.terms) == 0 && len(h.prefixes) == 0) {
		return nil
	}
	toks, err := h.an.AnalyzeText(en.AnalyzerName, []byte(text))
	if err != nil {
		return nil
	}
	type span struct{ start, end int }
	var marks []span
	for _, t := range toks {
		if h.matches(string(t.Term)) && t.Start >= 0 && t.End <= len(text) && t.Start < t.End {
			if n := len(marks); n > 0 && marks[n-1].end >= t.Start {
				continue // overlapping tokens: keep the first
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
	var out []string
	end := 0
	for _, m := range marks {
		if m.start < end || len(out) == maxFragments {
			continue
		}
		// Never back into the previous fragment (its last word).
		from := max(end, wordStart(text, max(end, m.start-fragmentSize/3)))
		to := wordEnd(text, min(len(text), from+fragmentSize))
		to = max(to, m.end)
		frag := render(from, to)
		if from > 0 {
			frag = fragmentSpill + frag
		}
		if to < len(text) {
			frag += fragmentSpill
		}
		out = append(out, frag)
		end = to
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
