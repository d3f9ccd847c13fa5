package search

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/build"
	"github.com/newsdesk/newsdesk/mappings"
	"github.com/newsdesk/newsdesk/query"
	"github.com/newsdesk/newsdesk/testindex"
)

// TestWalkLists_SameAsCursors: the ranked walk's loops over the lists'
// arrays (walkLists, walkForms, with their bar) answer exactly as the
// general loop does: the same totals, events, scores and order, walked
// whole or in parts at once (walkListsSplit), on an index of several
// segments with deleted events, with and without
// filters, date ranges and facets (which the general loop serves), for
// pages of several sizes.
func TestWalkLists_SameAsCursors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	// Words of very different frequencies, repeated in some events, in
	// texts of very different lengths: bars and leapfrogs both matter.
	vocab := []string{"harbour", "strike", "storm", "council", "vote", "border", "talks", "flood", "mayor", "court",
		"ruling", "rail", "bridge", "fire", "league", "final", "pact", "summit", "quake", "drought",
		// Places, whose other forms (Syrian for Syria) a word also finds.
		"syria", "syrian", "ukraine", "ukrainian", "israel", "israeli"}
	var lines []string
	for i := range 1500 {
		n := 3 + rng.IntN(25)
		var words []string
		for range n {
			// Zipf-like: the first words are far commoner.
			w := vocab[min(len(vocab)-1, int(rng.ExpFloat64()*6))]
			words = append(words, w)
		}
		e := newsdesk.Event{Date: fmt.Sprintf("20%02d-%02d-%02d", 10+i%12, 1+i%12, 1+i%28), Text: strings.Join(words, " ") + ".",
			Category: []string{"Sports", "Politics and elections", ""}[i%3]}
		e.ID = newsdesk.NewID(e.Date, fmt.Sprintf("%d %s", i, e.Text))
		b, _ := json.Marshal(e)
		lines = append(lines, string(b))
	}
	// A rare word with a commoner one, each once in most events and the
	// commoner many times in a few late ones: those lead the page on the
	// commoner word alone, and a bound that underrates it would skip them.
	for i := range 600 {
		text := "alpha beta gamma delta epsilon zeta eta theta iota kappa."
		switch {
		case i%97 == 96:
			text = "alpha beta beta beta beta beta beta beta beta."
		case i%3 == 2:
			text = "beta omega." // beta commoner than alpha: alpha leads
		}
		e := newsdesk.Event{Date: fmt.Sprintf("2015-%02d-%02d", 1+i%12, 1+i%28), Text: text}
		e.ID = newsdesk.NewID(e.Date, fmt.Sprintf("greek %d %s", i, text))
		b, _ := json.Marshal(e)
		lines = append(lines, string(b))
	}
	x := indexLines(t, lines, 400)
	// Delete some events, and add some, so that the working copy has
	// deletions and a second segment.
	batch := x.Index.NewBatch()
	for i := 0; i < 1500; i += 7 {
		var e newsdesk.Event
		json.Unmarshal([]byte(lines[i]), &e)
		batch.Delete(e.ID)
	}
	for i := range 60 {
		e := newsdesk.Event{Date: "2024-05-05", Text: fmt.Sprintf("storm harbour strike talks number %d.", i)}
		e.ID = newsdesk.NewID(e.Date, e.Text)
		doc, _ := mappings.NewDoc(&e)
		if err := batch.Index(e.ID, doc); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.Index.Batch(batch); err != nil {
		t.Fatal(err)
	}
	if err := x.Source.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := engineOver(t, x)
	defer func(old bool) { listWalk = old }(listWalk)
	queries := append(slices.Clone(vocab), "harbour strike", "strike harbour storm", "council vote", "quake drought", "summit pact final",
		// A year typed boosts its events.
		"harbour 2015", "storm strike 2012", "march 2019 harbour", "syria 2011", "syrian harbour", "harbour ukraine",
		"alpha beta", "beta alpha gamma",
		// A prefix is one word of the terms it begins (a heap of lists
		// past heapForms).
		"har*", "sto* strike", "syr*", "bet* alpha")
	for _, q := range queries {
		from, to := time.Date(2012, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2016, 6, 30, 0, 0, 0, 0, time.UTC)
		for _, r := range []Request{{Q: q, Size: 10}, {Q: q, Size: 1}, {Q: q, Size: 3}, {Q: q, Size: 50}, {Q: q, Size: 10, Categories: []string{"Sports"}},
			{Q: q, Size: 5, Page: 2}, {Q: q, Size: 10, From: from, To: to}, {Q: q, Size: 3, From: from}, {Q: q, Size: 10, Facets: 5}} {
			fasts, slow := bothWalks(t, x, e, r)
			for si, fast := range fasts {
				sp := walks[si]
				if fast.Total != slow.Total || len(fast.Hits) != len(slow.Hits) {
					t.Fatalf("%q size %d, split %v: %d hits of %d, want %d of %d", q, r.Size, sp, len(fast.Hits), fast.Total, len(slow.Hits), slow.Total)
				}
				for i := range fast.Hits {
					if fast.Hits[i].ID != slow.Hits[i].ID || fast.Hits[i].Score != slow.Hits[i].Score {
						t.Errorf("%q size %d, split %v, hit %d: %s %v, want %s %v", q, r.Size, sp, i+1, fast.Hits[i].ID, fast.Hits[i].Score, slow.Hits[i].ID, slow.Hits[i].Score)
					}
				}
			}
		}
	}
}

