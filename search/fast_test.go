package search

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/mappings"
	"github.com/newsdesk/newsdesk/testindex"
)

// fixtureEngine builds testdata/events.jsonl into a temporary index.
func fixtureEngine(t *testing.T) *Engine {
	t.Helper()
	idx := testindex.Open(t, "testdata/events.jsonl")
	e, err := New(idx.Source, mappings.New(), idx.Index.Legacy)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestFastPath_MatchesBleve checks that the legacy fast path (BM25 over
// the text, as a generation of the legacy mapping ranks) finds the same
// events, in the same order, as Bleve: on the fixture, and with -index on
// a real index for the benchmark's queries.
func TestFastPath_MatchesBleve(t *testing.T) {
	var e *Engine
	var queries []string
	if *benchIndex != "" {
		e = openIndex(t, *benchIndex)
		queries = benchQueries(e.Names(), 500)
	} else {
		e = fixtureEngine(t)
		queries = []string{"astana", "peace talks", "cyclone", "world cup", "stock markets", "iran", "mosul iraq", "the cyclone", "covid", "trading day number"}
	}
	from := time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2019, 3, 16, 0, 0, 0, 0, time.UTC)
	variants := []func(r *Request){
		func(r *Request) {},
		func(r *Request) { r.From, r.To = from, to },
		func(r *Request) { r.Size, r.Page = 7, 2 },
		func(r *Request) { r.Categories = []string{"Politics and elections", "Sports"} },
		func(r *Request) { r.Contexts = []string{"Astana", "Mozambique", "Syrian Civil War"} },
		func(r *Request) { r.Q += " zebra" },
		func(r *Request) { r.From, r.To = from, to; r.Q += " zebra" },
	}
	checked := 0
	for _, q := range queries {
		for vi, v := range variants {
			r := Request{Q: q}
			v(&r)
			snap := e.src.Acquire()
			defer snap.Release()
			p, err := e.params(snap, e.Names(), r)
			if err != nil {
				t.Fatal(err)
			}
			p.AnyWord = strings.HasSuffix(r.Q, " zebra") // the relaxed search Search falls back to
			if _, ok := e.fastPlanFor(snap, p); !ok {
				continue
			}
			fast, _, err := e.runFast(context.Background(), snap, p, vi%2 == 0)
			if err != nil {
				t.Fatal(err)
			}
			e.noFast = true
			slow, err := e.run(context.Background(), snap, e.Names(), p, vi%2 == 0)
			e.noFast = false
			if err != nil {
				t.Fatal(err)
			}
			checked++
			name := fmt.Sprintf("%q variant %d", q, vi)
			if fast.total != slow.total || len(fast.hits) != len(slow.hits) {
				t.Errorf("%s: fast %d hits of %d, Bleve %d of %d", name, len(fast.hits), fast.total, len(slow.hits), slow.total)
				continue
			}
			for i := range fast.hits {
				f, s := fast.hits[i], slow.hits[i]
				// Equal scores may come in either order; the scores must agree.
				if f.num != s.num && math.Abs(f.score/fast.hits[0].score-s.score/slow.hits[0].score) > 1e-9 {
					t.Errorf("%s: hit %d is %d (%.6f), Bleve has %d (%.6f)", name, i, f.num, f.score, s.num, s.score)
					break
				}
			}
			var n uint64
			if err := fast.visit(context.Background(), func(uint64) { n++ }); err != nil || n != slow.total {
				t.Errorf("%s: the fast path visits %d matches (%v), Bleve counts %d", name, n, err, slow.total)
			}
		}
	}
	if checked < len(queries) {
		t.Errorf("only %d query variants went through the fast path", checked)
	}
	t.Logf("%d query variants compared", checked)
}
