package related

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/mappings"
	"github.com/newsdesk/newsdesk/query"
	"github.com/newsdesk/newsdesk/snapshot"
	"github.com/newsdesk/newsdesk/testindex"
)

// TestBest_SameAsAll checks best, which skips the events whose block of
// days cannot weigh enough to enter, against weighing every event: the
// same k best, ties in event order, also when the events are cut into
// ranges whose best are merged. The events are numbered in date
// order, as a build numbers them, but for a run out of order (a block
// spanning years), over several blocks of 64.
func TestBest_SameAsAll(t *testing.T) {
	day0 := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	var events []map[string]any
	for i := range 400 {
		d := day0.AddDate(0, 0, i/5*15) // five events a day: ties across blocks
		if i >= 150 && i < 170 {
			d = day0.AddDate(i-150, 0, 0) // out of order
		}
		date := d.Format("2006-01-02")
		events = append(events, map[string]any{"id": fmt.Sprintf("%s/event-%d", date, i), "date": date, "text": fmt.Sprintf("Event %d happens.", i)})
	}
	snap := openEvents(t, events)
	rk := New(mappings.New())
	rng := rand.New(rand.NewPCG(1, 1))
	// A walk from the source's place outward (nearWords) of one word of
	// the bit set each side, and of more than the index.
	defer func(n int) { nearWords = n }(nearWords)
	for _, near := range []int{1, 16} {
		nearWords = near
		for _, tc := range []struct {
			name   string
			day    int32
			k      int
			lo, hi int32
			num    uint64 // the source's event, when it is one (not 0)
		}{
			{"early source, k 1", snapshot.DayNumber(day0.AddDate(0, 0, 10)), 1, snapshot.DayNumber(query.FirstDay), snapshot.DayNumber(query.LastDay), 0},
			{"middle source, k 5", snapshot.DayNumber(day0.AddDate(0, 0, 600)), 5, snapshot.DayNumber(query.FirstDay), snapshot.DayNumber(query.LastDay), 0},
			{"late source, k 20", snapshot.DayNumber(day0.AddDate(3, 0, 0)), 20, snapshot.DayNumber(query.FirstDay), snapshot.DayNumber(query.LastDay), 0},
			{"middle source, days limited", snapshot.DayNumber(day0.AddDate(0, 0, 600)), 5, snapshot.DayNumber(day0.AddDate(0, 0, 300)), snapshot.DayNumber(day0.AddDate(0, 0, 900)), 0},
			{"no source date", snapshot.NoDay, 5, snapshot.DayNumber(query.FirstDay), snapshot.DayNumber(query.LastDay), 0},
			{"indexed source, k 60", 0, 60, snapshot.DayNumber(query.FirstDay), snapshot.DayNumber(query.LastDay), 100},
			{"indexed source, k 10", 0, 10, snapshot.DayNumber(query.FirstDay), snapshot.DayNumber(query.LastDay), 250},
			{"indexed source among the out of order, k 5", 0, 5, snapshot.DayNumber(query.FirstDay), snapshot.DayNumber(query.LastDay), 160},
		} {
			t.Run(fmt.Sprintf("%s, near %d", tc.name, near), func(t *testing.T) {
				run := &run{Ranker: rk, snap: snap, w: DefaultWeights, docs: float64(snap.Docs()), posts: map[string]*snapshot.Postings{}}
				src := &source{day: tc.day}
				if tc.num != 0 {
					src.num, src.indexed, src.day = tc.num, true, snap.Day(tc.num)
				}
				for trial := range 20 {
					sc := getScores(int(snap.Size()))
					for n := range snap.Size() {
						if rng.IntN(3) > 0 {
							// Few distinct scores: ties.
							sc.add(n, float64(rng.IntN(8)+1))
						}
					}
					got := run.best(sc, sc.touched, src, tc.lo, tc.hi, tc.k, allEvents)
					// Cut into ranges of events, as a pass cuts a long one, and
					// their best merged: the same.
					var cut []cand
					for _, r := range []eventRange{{0, 128}, {128, 192}, {192, math.MaxUint64}} {
						cut = append(cut, run.best(sc, sc.touched, src, tc.lo, tc.hi, tc.k, r)...)
					}
					slices.SortFunc(cut, bestFirst)
					cut = cut[:min(len(cut), tc.k)]
					var all []cand
					for n := range snap.Size() {
						if sc.touched[n>>6]&(1<<(n&63)) == 0 || !snap.Live(n) || (src.indexed && n == src.num) {
							continue
						}
						day := snap.Day(n)
						if day < tc.lo || day > tc.hi {
							continue
						}
						s := float64(sc.score[n])
						if src.day != snapshot.NoDay {
							apart := int(day - src.day)
							s *= float64(run.priorTable()[max(apart, -apart)])
						}
						all = append(all, cand{num: n, s1: s})
					}
					slices.SortStableFunc(all, func(a, b cand) int { return cmp.Compare(b.s1, a.s1) })
					want := all[:min(tc.k, len(all))]
					same := func(a, b cand) bool { return a.num == b.num && a.s1 == b.s1 }
					if !slices.EqualFunc(got, want, same) {
						t.Fatalf("trial %d: best %v, want %v", trial, got, want)
					}
					if !slices.EqualFunc(cut, want, same) {
						t.Fatalf("trial %d: best of three ranges %v, want %v", trial, cut, want)
					}
					sc.reset()
					if slices.ContainsFunc(sc.score, func(f float32) bool { return f != 0 }) || slices.ContainsFunc(sc.touched, func(b uint64) bool { return b != 0 }) {
						t.Fatal("reset left scores or bits")
					}
					scoresPool.Put(sc)
				}
			})
		}
	}
}

