package serving

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/mappings"
	"github.com/newsdesk/newsdesk/search"
)

// publish builds a generation of 200 events whose text carries marker.
func publish(t *testing.T, d *index.Dir, marker string, other bool) string {
	t.Helper()
	m := mappings.New()
	if other {
		m.DefaultAnalyzer = "standard" // a mapping this code does not serve
	}
	b, err := d.NewBuilder(index.BuildConfig{Mapping: m, BatchSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		e := newsdesk.Event{Date: fmt.Sprintf("2020-01-%02d", 1+i%28), Text: fmt.Sprintf("Event %d about the harbour strike, edition %s.", i, marker)}
		e.ID = newsdesk.NewID(e.Date, e.Text)
		doc, err := mappings.NewDoc(&e)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Add(e.ID, doc); err != nil {
			t.Fatal(err)
		}
	}
	g, err := b.Publish(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return g.Name
}

// serve publishes a generation carrying marker in a new directory and
// serves it, until the test ends.
func serve(t *testing.T, marker string) (*index.Dir, *Server) {
	t.Helper()
	d, _ := index.NewDir(t.TempDir())
	publish(t, d, marker, false)
	srv := New(Config{Dir: d, Grace: 10 * time.Millisecond})
	t.Cleanup(func() { srv.Close() })
	if _, err := srv.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d, srv
}

// TestSwapUnderLoad searches from 8 goroutines without pause while 10
// new generations are published and swapped in: no search may fail, and
// the answers must switch to each new generation's data.
func TestSwapUnderLoad(t *testing.T) {
	d, err := index.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	publish(t, d, "gen0", false)
	srv := New(Config{Dir: d, Grace: 300 * time.Millisecond})
	defer srv.Close()
	if _, err := srv.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	var searches, failures atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				res, err := srv.Engine().Search(context.Background(), search.Request{Q: "harbour strike", Size: 5, Facets: 3})
				searches.Add(1)
				if err != nil || res.Total != 200 {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%v (total %v)", err, res))
				}
			}
		}()
	}
	for i := 1; i <= 10; i++ {
		marker := fmt.Sprintf("gen%d", i)
		name := publish(t, d, marker, false)
		res, err := srv.Load(context.Background())
		if err != nil || !res.Swapped || res.Generation != name {
			t.Fatalf("load of %s: %+v, %v", name, res, err)
		}
		got, err := srv.Engine().Search(context.Background(), search.Request{Q: marker})
		if err != nil || got.Total != 200 {
			t.Fatalf("after swapping in %s, %q finds %v (%v)", name, marker, got, err)
		}
		old, _ := srv.Engine().Search(context.Background(), search.Request{Q: fmt.Sprintf("gen%d", i-1)})
		if old.Total != 0 && len(old.Corrections) == 0 { // (a correction to the new marker is fine)
			t.Errorf("after swapping in %s the previous generation's data still answers", name)
		}
	}
	stop()
	wg.Wait()
	if failures.Load() > 0 {
		t.Errorf("%d of %d searches failed during the swaps; first: %v", failures.Load(), searches.Load(), firstErr.Load())
	}
	t.Logf("%d searches during 10 swaps, %d failed", searches.Load(), failures.Load())
}

