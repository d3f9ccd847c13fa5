package search

import (
	"context"
	"fmt"
	"unicode/utf8"

	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/query"
	"github.com/newsdesk/newsdesk/snapshot"
)

// Fuzziness returns the edit distance allowed for a word of n characters:
// none up to 2, one up to 5, two beyond.
func Fuzziness(n int) int {
	switch {
	case n <= 2:
		return 0
	case n <= 5:
		return 1
	}
	return 2
}

// correct replaces each positive word the index does not have, as typed,
// by the closest indexed term (fewest edits, then most events). Words the
// index has are never touched, so a real name ("Iran") is never turned
// into another one ("Iraq").
func (e *Engine) correct(ctx context.Context, snap *snapshot.Snapshot, p query.Params) (query.Params, []Correction, error) {
	r := snap.Reader()
	fuzzy, ok := r.(bindex.IndexReaderFuzzy)
	if !ok {
		return p, nil, nil // this index kind cannot enumerate near terms
	}
	df := func(term string) (uint64, error) {
		var total uint64
		for _, field := range []string{newsdesk.FieldText} {
			tfr, err := r.TermFieldReader(ctx, []byte(term), field, false, false, false)
			if err != nil {
				return 0, err
			}
			total += tfr.Count()
			tfr.Close()
		}
		return total, nil
	}
	fixed := p
	fixed.Query.Clauses = append([]query.Clause(nil), p.Query.Clauses...)
	var corr []Correction
	for i, c := range fixed.Query.Clauses {
		if c.Kind != query.Word || c.Negated {
			continue
		}
		toks, err := query.Tokens(e.m, c.Text)
		if err != nil || len(toks) != 1 {
			continue // a stop word, or a word of several terms: leave it
		}
		tok := toks[0]
		if n, err := df(tok); err != nil {
			return p, nil, fmt.Errorf("correct: %w", err)
		} else if n > 0 {
			continue // the index has it as typed
		}
		fuzz := Fuzziness(utf8.RuneCountInString(tok))
		if fuzz == 0 {
			continue
		}
		best, bestDist, bestCount := "", fuzz+1, uint64(0)
		dict, err := fuzzy.FieldDictFuzzy(newsdesk.FieldText, tok, fuzz, "")
		if err != nil {
			return p, nil, fmt.Errorf("correct: %w", err)
		}
		var near []string
		for entry, err := dict.Next(); err == nil && entry != nil; entry, err = dict.Next() {
			near = append(near, entry.Term)
		}
		dict.Close()
		for _, term := range near {
			d := levenshtein(tok, term)
			if d > bestDist {
				continue
			}
			n, err := df(term) // the fuzzy dictionary's own counts are not per term
			if err != nil {
				return p, nil, fmt.Errorf("correct: %w", err)
			}
			if d < bestDist || n > bestCount {
				best, bestDist, bestCount = term, d, n
			}
		}
		if best == "" {
			continue
		}
		fixed.Query.Clauses[i].Text = best
		corr = append(corr, Correction{From: c.Text, To: best})
	}
	return fixed, corr, nil
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
