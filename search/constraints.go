package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	bquery "github.com/blevesearch/bleve/v2/search/query"

	"github.com/newsdesk/newsdesk/query"
	"github.com/newsdesk/newsdesk/snapshot"
)

// eventSet holds document numbers, a bit each.
type eventSet []uint64

func (s eventSet) has(n uint64) bool { return n/64 < uint64(len(s)) && s[n/64]&(1<<(n%64)) != 0 }

// matchSet returns the events q matches on snap, and how many. The
// snapshot keeps them for the next request of the same query (Memo):
// Bleve reads a phrase's positions in every event with its words, and
// covid19 (its parts covid and 19 in a row: codeTerms) took 14 ms each
// time on the corpus, "covid 19" quoted as long, against 0.2 ms for the
// words alone.
func (e *Engine) matchSet(ctx context.Context, snap *snapshot.Snapshot, q bquery.Query) (eventSet, uint64, error) {
	match := func() (any, error) {
		set := make(eventSet, (snap.Size()+63)/64)
		n, err := snap.VisitMatches(ctx, q, e.m, func(n uint64) { set[n/64] |= 1 << (n % 64) })
		if err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		return matches{set, n}, nil
	}
	var v any
	key, err := json.Marshal(q)
	if err == nil {
		v, err = snap.Memo("matches\x00"+string(key), match)
	} else {
		v, err = match() // a query Bleve cannot write out is matched each time
	}
	if err != nil {
		return nil, 0, err
	}
	m := v.(matches)
	return m.set, m.n, nil
}

// matches are what matchSet keeps of a query.
type matches struct {
	set eventSet
	n   uint64
}

// constraints returns accept (nil: every event) narrowed to the events
// Bleve's query of p's clauses matches, without the filters: those with
// each phrase (its words in a row, in any spelling), each field term and
// every word and prefix, and none of the excluded clauses (a place with
// its other forms). The ranked walk scores a phrase's words as words;
// which events have them in a row, have a field term, or have none of an
// excluded clause, it cannot tell by its lists. One query, whose conjunction reads a common phrase's
// positions only where the other clauses are (a set of the phrase alone
// made "united states" election 11 -> 25 ms).
//
// It returns nil when no event has every clause: Bleve's query answers
// then, relaxed to any clause, without a walk that would find none.
func (e *Engine) constraints(ctx context.Context, snap *snapshot.Snapshot, p query.Params, accept func(uint64) bool) (func(uint64) bool, error) {
	q, err := query.KeywordQuery(e.m, query.Params{Query: p.Query, Variants: p.Variants, VariantWeight: p.VariantWeight, Spellings: p.Spellings})
	if errors.Is(err, query.ErrNothingToMatch) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	set, n, err := e.matchSet(ctx, snap, q)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	return func(n uint64) bool { return set.has(n) && (accept == nil || accept(n)) }, nil
}