// TestBest_TiesAcrossTheWalk: of events alike in score and day, the
// earliest is the best, though the walk from the source's place meets a
// later one first: 200 events of one day and one score, the source the
// 150th, one word of the bit set each side walked first (events 64-191),
// the best one asked for. Letting an equal score pass over the heap's
// root, on the score or the block's bound, kept event 64.
func TestBest_TiesAcrossTheWalk(t *testing.T) {
	var events []map[string]any
	for i := range 200 {
		events = append(events, map[string]any{"id": fmt.Sprintf("2015-01-01/event-%03d", i), "date": "2015-01-01", "text": fmt.Sprintf("Event %d happens.", i)})
	}
	snap := openEvents(t, events)
	defer func(n int) { nearWords = n }(nearWords)
	nearWords = 1
	run := &run{Ranker: New(mappings.New()), snap: snap, w: DefaultWeights, docs: float64(snap.Docs()), posts: map[string]*snapshot.Postings{}}
	src := &source{num: 150, indexed: true, day: snap.Day(150)}
	sc := getScores(int(snap.Size()))
	defer scoresPool.Put(sc)
	defer sc.reset()
	for n := range snap.Size() {
		sc.add(n, 1)
	}
	got := run.best(sc, sc.touched, src, snapshot.DayNumber(query.FirstDay), snapshot.DayNumber(query.LastDay), 1, allEvents)
	if len(got) != 1 || got[0].num != 0 {
		t.Errorf("best %v, want event 0, the earliest of the equal", got)
	}
}