// TestRangeWalk_SameAsVisit: a date range alone, by date, answers the same
// through its walk of the day column's blocks as through the visit of
// every match, newest and oldest first, by pages and by cursors, in an
// index numbered out of date order with many events a day.
func TestRangeWalk_SameAsVisit(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var lines []string
	for i := range 1200 {
		// Mostly in date order, as a build of the corpus numbers events,
		// with some out of it, as a second file's are; 30 events a day.
		day := i / 30
		if rng.IntN(10) == 0 {
			day = rng.IntN(40)
		}
		e := newsdesk.Event{Date: fmt.Sprintf("2020-%02d-%02d", 1+day/28, 1+day%28), Text: fmt.Sprintf("Event %d of the day.", i)}
		e.ID = newsdesk.NewID(e.Date, e.Text)
		b, _ := json.Marshal(e)
		lines = append(lines, string(b))
	}
	x := indexLines(t, lines, 300)
	e := engineOver(t, x)
	defer func(old bool) { rangeWalk = old }(rangeWalk)
	day := func(m, d int) time.Time { return time.Date(2020, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
	ask := func(r Request) *Result {
		t.Helper()
		res, err := e.Search(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for _, rg := range [][2]time.Time{{day(1, 1), day(2, 28)}, {day(1, 10), day(1, 12)}, {day(1, 5), day(1, 5)}, {day(2, 1), day(12, 31)}} {
		for _, sort := range []query.Sort{query.SortDate, query.SortDateDesc} {
			for _, size := range []int{1, 10, 45} {
				r := Request{From: rg[0], To: rg[1], Sort: sort, Size: size}
				for page := 0; page < 4; page++ {
					rangeWalk = true
					fast := ask(r)
					rangeWalk = false
					slow := ask(r)
					if fast.Total != slow.Total || len(fast.Hits) != len(slow.Hits) || fast.NextCursor != slow.NextCursor {
						t.Fatalf("%v-%v %v size %d page %d: %d hits of %d, want %d of %d", rg[0], rg[1], sort, size, page, len(fast.Hits), fast.Total, len(slow.Hits), slow.Total)
					}
					for i := range fast.Hits {
						if fast.Hits[i].ID != slow.Hits[i].ID {
							t.Fatalf("%v-%v %v size %d page %d, hit %d: %s, want %s", rg[0], rg[1], sort, size, page, i+1, fast.Hits[i].ID, slow.Hits[i].ID)
						}
					}
					if slow.NextCursor == "" {
						break
					}
					r.Cursor = slow.NextCursor
				}
				// An offset page.
				r = Request{From: rg[0], To: rg[1], Sort: sort, Size: size, Page: 3}
				rangeWalk = true
				fast := ask(r)
				rangeWalk = false
				slow := ask(r)
				if fast.Total != slow.Total || len(fast.Hits) != len(slow.Hits) || (len(fast.Hits) > 0 && fast.Hits[0].ID != slow.Hits[0].ID) {
					t.Errorf("%v-%v %v size %d, page 3: differs", rg[0], rg[1], sort, size)
				}
			}
		}
	}
}

// indexLines builds the events of lines (JSON, one each) into an index of
// segments of batch events, closed with the test.
func indexLines(t *testing.T, lines []string, batch int) *testindex.Index {
	t.Helper()
	file := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	x, err := testindex.NewWith(t.TempDir(), build.Config{Files: []string{file}, BatchSize: batch})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return x
}

// walks are the ways the fast loops (listWalk) and the general one are
// tried: whole (the fixture's lists are short), and split into 2 and 3
// parts of a few postings or events (split).
var walks = []struct {
	list         bool
	chunk, parts int
	heap         int // heapForms: 1 walks every word of several lists by a heap
}{{true, 1 << 30, 2, 8}, {true, 8, 2, 8}, {true, 5, 3, 8}, {false, 8, 2, 8}, {false, 5, 3, 8}, {true, 1 << 30, 2, 1}, {true, 5, 3, 1}}

// bothWalks answers r in each of walks, and by the general loop unsplit,
// from one snapshot: the working copy merges its segments in the
// background, and a merge drops deleted events from the words'
// frequencies, which moves the scores.
func bothWalks(t *testing.T, x *testindex.Index, e *Engine, r Request) (fast []*Result, slow *Result) {
	t.Helper()
	epoch := func() uint64 {
		s := x.Source.Acquire()
		defer s.Release()
		return s.Epoch
	}
	defer func(chunk int, parts func() int, heap int) { walkChunk, walkParts, heapForms = chunk, parts, heap }(walkChunk, walkParts, heapForms)
	ask := func(list bool, chunk, parts, heap int) *Result {
		listWalk, walkChunk, walkParts, heapForms = list, chunk, func() int { return parts }, heap
		res, err := e.Search(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for {
		before := epoch()
		fast = fast[:0]
		for _, w := range walks {
			fast = append(fast, ask(w.list, w.chunk, w.parts, w.heap))
		}
		slow = ask(false, 1, 1, 8)
		if epoch() == before {
			return fast, slow
		}
	}
}
