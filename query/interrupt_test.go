package query

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/mappings"
)

// TestInterruptible walks the searchers of phrase and prefix clauses over
// an index where every event matches, cancels the context half-way, and
// checks that the walk stops with the context's error within
// InterruptEvery steps of a posting list; a search left alone walks to the
// end, with the same scores as without the wrapper. Both kinds of index
// reader are tried: scorch (a BM25Reader, as newsdesk's indexes) and
// Bleve's in-memory upsidedown.
func TestInterruptible(t *testing.T) {
	for _, kind := range []string{"scorch", "memory"} {
		t.Run(kind, func(t *testing.T) { testInterruptible(t, kind == "memory") })
	}
}

func testInterruptible(t *testing.T, memory bool) {
	m := mappings.New()
	idx, err := bleve.New(t.TempDir(), m)
	if memory {
		idx, err = bleve.NewMemOnly(m)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	const n = 1000
	b := idx.NewBatch()
	for i := range n {
		e := newsdesk.Event{ID: fmt.Sprintf("2019-01-01/e-%d", i), Date: "2019-01-01", Text: fmt.Sprintf("The united states statement number %d.", i)}
		doc, err := mappings.NewDoc(&e)
		if err != nil {
			t.Fatal(err)
		}
		b.Index(e.ID, doc)
	}
	if err := idx.Batch(b); err != nil {
		t.Fatal(err)
	}
	ix, _ := idx.Advanced()
	reader, err := ix.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	for _, c := range []Clause{{Kind: Phrase, Text: "united states"}, {Kind: Prefix, Text: "stat"}} {
		t.Run(c.Text, func(t *testing.T) {
			q, err := clauseQuery(m, c, Params{})
			if err != nil {
				t.Fatal(err)
			}
			walk := func(ctx context.Context, cancelAt int, cancel func()) (int, []float64, error) {
				s, err := q.Searcher(ctx, reader, m, search.SearcherOptions{})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				sc := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(s.DocumentMatchPoolSize(), 0)}
				var scores []float64
				for i := 0; ; i++ {
					if i == cancelAt {
						cancel()
					}
					dm, err := s.Next(sc)
					if err != nil || dm == nil {
						return i, scores, err
					}
					scores = append(scores, dm.Score)
				}
			}
			got, scores, err := walk(context.Background(), -1, nil)
			if err != nil || got != n {
				t.Fatalf("uncancelled walk: %d matches, %v; want %d", got, err, n)
			}
			// The wrapper changes no score.
			inner := q.(interruptible).Query
			s, _ := inner.Searcher(context.Background(), reader, m, search.SearcherOptions{})
			sc := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(s.DocumentMatchPoolSize(), 0)}
			for i := 0; ; i++ {
				dm, _ := s.Next(sc)
				if dm == nil {
					break
				}
				if dm.Score != scores[i] {
					t.Fatalf("match %d scores %v wrapped, %v unwrapped", i, scores[i], dm.Score)
				}
			}
			s.Close()

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stopped, _, err := walk(ctx, 100, cancel)
			if !errors.Is(err, context.Canceled) || stopped > 100+InterruptEvery {
				t.Errorf("cancelled at match 100: stopped at %d with %v, want context.Canceled within %d matches", stopped, err, InterruptEvery)
			}
		})
	}
}