func TestRefusedGeneration(t *testing.T) {
	d, _ := index.NewDir(t.TempDir())
	good := publish(t, d, "good", false)
	var swaps []string
	srv := New(Config{Dir: d, Grace: 10 * time.Millisecond, OnSwap: func(g string, err error) {
		swaps = append(swaps, fmt.Sprintf("%s:%v", g, err == nil))
	}})
	defer srv.Close()
	if _, err := srv.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	bad := publish(t, d, "bad", true)
	res, err := srv.Load(context.Background())
	if err == nil || res.Swapped || srv.Generation() != good {
		t.Fatalf("load of a generation with another mapping: %+v, %v; serving %s", res, err, srv.Generation())
	}
	if f := srv.Failed(); !strings.Contains(f, bad) || !strings.Contains(f, "mapping") {
		t.Errorf("Failed() = %q", f)
	}
	if got, _ := srv.Engine().Search(context.Background(), search.Request{Q: "good"}); got.Total != 200 {
		t.Errorf("the good generation stopped answering: %v", got)
	}
	// A rollback publishes the good one again: the failure clears.
	if _, _, err := d.Rollback(); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Load(context.Background()); err != nil || srv.Failed() != "" {
		t.Errorf("after rollback: %v, failed %q", err, srv.Failed())
	}
	if len(swaps) != 2 || !strings.HasSuffix(swaps[0], ":true") || !strings.HasSuffix(swaps[1], ":false") {
		t.Errorf("swap reports = %v", swaps)
	}
}