// TestPass_SameInParts checks that a pass cut into parts of the events,
// done at once, gives the lists one pass gives: by id and as drafts (whose
// tags are adopted, a second pass), over events numbered across several
// ranges of 64.
func TestPass_SameInParts(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 3))
	words := []string{"strike", "harbour", "talks", "union", "flood", "river", "election", "vote", "minister", "court",
		"trial", "storm", "ceasefire", "rebels", "border", "protest", "budget", "tax", "vaccine", "outbreak"}
	places := []string{"Elba", "Mozambique", "Peru", "Nepal", "Chile"}
	day0 := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	var events []map[string]any
	for i := range 500 {
		date := day0.AddDate(0, 0, i*2+rng.IntN(30)).Format("2006-01-02")
		story := rng.IntN(6)
		text := places[story%len(places)]
		for range 6 + rng.IntN(8) {
			text += " " + words[(story*3+rng.IntN(8))%len(words)]
		}
		events = append(events, map[string]any{"id": fmt.Sprintf("%s/event-%d", date, i), "date": date, "text": text + ".",
			"topic": fmt.Sprintf("Story %d", story), "context": []string{fmt.Sprintf("Story %d", story), places[rng.IntN(len(places))]}})
	}
	snap := openEvents(t, events)
	rk := New(mappings.New())
	lists := func(parts int) []string {
		oldParts, oldPostings := passParts, partPostings
		passParts, partPostings = func() int { return parts }, 1
		defer func() { passParts, partPostings = oldParts, oldPostings }()
		var out []string
		for n := uint64(0); n < snap.Size(); n += 37 {
			ev, err := snap.EventAt(context.Background(), n)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range []Request{{ID: ev.ID, Size: 10}, {Draft: &Draft{Text: ev.Text, Date: ev.Date, ID: ev.ID}, Size: 10}} {
				items, err := rk.Related(context.Background(), snap, r)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := json.Marshal(items)
				out = append(out, string(b))
			}
		}
		return out
	}
	one := lists(1)
	for _, parts := range []int{2, 3, 5} {
		if got := lists(parts); !slices.Equal(got, one) {
			for i := range got {
				if got[i] != one[i] {
					t.Fatalf("%d parts: list %d\n%s\nwant\n%s", parts, i, got[i], one[i])
				}
			}
		}
	}
}

// openEvents indexes events, written as the lines of an input file, and
// returns a snapshot of the index, released when the test ends.
func openEvents(t *testing.T, events []map[string]any) *snapshot.Snapshot {
	t.Helper()
	file := filepath.Join(t.TempDir(), "events.jsonl")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(f, "%s\n", b)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	x := testindex.Open(t, file)
	snap := x.Source.Acquire()
	t.Cleanup(snap.Release)
	return snap
}

// TestRelated_WidenedPastDuplicates: when near-duplicates take the
// candidates (a story's heading filed alone on many days, as the portal
// files "War in Afghanistan" on 227), the list is made again from more
// of them, and is full while events remain.
func TestRelated_WidenedPastDuplicates(t *testing.T) {
	day0 := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
	var events []map[string]any
	for i := range 150 {
		date := day0.AddDate(0, 0, i).Format("2006-01-02")
		events = append(events, map[string]any{"id": fmt.Sprintf("%s/war-in-afghanistan", date), "date": date, "text": "War in Afghanistan",
			"topic": "War in Afghanistan", "context": []string{"War in Afghanistan"}})
	}
	for i := range 30 {
		date := day0.AddDate(0, 0, 3*i+1).Format("2006-01-02")
		events = append(events, map[string]any{"id": fmt.Sprintf("%s/attack-%d", date, i), "date": date,
			"text":  fmt.Sprintf("Taliban fighters attack a checkpoint in province %d, and the war in Afghanistan goes on with %d soldiers killed.", i, i+2),
			"topic": "War in Afghanistan", "context": []string{"War in Afghanistan"}})
	}
	// Other stories, so that the war's words and tag are specific.
	for i := range 1500 {
		date := day0.AddDate(0, 0, i).Format("2006-01-02")
		events = append(events, map[string]any{"id": fmt.Sprintf("%s/budget-%d", date, i), "date": date,
			"text": fmt.Sprintf("Parliament debates budget item %d of the fiscal plan.", i), "topic": "Budget", "context": []string{"Budget"}})
	}
	snap := openEvents(t, events)
	rk := New(mappings.New())
	for _, r := range []Request{
		{Draft: &Draft{Text: "War in Afghanistan"}, Size: 10},
		{ID: "2010-02-01/war-in-afghanistan", Size: 10},
	} {
		items, err := rk.Related(context.Background(), snap, r)
		if err != nil {
			t.Fatal(err)
		}
		stubs := 0
		for _, it := range items {
			if strings.HasSuffix(it.ID, "/war-in-afghanistan") {
				stubs++
			}
		}
		if len(items) != 10 || stubs > 1 {
			t.Errorf("%+v: %d items, %d of them the heading alone; want 10, at most 1", r, len(items), stubs)
		}
	}
}
