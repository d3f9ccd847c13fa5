package serving

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2/index/scorch"

	"github.com/rs/zerolog"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/mappings"
	"github.com/newsdesk/newsdesk/query"
	"github.com/newsdesk/newsdesk/search"
	"github.com/newsdesk/newsdesk/snapshot"
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
	return serveGrace(t, marker, 10*time.Millisecond)
}

// serveGrace is serve with the grace the server keeps a generation it
// retired open for (a long one, for a rollback to reuse it).
func serveGrace(t *testing.T, marker string, grace time.Duration) (*index.Dir, *Server) {
	t.Helper()
	d, _ := index.NewDir(t.TempDir())
	publish(t, d, marker, false)
	srv := New(Config{Dir: d, Grace: grace})
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
	if testing.Short() {
		t.Skip("-short: swaps 10 generations under searches from 8 goroutines (18 s or more); go test without -short runs it")
	}
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

// TestWatch_RollbackClearsRefusal: a refused generation, then a rollback
// to the one served: Watch clears the refusal (readyz's 503) by itself.
func TestWatch_RollbackClearsRefusal(t *testing.T) {
	d, srv := serve(t, "good")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Watch(ctx, 20*time.Millisecond, nil)
	bad := publish(t, d, "bad", true)
	waitFor(t, "the refusal of "+bad, func() bool { return srv.Failed() != "" })
	if _, _, err := d.Rollback(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the refusal cleared after the rollback", func() bool { return srv.Failed() == "" })
}

// TestWatch_RetriesRefused: a generation refused because it was not all
// there (CURRENT copied before the generations, by an rsync) is tried
// again once it is, without a reload asked: Watch waited for another
// generation, and /readyz said 503 meanwhile.
func TestWatch_RetriesRefused(t *testing.T) {
	d, srv, refusals := serveCountingRefusals(t)
	next := publish(t, d, "second", false)
	aside := filepath.Join(t.TempDir(), "aside")
	if err := os.Rename(d.GenerationPath(next), aside); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Watch(ctx, 10*time.Millisecond, nil)
	waitFor(t, "the refusal of "+next, func() bool { return strings.Contains(srv.Failed(), next) })
	if err := os.Rename(aside, d.GenerationPath(next)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, next+" served once it is there", func() bool { return srv.Generation() == next && srv.Failed() == "" })
	// A generation refused for good, whose files do not change, is not
	// opened again at every tick (each open holds the lock bulk updates
	// wait for): one refusal swapped in the counter, not one a tick.
	refusals.Store(0)
	bad := publish(t, d, "bad", true)
	waitFor(t, "the refusal of "+bad, func() bool { return strings.Contains(srv.Failed(), bad) })
	time.Sleep(200 * time.Millisecond) // 20 ticks
	if n := refusals.Load(); n != 1 {
		t.Errorf("%s refused %d times in 20 ticks, want once", bad, n)
	}
}

// TestPosition_MovesOnceShown: a search that reads the position first
// (as an answer's ETag does) finds the updates of that position: the
// position never runs ahead of what searches see.
func TestPosition_MovesOnceShown(t *testing.T) {
	_, srv := serve(t, "base")
	for i := range 20 {
		word := farWord(i)
		_, before := srv.Position()
		stop := make(chan struct{})
		stale := make(chan int, 3)
		for range 3 {
			go func() {
				n := 0
				defer func() { stale <- n }()
				for {
					select {
					case <-stop:
						return
					default:
					}
					_, pos := srv.Position()
					res, err := srv.Engine().Search(context.Background(), search.Request{Q: word})
					if pos != before && err == nil && res.Total == 0 {
						n++
					}
				}
			}()
		}
		time.Sleep(2 * time.Millisecond)
		e := newsdesk.Event{ID: "2020-02-01/" + word, Date: "2020-02-01", Text: "The " + word + " happened."}
		if _, err := srv.Update(context.Background(), []index.Update{{Upsert: &e}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
		close(stop)
		for range 3 {
			if n := <-stale; n > 0 {
				t.Fatalf("update %d: %d searches after the position moved did not find it", i, n)
			}
		}
	}
}

// TestUpdate_SuggestionsCatchUp: an update's new topic reaches the
// suggestions with no search to start their count again, and the version
// of what answers derive from the index (part of their ETags) moves.
func TestUpdate_SuggestionsCatchUp(t *testing.T) {
	_, srv := serve(t, "base")
	if got := srv.Engine().Suggest("flamingo", 5); len(got) != 0 {
		t.Fatalf("suggestions before the update: %v", got)
	}
	derived := srv.Engine().Derived()
	e := newsdesk.Event{ID: "2020-02-01/the-flamingo-festival-opens", Date: "2020-02-01", Topic: "Flamingo Festival", Text: "The flamingo festival opens."}
	if _, err := srv.Update(context.Background(), []index.Update{{Upsert: &e}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new topic among the suggestions", func() bool { return len(srv.Engine().Suggest("flamingo", 5)) == 1 })
	if srv.Engine().Derived() == derived {
		t.Error("the names were counted again, but Derived did not move")
	}
}

func TestUpdate_AppliedJournaledRebuilt(t *testing.T) {
	d, _ := index.NewDir(t.TempDir())
	publish(t, d, "base", false)
	srv := New(Config{Dir: d, Grace: 10 * time.Millisecond})
	if gen, seq := srv.Position(); gen != "" || seq != 0 {
		t.Errorf("position before a load: %q %d, want none", gen, seq)
	}
	if _, err := srv.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	gen0, seq0 := srv.Position()
	if i := srv.Info(); gen0 != i.Generation || seq0 != i.Applied || gen0 == "" {
		t.Errorf("position %q %d, info %q %d: want the same, a generation", gen0, seq0, i.Generation, i.Applied)
	}
	if i := srv.Info(); i.FirstDate != "2020-01-01" || i.LastDate != "2020-01-28" {
		t.Errorf("info before the updates: dates %s to %s, want 2020-01-01 to 2020-01-28", i.FirstDate, i.LastDate)
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
	// /v1/info's last date follows the update at once, before any search.
	if i := srv.Info(); i.LastDate != "2020-02-01" {
		t.Errorf("info after an event of 2020-02-01 was added: last date %s", i.LastDate)
	}
	// The position (the API's ETags) moves with an update applied.
	if gen, seq := srv.Position(); !strings.HasPrefix(gen, gen0) || seq <= seq0 || seq != srv.Info().Applied {
		t.Errorf("position after the update: %q %d, want %q and past %d, at the applied %d", gen, seq, gen0, seq0, srv.Info().Applied)
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
	if got := srv.Info().Applied; got != d.Journal().Size() {
		t.Errorf("served copy holds the journal up to %d, journal is %d bytes", got, d.Journal().Size())
	}
	// A restart applies the update again to a fresh copy, once.
	srv.Close()
	srv2 := New(Config{Dir: d, Grace: 10 * time.Millisecond})
	defer srv2.Close()
	if _, err := srv2.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res, err := srv2.Engine().Search(context.Background(), search.Request{Q: "pelican"}); err != nil || res.Total != 1 {
		t.Errorf("after a restart: %v hits (%v), want 1", res, err)
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

// TestUpdate_Stress searches from 4 goroutines with date, category and
// topic filters and facets while 300 one-event bulk updates move events
// in and out of the filtered ranges, delete some and add them back: no
// search may fail or answer an event outside its filters (columns read
// for another document than the one found), and every update must be
// visible to the first search after it. Bleve merges the update segments
// meanwhile.
func TestUpdate_Stress(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: 300 updates under filtered searches from 4 goroutines; go test without -short runs it")
	}
	d, _ := index.NewDir(t.TempDir())
	const base = 200
	categories := []string{"Sports", "Politics and elections", "Disasters and accidents"}
	topics := []string{"Harbour strike", "Flood", "Election"}
	event := func(i, version int) newsdesk.Event {
		return newsdesk.Event{
			ID:       fmt.Sprintf("2020-01-01/event-%d", i),
			Date:     fmt.Sprintf("2020-%02d-%02d", 1+(i+version)%3, 1+(i*7+version)%28),
			Category: categories[(i+version)%3],
			Topic:    topics[(i/3+version)%3],
			Context:  []string{topics[(i+2*version)%3], fmt.Sprintf("Tag %d", version%5)},
			Text:     fmt.Sprintf("Strike news item%d, version v%d.", i, version),
		}
	}
	b, err := d.NewBuilder(index.BuildConfig{Mapping: mappings.New(), BatchSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	for i := range base {
		e := event(i, 0)
		doc, _ := mappings.NewDoc(&e)
		if err := b.Add(e.ID, doc); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := New(Config{Dir: d, Grace: 10 * time.Millisecond})
	defer srv.Close()
	if _, err := srv.Load(context.Background()); err != nil {
		t.Fatal(err)
	}

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var searches, wrong atomic.Int64
	var firstWrong atomic.Value
	report := func(format string, args ...any) {
		wrong.Add(1)
		firstWrong.CompareAndSwap(nil, fmt.Sprintf(format, args...))
	}
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				from := time.Date(2020, time.Month(1+(i+w)%3), 1+(i*5+w)%28, 0, 0, 0, 0, time.UTC)
				to := from.AddDate(0, 0, 6)
				r := search.Request{From: from, To: to, Size: 50, Facets: 5}
				if i%2 == 0 {
					r.Categories = []string{categories[(i/2+w)%3]}
				}
				if i%3 == 0 {
					r.Topics = []string{topics[(i/3+w)%3]}
				}
				if i%4 < 2 {
					r.Q = "strike"
				}
				if i%5 == 0 {
					r.Sort = query.SortDateDesc
				}
				res, err := srv.Engine().Search(ctx, r)
				if err != nil {
					if ctx.Err() == nil {
						report("search %+v: %v", r, err)
					}
					continue
				}
				searches.Add(1)
				for _, h := range res.Hits {
					day, _ := time.Parse(newsdesk.DateLayout, h.Date)
					if day.Before(from) || day.After(to) ||
						(r.Categories != nil && h.Category != r.Categories[0]) || (r.Topics != nil && h.Topic != r.Topics[0]) {
						report("search %v..%v %v %v found %s: %s, %s, %s", from.Format("01-02"), to.Format("01-02"), r.Categories, r.Topics, h.ID, h.Date, h.Category, h.Topic)
					}
				}
				if r.Categories != nil {
					for _, c := range res.Facets.Category {
						if c.Value != r.Categories[0] {
							report("category facet %q in a search filtered to %q", c.Value, r.Categories[0])
						}
					}
				}
			}
		})
	}

	defer func() { stop(); wg.Wait() }() // before srv.Close, also when the test fails
	const updates = 300
	deleted := map[int]bool{}
	version := map[int]int{}
	for k := range updates {
		i := (k * 37) % base
		var u index.Update
		switch {
		case k%7 == 3 && !deleted[i]:
			u = index.Update{Delete: event(i, 0).ID}
			deleted[i] = true
		default:
			version[i]++
			e := event(i, version[i])
			u = index.Update{Upsert: &e}
			delete(deleted, i)
		}
		if _, err := srv.Update(context.Background(), []index.Update{u}); err != nil {
			t.Fatal(err)
		}
		// The first search after the answer sees the update.
		word := fmt.Sprintf("item%d", i)
		if u.Upsert != nil {
			day, _ := time.Parse(newsdesk.DateLayout, u.Upsert.Date)
			res, err := srv.Engine().Search(context.Background(), search.Request{Q: word, From: day, To: day,
				Categories: []string{u.Upsert.Category}, Topics: []string{u.Upsert.Topic}})
			if err != nil || res.Total != 1 || res.Hits[0].Text != u.Upsert.Text {
				t.Fatalf("update %d (%s) right after it: %+v, %v", k, u.Upsert.Text, res, err)
			}
		} else {
			// Gone: no hit is the deleted event. The word may now be
			// corrected to another event's (item6 to item0) once a merge
			// has dropped it from the dictionary, so other hits may come.
			res, err := srv.Engine().Search(context.Background(), search.Request{Q: word})
			if err != nil {
				t.Fatalf("delete %d (%s) right after it: %v", k, u.Delete, err)
			}
			for _, h := range res.Hits {
				if h.ID == u.Delete {
					t.Fatalf("delete %d (%s) right after it: still found: %+v", k, u.Delete, res)
				}
			}
			if res.Total != 0 && len(res.Corrections) == 0 {
				t.Fatalf("delete %d (%s) right after it: %d hits for %s, none corrected: %+v", k, u.Delete, res.Total, word, res)
			}
		}
	}
	time.Sleep(50 * time.Millisecond)
	stop()
	wg.Wait()
	if n := wrong.Load(); n > 0 {
		t.Errorf("%d wrong answers among %d searches; first: %v", n, searches.Load(), firstWrong.Load())
	}
	if searches.Load() < 100 {
		t.Errorf("only %d searches ran during the updates", searches.Load())
	}
	res, err := srv.Engine().Search(context.Background(), search.Request{Q: "strike"})
	if err != nil || res.Total != uint64(base-len(deleted)) {
		t.Errorf("strike after the updates: %v (%v), want %d events", res.Total, err, base-len(deleted))
	}
	snap := srv.current.Load().src.Acquire()
	segs := len(snap.Reader().(*scorch.IndexSnapshot).Segments())
	snap.Release()
	t.Logf("%d searches during %d updates; %d segments at the end", searches.Load(), updates, segs)
}

// TestOpen_JournalWithInvalidUpserts serves a generation whose journal
// holds upserts written before dates and ids were checked (a null date,
// an id off the scheme): they are skipped, so the generation still opens
// and passes its check, and the valid update after them is applied.
func TestOpen_JournalWithInvalidUpserts(t *testing.T) {
	d, _ := index.NewDir(t.TempDir())
	publish(t, d, "base", false)
	bad := []newsdesk.Event{
		{ID: "0001-01-01/a-null-date", Date: "0001-01-01", Text: "A null date."},
		{ID: "../../etc/passwd", Date: "2020-02-01", Text: "An id off the scheme."},
	}
	good := newsdesk.Event{ID: "2020-02-01/a-flamingo-escapes", Date: "2020-02-01", Text: "A flamingo escapes."}
	// Acknowledged before tags had limits: replayed as it was, not lost.
	long := newsdesk.Event{ID: "2020-02-02/a-walrus-naps", Date: "2020-02-02", Text: "A walrus naps.", Topic: strings.Repeat("t", 300)}
	// Append does not validate: it journals what the server applied.
	if err := d.Journal().Append([]index.Update{{Upsert: &bad[0]}, {Upsert: &bad[1]}, {Upsert: &good}, {Upsert: &long}}); err != nil {
		t.Fatal(err)
	}
	srv := New(Config{Dir: d, Grace: 10 * time.Millisecond})
	defer srv.Close()
	if _, err := srv.Load(context.Background()); err != nil {
		t.Fatalf("a journal with invalid upserts made the generation unservable: %v", err)
	}
	for q, want := range map[string]uint64{"flamingo": 1, "walrus": 1, "null": 0, "scheme": 0, "harbour": 200} {
		res, err := srv.Engine().Search(context.Background(), search.Request{Q: q})
		if err != nil || res.Total != want {
			t.Errorf("%s: %d events (%v), want %d", q, res.Total, err, want)
		}
	}
}

// TestOpen_JournalBadLineInside: a bad line before the journal's last
// cannot be a crash's torn tail, and an acknowledged update follows it:
// the start refuses the generation, naming the line, and its log says
// there is nothing else to serve (it said "serving the previous one").
func TestOpen_JournalBadLineInside(t *testing.T) {
	d, _ := index.NewDir(t.TempDir())
	publish(t, d, "base", false)
	good := newsdesk.Event{ID: "2020-02-01/a-flamingo-escapes", Date: "2020-02-01", Text: "A flamingo escapes."}
	if err := d.Journal().Append([]index.Update{{Upsert: &good}}); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(d.Path(), "updates.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"upsert": garbage}` + "\n")
	f.Close()
	if err := d.Journal().Append([]index.Update{{Upsert: &good}}); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	srv := New(Config{Dir: d, Grace: 10 * time.Millisecond, Logger: zerolog.New(&logs)})
	defer srv.Close()
	_, err = srv.Load(context.Background())
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("a start on a journal with a bad line inside: %v, want an error naming line 2", err)
	}
	if !strings.Contains(logs.String(), "there is no other to serve") || strings.Contains(logs.String(), "serving the previous one") {
		t.Errorf("logs %s, want them to say there is no other generation to serve", logs.String())
	}
}

// TestUpdate_WriteFailsReopens makes writing to the working copy fail
// after the journal took the update (the copy's index is closed under
// the server): the server must reopen a fresh copy from the generation
// and the journal, and answer the update as applied.
func TestUpdate_WriteFailsReopens(t *testing.T) {
	_, srv := serve(t, "base")
	broken := srv.current.Load()
	fails := 1
	srv.write = func(idx *index.Index, docs *mappings.Docs, us []index.Update) error {
		if fails > 0 {
			fails--
			return errors.New("the disk went away")
		}
		return write(idx, docs, us)
	}
	e := newsdesk.Event{ID: "2020-04-01/an-ibis-returns", Date: "2020-04-01", Text: "An ibis returns to the marsh."}
	results, err := srv.Update(context.Background(), []index.Update{{Upsert: &e}})
	if err != nil || len(results) != 1 || results[0] != Created {
		t.Fatalf("update on a broken working copy: %v, %v; want it applied after a reopen", results, err)
	}
	if srv.current.Load() == broken {
		t.Error("the broken working copy still serves")
	}
	// When the fresh copy fails too, the update is said to be journaled,
	// not applied, and the copy serving goes on.
	srv.write = func(*index.Index, *mappings.Docs, []index.Update) error { return errors.New("the disk went away") }
	serving := srv.current.Load()
	e2 := newsdesk.Event{ID: "2020-04-02/a-crane-nests", Date: "2020-04-02", Text: "A crane nests on the chimney."}
	if _, err := srv.Update(context.Background(), []index.Update{{Upsert: &e2}}); !errors.Is(err, ErrJournaled) {
		t.Errorf("update with no working copy to write: %v, want ErrJournaled", err)
	}
	if srv.current.Load() != serving {
		t.Error("a failed reopen replaced the copy serving")
	}
	var journaled []string
	srv.cfg.Dir.Journal().Read(func(u index.Update) error { journaled = append(journaled, u.ID()); return nil })
	if strings.Join(journaled, ",") != e.ID+","+e2.ID {
		t.Errorf("journal: %v", journaled)
	}
	res, err := srv.Engine().Search(context.Background(), search.Request{Q: "ibis"})
	if err != nil || res.Total != 1 {
		t.Errorf("the update after the reopen: %v, %v", res, err)
	}
	if res, err := srv.Engine().Search(context.Background(), search.Request{Q: "harbour"}); err != nil || res.Total != 200 {
		t.Errorf("the generation after the reopen: %v, %v", res, err)
	}
}

// TestPreviousRelease serves a generation built by an earlier release
// (testdata/release-b4d3115) and expects the answers that release gave.
func TestPreviousRelease(t *testing.T) {
	const src = "testdata/release-b4d3115"
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	d, err := index.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := New(Config{Dir: d, Grace: 10 * time.Millisecond})
	defer srv.Close()
	if _, err := srv.Load(context.Background()); err != nil {
		t.Fatalf("serving the earlier release's generation: %v", err)
	}
	raw, err := os.ReadFile(filepath.Join(src, "answers.json"))
	if err != nil {
		t.Fatal(err)
	}
	var answers []struct {
		Request search.Request `json:"request"`
		Top10   []string       `json:"top10"`
		Total   uint64         `json:"total"`
	}
	if err := json.Unmarshal(raw, &answers); err != nil {
		t.Fatal(err)
	}
	if len(answers) != 20 {
		t.Fatalf("%d answers in %s, want 20", len(answers), src)
	}
	for _, a := range answers {
		res, err := srv.Engine().Search(context.Background(), a.Request)
		if err != nil {
			t.Errorf("%+v: %v", a.Request, err)
			continue
		}
		got := []string{}
		for _, h := range res.Hits {
			got = append(got, h.ID)
		}
		want := a.Top10
		if q, _ := query.Parse(a.Request.Q); !slices.ContainsFunc(q.Clauses, func(c query.Clause) bool { return !c.Negated && c.Kind != query.Field }) {
			// Nothing to rank by: since 2026-12-02 the newest come first,
			// where the earlier release listed them in event order.
			want = slices.Clone(want)
			slices.SortStableFunc(want, func(a, b string) int { return -strings.Compare(a[:10], b[:10]) })
		}
		if res.Total != a.Total || !slices.Equal(got, want) {
			t.Errorf("%q %v %v: %d hits %v; the earlier release answered %d hits %v", a.Request.Q, a.Request.Categories, a.Request.Contexts, res.Total, got, a.Total, a.Top10)
		}
	}
	// The generation is as the earlier release left it.
	if err := filepath.WalkDir(filepath.Join(dir, "generations"), func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		want, err := os.ReadFile(filepath.Join(src, rel))
		if err != nil {
			return err
		}
		got, _ := os.ReadFile(p)
		if !bytes.Equal(got, want) {
			t.Errorf("%s changed while served", rel)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestUpdate_NotServingIsUnavailable checks that an update before a
// generation is served (searchd listens while it builds one) or after
// Close is refused as unavailable, which the API answers with 503 and a
// Retry-After, and indexer push retries.
func TestUpdate_NotServingIsUnavailable(t *testing.T) {
	d, _ := index.NewDir(t.TempDir())
	srv := New(Config{Dir: d, Grace: 10 * time.Millisecond})
	e := newsdesk.Event{ID: "2020-01-01/x", Date: "2020-01-01", Text: "x"}
	if _, err := srv.Update(context.Background(), []index.Update{{Upsert: &e}}); !errors.Is(err, newsdesk.ErrUnavailable) {
		t.Errorf("update before a generation is served: %v; want ErrUnavailable", err)
	}
	srv.Close()
	if _, err := srv.Update(context.Background(), []index.Update{{Upsert: &e}}); !errors.Is(err, newsdesk.ErrUnavailable) || !errors.Is(err, ErrClosed) {
		t.Errorf("update after Close: %v; want ErrClosed and ErrUnavailable", err)
	}
}

// TestUpdate_TwoServersOneDirectory has two servers of one index directory
// take updates in turn: each applies the other's journaled updates with
// its own, so that the same position (Info().Applied) means the same
// events.
func TestUpdate_TwoServersOneDirectory(t *testing.T) {
	d, a := serve(t, "shared")
	b := New(Config{Dir: d, Grace: 10 * time.Millisecond})
	t.Cleanup(func() { b.Close() })
	if _, err := b.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	upsert := func(srv *Server, word string) {
		t.Helper()
		e := newsdesk.Event{Date: "2021-06-01", Text: "The " + word + " lands at the harbour."}
		e.ID = newsdesk.NewID(e.Date, e.Text)
		if _, err := srv.Update(context.Background(), []index.Update{{Upsert: &e}}); err != nil {
			t.Fatal(err)
		}
	}
	found := func(srv *Server, word string) bool {
		t.Helper()
		res, err := srv.Engine().Search(context.Background(), search.Request{Q: word})
		if err != nil {
			t.Fatal(err)
		}
		return res.Total == 1
	}
	upsert(a, "pelican")
	upsert(b, "flamingo")
	if !found(b, "pelican") || !found(b, "flamingo") {
		t.Errorf("b after its update: pelican %v, flamingo %v; want both", found(b, "pelican"), found(b, "flamingo"))
	}
	upsert(a, "heron")
	for _, w := range []string{"pelican", "flamingo", "heron"} {
		if !found(a, w) {
			t.Errorf("a after its second update misses the %s", w)
		}
	}
	if size := d.Journal().Size(); a.Info().Applied != size || b.Info().Applied >= size {
		t.Errorf("positions: a %d, b %d, journal %d bytes; want a at the journal's end, b before it", a.Info().Applied, b.Info().Applied, size)
	}
	// Each update's result is planned on what the directory holds: b
	// deletes the event only a has applied (it was answered not_found,
	// never journaled, and stayed for good), then updates another.
	stork := newsdesk.Event{Date: "2021-06-02", Text: "The stork lands at the harbour."}
	stork.ID = newsdesk.NewID(stork.Date, stork.Text)
	egret := newsdesk.Event{Date: "2021-06-03", Text: "The egret lands at the harbour."}
	egret.ID = newsdesk.NewID(egret.Date, egret.Text)
	if _, err := a.Update(context.Background(), []index.Update{{Upsert: &stork}, {Upsert: &egret}}); err != nil {
		t.Fatal(err)
	}
	egret.Text = "The egret leaves the harbour."
	res, err := b.Update(context.Background(), []index.Update{{Delete: stork.ID}, {Upsert: &egret}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res, []string{Deleted, Updated}) {
		t.Errorf("b's delete and update of a's events: %v, want [deleted updated]", res)
	}
	c := New(Config{Dir: d, Grace: 10 * time.Millisecond}) // a restart
	t.Cleanup(func() { c.Close() })
	if _, err := c.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if found(c, "stork") {
		t.Error("after a restart, the stork b deleted is back")
	}
}

// waitFor waits up to 10 s for cond, polling.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10 s for %s", what)
		}
	}
}

// farWord returns the i-th of words of 10 random letters: far apart, so
// that a search for one is never corrected to another.
func farWord(i int) string {
	b := make([]byte, 10)
	x := uint64(i+1) * 0x9E3779B97F4A7C15
	for j := range b {
		x ^= x >> 29
		x *= 0xBF58476D1CE4E5B9
		b[j] = 'a' + byte(x%26)
	}
	return string(b)
}

// TestRollback_AfterDroppedUpdates: the journal cleared by a build that
// drops its updates, then a rollback to the generation before it, still
// open: it serves the updates made since the clear, not those dropped
// (its open working copy held those, and an offset into the journal
// cleared). With an update between the clear and the swap, applied to
// the old copy, which moved its epoch to the new journal's: the rollback
// reused the copy, dropped updates and all.
func TestRollback_AfterDroppedUpdates(t *testing.T) {
	for _, between := range []bool{false, true} {
		t.Run(fmt.Sprintf("update before the swap %v", between), func(t *testing.T) {
			d, srv := serveGrace(t, "first", time.Minute)
			first := srv.Generation()
			upsert := func(text string) string { return upsertText(t, srv, text) }
			dropped := []string{upsert("The first dropped update, a long one to move the offset far."), upsert("The second dropped update.")}
			// A build with -drop-updates: the journal cleared as it publishes.
			if err := d.ClearJournal(1 << 62); err != nil {
				t.Fatal(err)
			}
			var kept []string
			if between {
				kept = append(kept, upsert("An update between the clear and the swap."))
			}
			publish(t, d, "second", false)
			if _, err := srv.Load(context.Background()); err != nil {
				t.Fatal(err)
			}
			kept = append(kept, upsert("A kept update."), upsert("Another kept update."))
			if _, _, err := d.Rollback(); err != nil {
				t.Fatal(err)
			}
			if res, err := srv.Load(context.Background()); err != nil || srv.Generation() != first {
				t.Fatalf("rollback: %+v, %v; serving %s, want %s", res, err, srv.Generation(), first)
			}
			for _, id := range kept {
				if _, err := srv.Engine().Event(context.Background(), id); err != nil {
					t.Errorf("after the rollback, the update made since the clear %s: %v", id, err)
				}
			}
			for _, id := range dropped {
				if _, err := srv.Engine().Event(context.Background(), id); err == nil {
					t.Errorf("after the rollback, the dropped update %s is served", id)
				}
			}
		})
	}
}

// TestUpdate_AfterJournalCleared: updates made between a build's clear of
// the journal and its swap are served at once, and by the new generation.
func TestUpdate_AfterJournalCleared(t *testing.T) {
	d, srv := serve(t, "first")
	upsert := func(text string) string { return upsertText(t, srv, text) }
	// Lines of one length: the offset of the journal cleared falls on a
	// line of the new one.
	upsert("Update number one.")
	if err := d.ClearJournal(1 << 62); err != nil {
		t.Fatal(err)
	}
	made := []string{upsert("Update number two."), upsert("Update number three.")}
	wantServed(t, srv, "before the swap", made)
	publish(t, d, "second", false)
	if _, err := srv.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantServed(t, srv, "after the swap", made)
}

// TestUpdate_DuringDropBuild: a build that drops the updates drops those
// journaled before it began; those acknowledged while it ran, and after
// its clear, are served by the new generation.
func TestUpdate_DuringDropBuild(t *testing.T) {
	d, srv := serve(t, "first")
	upsert := func(text string) string { return upsertText(t, srv, text) }
	before := upsert("An update journaled before the build.")
	keep, err := d.Journal().LockedSize() // the build begins
	if err != nil {
		t.Fatal(err)
	}
	made := []string{upsert("An update while the build runs."), upsert("Another one while it runs.")}
	if err := d.ClearJournal(keep); err != nil { // it publishes
		t.Fatal(err)
	}
	made = append(made, upsert("An update between the clear and the swap."))
	publish(t, d, "second", false)
	if _, err := srv.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantServed(t, srv, "after the swap", made)
	if _, err := srv.Engine().Event(context.Background(), before); err == nil {
		t.Errorf("after the swap, the dropped update %s is served", before)
	}
}

// upsertText upserts, through srv, an event of 2020-02-01 with text, and
// returns its id.
func upsertText(t *testing.T, srv *Server, text string) string {
	t.Helper()
	e := newsdesk.Event{Date: "2020-02-01", Text: text}
	e.ID = newsdesk.NewID(e.Date, e.Text)
	if _, err := srv.Update(context.Background(), []index.Update{{Upsert: &e}}); err != nil {
		t.Fatal(err)
	}
	return e.ID
}

// TestUpdate_WhileOpening: an update sent while the first generation
// opens (Load holds the lock; with a long journal, for tens of seconds)
// is answered at once as unavailable, not after the open.
func TestUpdate_WhileOpening(t *testing.T) {
	d, _ := index.NewDir(t.TempDir())
	publish(t, d, "first", false)
	srv := New(Config{Dir: d})
	defer srv.Close()
	srv.mu.Lock() // as Load holds it while it opens
	done := make(chan error, 1)
	go func() {
		_, err := srv.Update(context.Background(), []index.Update{{Delete: "2020-01-01/x"}})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, newsdesk.ErrUnavailable) {
			t.Errorf("an update while opening: %v, want unavailable", err)
		}
		srv.mu.Unlock()
	case <-time.After(5 * time.Second):
		t.Error("an update while opening waited for the open")
		srv.mu.Unlock()
		<-done
	}
}

// TestUpdate_TwoServersAfterAClear: two servers of one directory, the
// journal cleared under them (a -drop-updates build before its swap):
// each, at its next update, applies the other's updates since the clear
// with its own, as the new journal holds them.
func TestUpdate_TwoServersAfterAClear(t *testing.T) {
	d, a := serve(t, "shared")
	b := New(Config{Dir: d, Grace: 10 * time.Millisecond})
	t.Cleanup(func() { b.Close() })
	if _, err := b.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	upsertText(t, a, "An update before the build.")
	keep, err := d.Journal().LockedSize()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.ClearJournal(keep); err != nil {
		t.Fatal(err)
	}
	x := upsertText(t, b, "The first update after the clear, through b.")
	y := upsertText(t, a, "The second update after the clear, through a.")
	for _, tc := range []struct {
		name string
		srv  *Server
		id   string
	}{{"a", a, x}, {"a", a, y}, {"b", b, x}} {
		if _, err := tc.srv.Engine().Event(context.Background(), tc.id); err != nil {
			t.Errorf("%s misses %s: %v", tc.name, tc.id, err)
		}
	}
}

// wantServed checks that srv serves each event of ids, when says at what
// point of the test.
func wantServed(t *testing.T, srv *Server, when string, ids []string) {
	t.Helper()
	for _, id := range ids {
		if _, err := srv.Engine().Event(context.Background(), id); err != nil {
			t.Errorf("%s, %s: %v", when, id, err)
		}
	}
}

// TestPosition_EpochAfterClear: a generation served again after a build
// cleared the journal (a -drop-updates build, then a rollback), with as
// many bytes of other updates since, has another position: the same one
// tagged answers of other events, and a client's cached page was
// revalidated with a stale 304.
func TestPosition_EpochAfterClear(t *testing.T) {
	d, srv := serveGrace(t, "first", time.Minute)
	first := srv.Generation()
	upsertText(t, srv, "A seal is named alpha.")
	gen, seq := srv.Position()
	if err := d.ClearJournal(1 << 62); err != nil {
		t.Fatal(err)
	}
	publish(t, d, "second", false)
	if _, err := srv.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	upsertText(t, srv, "A seal is named gamma.") // as long: the same offset
	if _, _, err := d.Rollback(); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Load(context.Background()); err != nil || srv.Generation() != first {
		t.Fatalf("rollback: %v; serving %s, want %s", err, srv.Generation(), first)
	}
	if gen2, seq2 := srv.Position(); gen2 == gen && seq2 == seq {
		t.Errorf("position %s %d before the clear and after, over other updates", gen, seq)
	}
}

// TestPosition_Process: a position holding updates this process applied
// names the process (another orders the ties of its update batches its
// own way, so their answers' tags must differ); a generation built with
// the updates, served as built, does not (replicas of one build agree).
func TestPosition_Process(t *testing.T) {
	d, srv := serve(t, "first")
	upsertText(t, srv, "A seal is named alpha.")
	other := New(Config{Dir: d, Grace: time.Minute})
	defer other.Close()
	if _, err := other.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	gen, seq := srv.Position()
	if !strings.Contains(gen, " process ") {
		t.Errorf("position %q %d with this process's updates names no process", gen, seq)
	}
	// A build that holds the journal: its position is its own.
	b, err := d.NewBuilder(index.BuildConfig{Mapping: mappings.New(), BatchSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	e := newsdesk.Event{ID: "2020-01-01/built", Date: "2020-01-01", Text: "An event built."}
	doc, err := mappings.NewDoc(&e)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Add(e.ID, doc); err != nil {
		t.Fatal(err)
	}
	size, err := d.Journal().LockedSize()
	if err != nil {
		t.Fatal(err)
	}
	b.SetJournalOffset(size)
	if _, err := b.Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Server{srv, other} {
		if _, err := s.Load(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	g1, s1 := srv.Position()
	g2, s2 := other.Position()
	if g1 != g2 || s1 != s2 || strings.Contains(g1, " process ") {
		t.Errorf("two servers of a generation built with the updates: %q %d and %q %d, want one position naming no process", g1, s1, g2, s2)
	}
}

// TestPosition_SkippedMessages: a position moved by messages that change
// nothing (stream messages skipped as invalid) is still the generation's
// own: replicas of one build keep tagging alike.
func TestPosition_SkippedMessages(t *testing.T) {
	_, srv := serve(t, "first")
	_, seq := srv.Position()
	if err := srv.Apply(context.Background(), nil, seq+10); err != nil {
		t.Fatal(err)
	}
	if gen, seq2 := srv.Position(); seq2 != seq+10 || strings.Contains(gen, " process ") {
		t.Errorf("position %q %d after messages that changed nothing, want %d naming no process", gen, seq2, seq+10)
	}
}

// TestUpdate_ManyInBatches: a bulk of more updates than one Bleve batch
// takes (writeBatch) is applied in order across batches: of two updates
// of one id in different batches, the last wins; and searches see none
// of them until all are written (the snapshot refreshed itself every
// 200 ms and showed the first batches).
func TestUpdate_ManyInBatches(t *testing.T) {
	_, srv := serve(t, "many")
	srv.write = func(idx *index.Index, docs *mappings.Docs, us []index.Update) error {
		if err := write(idx, docs, us[:writeBatch]); err != nil {
			return err
		}
		time.Sleep(3 * snapshot.FollowInterval) // the Source would refresh meanwhile
		res, err := srv.Engine().Search(context.Background(), search.Request{Q: "filler"})
		if err != nil || res.Total != 0 {
			t.Errorf("while the bulk is written, filler: %d events (%v), want none", res.Total, err)
		}
		return write(idx, docs, us[writeBatch:])
	}
	var updates []index.Update
	first := newsdesk.Event{ID: "2021-07-01/the-bell-rings", Date: "2021-07-01", Text: "The bell rings once."}
	updates = append(updates, index.Update{Upsert: &first})
	for i := range writeBatch + 10 {
		e := newsdesk.Event{ID: fmt.Sprintf("2021-07-02/filler-%d", i), Date: "2021-07-02", Text: fmt.Sprintf("Filler number %d.", i)}
		updates = append(updates, index.Update{Upsert: &e})
	}
	last := first
	last.Text = "The bell rings twice."
	updates = append(updates, index.Update{Upsert: &last})
	if _, err := srv.Update(context.Background(), updates); err != nil {
		t.Fatal(err)
	}
	res, err := srv.Engine().Search(context.Background(), search.Request{Q: "bell"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 1 || res.Hits[0].Text != last.Text {
		t.Errorf("bell: %d hits %+v, want the last text only", res.Total, res.Hits)
	}
	if res, err = srv.Engine().Search(context.Background(), search.Request{Q: "filler"}); err != nil || res.Total != writeBatch+10 {
		t.Errorf("filler: %v events (%v), want %d", res.Total, err, writeBatch+10)
	}
}

// TestUpdate_LogsTheRequestsID: what an update logs names the request it
// came with (its req_id), as the README says of every log line of a
// request.
func TestUpdate_LogsTheRequestsID(t *testing.T) {
	_, srv := serve(t, "logged")
	var buf bytes.Buffer
	l := zerolog.New(&buf).Level(zerolog.DebugLevel).With().Str("req_id", "trace-1").Logger()
	e := newsdesk.Event{ID: "2021-08-01/a-crane-lands", Date: "2021-08-01", Text: "A crane lands."}
	if _, err := srv.Update(l.WithContext(context.Background()), []index.Update{{Upsert: &e}}); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.Contains(out, `"req_id":"trace-1"`) || !strings.Contains(out, "updates applied") {
		t.Errorf("logged %q, want the update's line with its req_id", out)
	}
}

// TestUpdate_DottedCapitalI: an event an update brings is analysed as a
// build analyses it. Bleve's lower-case filter, which the index's own
// mapping holds, made İzmir the term "i\xb0zmi", which izmir never met.
func TestUpdate_DottedCapitalI(t *testing.T) {
	_, srv := serve(t, "base")
	e := newsdesk.Event{ID: "2020-02-01/izmir-hosts-a-fair", Date: "2020-02-01", Text: "İzmir hosts a trade fair."}
	if _, err := srv.Update(context.Background(), []index.Update{{Upsert: &e}}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"izmir", "İzmir", "IZMIR"} {
		res, err := srv.Engine().Search(context.Background(), search.Request{Q: q})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != 1 || res.Hits[0].ID != e.ID {
			t.Errorf("%s: %d events, want the update's", q, res.Total)
		}
	}
}

// TestLoad_CurrentUnreadable: a CURRENT that cannot be read is said so,
// and is not counted as a refused generation (none was).
func TestLoad_CurrentUnreadable(t *testing.T) {
	d, srv, refusals := serveCountingRefusals(t)
	current := filepath.Join(d.Path(), "CURRENT")
	if err := os.Remove(current); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(current, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Load(context.Background()); err == nil {
		t.Fatal("Load with CURRENT a directory: no error")
	}
	if f := srv.Failed(); !strings.HasPrefix(f, "CURRENT cannot be read") {
		t.Errorf("Failed() = %q, want it to say CURRENT cannot be read", f)
	}
	if n := refusals.Load(); n != 0 {
		t.Errorf("%d refusals counted, want none: no generation was refused", n)
	}
}

// serveCountingRefusals serves a first generation, as serve does, and
// counts the refusals the server reports (Config.OnSwap).
func serveCountingRefusals(t *testing.T) (*index.Dir, *Server, *atomic.Int64) {
	t.Helper()
	refusals := new(atomic.Int64)
	d, _ := index.NewDir(t.TempDir())
	publish(t, d, "first", false)
	srv := New(Config{Dir: d, Grace: 10 * time.Millisecond, OnSwap: func(_ string, err error) {
		if err != nil {
			refusals.Add(1)
		}
	}})
	t.Cleanup(func() { srv.Close() })
	if _, err := srv.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d, srv, refusals
}