func TestWatch(t *testing.T) {
	d, srv := serve(t, "first")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Watch(ctx, 20*time.Millisecond, nil)
	next := publish(t, d, "second", false)
	deadline := time.Now().Add(10 * time.Second)
	for srv.Generation() != next {
		if time.Now().After(deadline) {
			t.Fatalf("Watch did not swap in %s; serving %s", next, srv.Generation())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestUpdate_AppliedJournaledRebuilt(t *testing.T) {
	d, _ := index.NewDir(t.TempDir())
	publish(t, d, "base", false)
	srv := New(Config{Dir: d, Grace: 10 * time.Millisecond})
	if _, err := srv.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	fresh := newsdesk.Event{ID: "2020-02-01/a-flamingo-escapes", Date: "2020-02-01", Text: "A flamingo escapes from the zoo.", Context: []string{"Zoo"}}
	victim := newsdesk.NewID("2020-01-01", "Event 0 about the harbour strike, edition base.")
	results, err := srv.Update(context.Background(), []index.Update{{Upsert: &fresh}, {Delete: victim}, {Delete: "2020-01-01/never-there"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(results, ",") != "created,deleted,not_found" {
		t.Errorf("results = %v", results)
	}
	search := func(q string, facets bool) *search.Result {
		t.Helper()
		r := search.Request{Q: q}
		if facets {
			r.Facets = 5
		}
		res, err := srv.Engine().Search(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := search("flamingo", true); res.Total != 1 || len(res.Facets.Context) != 1 || res.Facets.Context[0].Value != "Zoo" {
		t.Errorf("the upserted event: %+v", res)
	}
	if res := search("harbour strike", false); res.Total != 199 {
		t.Errorf("after a delete, %d events of 200 remain, want 199", res.Total)
	}
	// A restart reopens the generation with the updates in it.
	srv.Close()
	srv = New(Config{Dir: d, Grace: 10 * time.Millisecond})
	defer srv.Close()
	if _, err := srv.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res := search("flamingo", false); res.Total != 1 {
		t.Errorf("after a restart the upsert is gone: %d", res.Total)
	}
	// A rebuild from the original events replays the journal.
	var journal []string
	d.Journal().Read(func(u index.Update) error { journal = append(journal, u.ID()); return nil })
	if len(journal) != 2 {
		t.Errorf("journal = %v, want the upsert and the delete", journal)
	}
	b, _ := d.NewBuilder(index.BuildConfig{Mapping: mappings.New()})
	for i := range 200 {
		e := newsdesk.Event{Date: fmt.Sprintf("2020-01-%02d", 1+i%28), Text: fmt.Sprintf("Event %d about the harbour strike, edition base.", i)}
		e.ID = newsdesk.NewID(e.Date, e.Text)
		doc, _ := mappings.NewDoc(&e)
		b.Add(e.ID, doc)
	}
	d.Journal().Read(func(u index.Update) error {
		if u.Upsert != nil {
			doc, _ := mappings.NewDoc(u.Upsert)
			return b.Add(u.ID(), doc)
		}
		b.Delete(u.Delete)
		return nil
	})
	if g, err := b.Publish(context.Background()); err != nil || g.Docs != 200 {
		t.Fatalf("rebuild with the journal: %+v, %v; want 200 events (200 - 1 + 1)", g, err)
	}
	if _, err := srv.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res := search("flamingo", false); res.Total != 1 {
		t.Errorf("after a rebuild the upsert is gone")
	}
	if res := search("harbour strike", false); res.Total != 199 {
		t.Errorf("after a rebuild the delete is undone: %d", res.Total)
	}
}

// TestUpdate_DuringRebuild applies an update after a rebuild read the
// journal and before it is published: the new generation, once swapped
// in, must still have it.
func TestUpdate_DuringRebuild(t *testing.T) {
	d, srv := serve(t, "base")
	// The rebuild starts: it has read the journal (empty) ...
	b, err := d.NewBuilder(index.BuildConfig{Mapping: mappings.New()})
	if err != nil {
		t.Fatal(err)
	}
	b.SetJournalOffset(d.Journal().Size())
	// ... when an update comes in.
	late := newsdesk.Event{ID: "2020-03-01/a-late-update", Date: "2020-03-01", Text: "A late pelican update."}
	if _, err := srv.Update(context.Background(), []index.Update{{Upsert: &late}}); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		e := newsdesk.Event{Date: "2020-01-05", Text: fmt.Sprintf("Rebuilt event %d.", i)}
		e.ID = newsdesk.NewID(e.Date, e.Text)
		doc, _ := mappings.NewDoc(&e)
		b.Add(e.ID, doc)
	}
	if _, err := b.Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	res, err := srv.Engine().Search(context.Background(), search.Request{Q: "pelican"})
	if err != nil || res.Total != 1 {
		t.Errorf("the update made during the rebuild: %v hits (%v), want 1", res, err)
	}
	if got := srv.Engine().Names(); got == nil {
		t.Fatal("no names")
	}
	// A restart applies nothing twice: the generation notes what it holds.
	if off := d.JournalOffset(srv.Generation()); off != d.Journal().Size() {
		t.Errorf("generation holds the journal up to %d, journal is %d bytes", off, d.Journal().Size())
	}
}

// TestRollbackToRetired swaps back to a generation still in its grace
// period: this process holds it open, so it must be taken back, not
// opened again.
func TestRollbackToRetired(t *testing.T) {
	d, _ := index.NewDir(t.TempDir())
	g1 := publish(t, d, "alpha", false)
	srv := New(Config{Dir: d, Grace: time.Minute})
	if _, err := srv.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	publish(t, d, "bravo", false)
	if _, err := srv.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Rollback(); err != nil {
		t.Fatal(err)
	}
	res, err := srv.Load(context.Background())
	if err != nil || !res.Swapped || srv.Generation() != g1 {
		t.Fatalf("rollback to the retired generation: %+v, %v, serving %s", res, err, srv.Generation())
	}
	if got, err := srv.Engine().Search(context.Background(), search.Request{Q: "alpha"}); err != nil || got.Total != 200 {
		t.Errorf("after the rollback: %v, %v", got, err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited for the grace period")
	}
}

// TestUpdate_SegmentsMerged sends many one-event updates, each adding a
// segment, while searches with a date filter run without pause: the
// segments must be merged as they pile up, every update must be found
// with its new date, and no search may answer an event outside its date
// filter (which would mean columns read for the wrong document while the
// merge renumbered them).
func TestUpdate_SegmentsMerged(t *testing.T) {
	_, srv := serve(t, "base")
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var searches, wrong atomic.Int64
	var firstWrong atomic.Value
	var phase atomic.Int64
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				day := time.Date(2020, time.Month(1+(i+w)%3), 1+(i*7+w)%28, 0, 0, 0, 0, time.UTC)
				q := []string{"harbour", "update", "harbour OR update", `"harbour strike"`}[(i+w)%4]
				res, err := srv.Engine().Search(ctx, search.Request{Q: q, From: day, To: day, Size: 50, Facets: 5})
				if err != nil {
					if ctx.Err() == nil {
						wrong.Add(1)
						firstWrong.CompareAndSwap(nil, err.Error())
					}
					continue
				}
				searches.Add(1)
				for _, h := range res.Hits {
					if h.Date != day.Format(newsdesk.DateLayout) {
						wrong.Add(1)
						firstWrong.CompareAndSwap(nil, fmt.Sprintf("%q on %s found %s of %s (during update %d)", q, day.Format(newsdesk.DateLayout), h.ID, h.Date, phase.Load()))
					}
				}
			}
		})
	}
	const updates = 6 * MaxUpdateSegments
	var newID string
	for k := range updates {
		// One in three moves a base event to February, one adds a March
		// event, one moves that event to another day: its segment is then
		// dropped and the segments after it renumbered.
		e := newsdesk.Event{Date: fmt.Sprintf("2020-03-%02d", 1+k%28), Text: fmt.Sprintf("New update zebra%d.", k)}
		e.ID = newsdesk.NewID(e.Date, e.Text)
		switch k % 3 {
		case 0:
			base := newsdesk.Event{Date: fmt.Sprintf("2020-01-%02d", 1+k%28), Text: fmt.Sprintf("Event %d about the harbour strike, edition base.", k)}
			e.ID = newsdesk.NewID(base.Date, base.Text)
			e.Date, e.Text = fmt.Sprintf("2020-02-%02d", 1+k%28), fmt.Sprintf("Event %d about the harbour strike, update zebra%d.", k, k)
		case 2:
			e.ID = newID
			e.Date = fmt.Sprintf("2020-03-%02d", 1+(k+10)%28)
		}
		newID = e.ID
		phase.Store(int64(k))
		if _, err := srv.Update(context.Background(), []index.Update{{Upsert: &e}}); err != nil {
			t.Fatal(err)
		}
		phase.Store(int64(1000 + k))
		day, _ := time.Parse(newsdesk.DateLayout, e.Date)
		res, err := srv.Engine().Search(context.Background(), search.Request{Q: fmt.Sprintf("zebra%d", k), From: day, To: day})
		if err != nil || res.Total != 1 || res.Hits[0].ID != e.ID {
			t.Fatalf("update %d (%s on %s) right after it: %+v, %v", k, e.ID, e.Date, res, err)
		}
	}
	time.Sleep(50 * time.Millisecond)
	stop()
	wg.Wait()
	if n := wrong.Load(); n > 0 {
		t.Errorf("%d wrong answers among %d searches; first: %v", n, searches.Load(), firstWrong.Load())
	}
	cur := srv.current.Load()
	_, rest, err := cur.idx.Segments()
	if err != nil || rest > MaxUpdateSegments {
		t.Errorf("after %d updates %d segments follow the first (%v), want at most %d", updates, rest, err, MaxUpdateSegments)
	}
	for k := range updates {
		want := 1
		if k%3 == 1 {
			want = 0 // moved by the next update, under another text
		}
		word := fmt.Sprintf("zebra%d", k)
		res, err := srv.Engine().Search(context.Background(), search.Request{Q: word})
		if err != nil {
			t.Fatal(err)
		}
		// Counted by text: a search for a word no event has any more
		// finds its nearest spelling (zebra1 → zebra2).
		got := 0
		for _, h := range res.Hits {
			if strings.Contains(h.Text, word+".") {
				got++
			}
		}
		if got != want {
			t.Errorf("%s after the merges: %d events with it, want %d", word, got, want)
		}
	}
	if res, _ := srv.Engine().Search(context.Background(), search.Request{Q: "harbour"}); res.Total != 200 {
		t.Errorf("harbour: %d events, want the 200 (moved or not)", res.Total)
	}
	t.Logf("%d searches during %d updates, %d segments after the first at the end", searches.Load(), updates, rest)
}
