package snapshot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	segment "github.com/blevesearch/scorch_segment_api/v2"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/build"
	"github.com/newsdesk/newsdesk/entities"
	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/mappings"
)

// open publishes a generation of events (event i on 2020-01-01 plus i
// days, topic "T<i%3>") and opens a working copy of it with a Source that
// does not follow the index by itself.
func open(t *testing.T, n int) (*index.Index, *Source) {
	t.Helper()
	events := make([]newsdesk.Event, n)
	for i := range events {
		events[i] = event(i, 0)
	}
	return openEvents(t, events)
}

// openEvents is open with the events given, indexed in their order.
func openEvents(t *testing.T, events []newsdesk.Event) (*index.Index, *Source) {
	t.Helper()
	return openConfig(t, events, Config{Follow: -1})
}

// openConfig is openEvents with the Source's configuration given.
func openConfig(t *testing.T, events []newsdesk.Event, cfg Config) (*index.Index, *Source) {
	t.Helper()
	return openDocs(t, events, cfg, mappings.NewDoc)
}

// openKeyed is openConfig with the events indexed as builds index them:
// their tags' keys, and their tags' words in the text.
func openKeyed(t *testing.T, events []newsdesk.Event, cfg Config) (*index.Index, *Source) {
	t.Helper()
	ents, err := entities.New()
	if err != nil {
		t.Fatal(err)
	}
	docs, err := mappings.NewDocs(ents)
	if err != nil {
		t.Fatal(err)
	}
	return openDocs(t, events, cfg, docs.Doc)
}

// openDocs is openConfig with the events' documents made by doc.
func openDocs(t *testing.T, events []newsdesk.Event, cfg Config, doc func(*newsdesk.Event) (mappings.Doc, error)) (*index.Index, *Source) {
	t.Helper()
	d, err := index.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.NewBuilder(index.BuildConfig{Mapping: mappings.New(), BatchSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		dc, err := doc(&e)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Add(e.ID, dc); err != nil {
			t.Fatal(err)
		}
	}
	g, err := b.Publish(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	idx, err := d.OpenWorking(g.Name, mappings.New(), nil)
	if err != nil {
		t.Fatal(err)
	}
	src, err := Open(context.Background(), idx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		src.Close()
		idx.Close()
	})
	return idx, src
}

func event(i, shift int) newsdesk.Event {
	return newsdesk.Event{
		ID:       fmt.Sprintf("id-%03d", i),
		Date:     time.Date(2020, 1, 1+i+shift, 0, 0, 0, 0, time.UTC).Format(newsdesk.DateLayout),
		Topic:    fmt.Sprintf("T%d", i%3),
		Category: "Sports",
		Context:  []string{fmt.Sprintf("C%d", i%2), "All"},
		Text:     fmt.Sprintf("Event number w%d happens.", i),
	}
}

func update(t *testing.T, idx *index.Index, src *Source, events []newsdesk.Event, deletes []string) {
	t.Helper()
	batch := idx.NewBatch()
	for _, e := range events {
		doc, _ := mappings.NewDoc(&e)
		if err := batch.Index(e.ID, doc); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range deletes {
		batch.Delete(id)
	}
	if err := idx.Batch(batch); err != nil {
		t.Fatal(err)
	}
	if err := src.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// byID maps event ids to their document numbers in s.
func byID(t *testing.T, s *Snapshot) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	s.EachLive(func(n uint64) {
		id, err := s.ID(n)
		if err != nil {
			t.Fatal(err)
		}
		out[id] = n
	})
	return out
}

func TestParseDay(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int32
	}{
		{"1970-01-01", 0},
		{"1970-01-02", 1},
		{"2017-01-23", DayNumber(time.Date(2017, 1, 23, 0, 0, 0, 0, time.UTC))},
		{"1969-12-31", -1},
		{"2021-02-29", NoDay},
		{"2021-13-01", NoDay},
		{"2021-1-01", NoDay},
		{"20x1-01-01", NoDay},
		{"", NoDay},
	} {
		if got := parseDay([]byte(tc.in)); got != tc.want {
			t.Errorf("parseDay(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// TestSnapshot_Columns checks the columns of events across segments, before
// and after updates, and that a snapshot keeps what it saw.
func TestSnapshot_Columns(t *testing.T) {
	idx, src := open(t, 30)
	before := src.Acquire()
	defer before.Release()
	if before.Docs() != 30 || before.Segments() != 1 {
		t.Fatalf("fresh snapshot: %d docs in %d segments, want 30 in 1", before.Docs(), before.Segments())
	}
	// Move event 4 by 100 days and give it another topic; delete event 5;
	// add event 40.
	moved := event(4, 100)
	moved.Topic = "Moved"
	update(t, idx, src, []newsdesk.Event{moved, event(40, 0)}, []string{"id-005"})
	after := src.Acquire()
	defer after.Release()
	if after.Epoch <= before.Epoch || after.Docs() != 30 || after.Segments() != 2 {
		t.Fatalf("after the update: epoch %d (before %d), %d docs in %d segments; want a later epoch, 30 docs in 2", after.Epoch, before.Epoch, after.Docs(), after.Segments())
	}
	for _, tc := range []struct {
		snap  *Snapshot
		id    string
		day   string
		topic string
	}{
		{before, "id-004", "2020-01-05", "T1"},
		{before, "id-005", "2020-01-06", "T2"},
		{after, "id-004", "2020-04-14", "Moved"},
		{after, "id-040", "2020-02-10", "T1"},
		{after, "id-029", "2020-01-30", "T2"},
	} {
		n, ok := byID(t, tc.snap)[tc.id]
		if !ok {
			t.Errorf("epoch %d: %s missing", tc.snap.Epoch, tc.id)
			continue
		}
		if got := DayTime(tc.snap.Day(n)).Format(newsdesk.DateLayout); got != tc.day {
			t.Errorf("epoch %d: %s dated %s, want %s", tc.snap.Epoch, tc.id, got, tc.day)
		}
		if got := tc.snap.Topics[tc.snap.Topic(n)]; got != tc.topic {
			t.Errorf("epoch %d: %s topic %q, want %q", tc.snap.Epoch, tc.id, got, tc.topic)
		}
		var ctx []string
		for _, c := range tc.snap.ContextsOf(n) {
			ctx = append(ctx, tc.snap.Contexts[c])
		}
		slices.Sort(ctx)
		if len(ctx) != 2 || ctx[0] != "All" {
			t.Errorf("epoch %d: %s context %v", tc.snap.Epoch, tc.id, ctx)
		}
		ev, err := tc.snap.EventAt(context.Background(), n)
		if err != nil || ev.ID != tc.id || ev.Date != tc.day || ev.Topic != tc.topic {
			t.Errorf("epoch %d: EventAt(%d) = %+v, %v; want %s on %s", tc.snap.Epoch, n, ev, err, tc.id, tc.day)
		}
	}
	if _, ok := byID(t, after)["id-005"]; ok {
		t.Error("a deleted event is live in the later snapshot")
	}
	if _, err := after.Event(context.Background(), "id-005"); err == nil {
		t.Error("Event of a deleted id: no error")
	}
	if p, err := after.Postings(newsdesk.FieldText, []byte("w4")); err != nil || p.DF() != 2 {
		t.Errorf("postings of w4: %v, %v; want 2 (the old version, deleted, and the new)", p, err)
	}
}

// TestDays checks day ranges over segments, and the date-range query run
// by Bleve on a reader it opened itself.
func TestDays(t *testing.T) {
	idx, src := open(t, 40)
	update(t, idx, src, []newsdesk.Event{event(3, 20), event(50, 0)}, []string{"id-010"})
	s := src.Acquire()
	defer s.Release()
	lo := DayNumber(time.Date(2020, 1, 10, 0, 0, 0, 0, time.UTC))
	hi := DayNumber(time.Date(2020, 1, 25, 0, 0, 0, 0, time.UTC))
	var got []string
	days := s.Days(lo, hi)
	for n, ok := days.NextLive(0); ok; n, ok = days.NextLive(n + 1) {
		id, _ := s.ID(n)
		got = append(got, id)
		if !days.Contains(n) {
			t.Errorf("%s: NextLive found it, Contains says no", id)
		}
	}
	slices.Sort(got)
	// Days 10-25 are events 9-24, less the deleted 10, plus event 3 moved to day 24.
	var want []string
	for i := 9; i <= 24; i++ {
		if i != 10 {
			want = append(want, fmt.Sprintf("id-%03d", i))
		}
	}
	want = append([]string{"id-003"}, want...)
	if !slices.Equal(got, want) {
		t.Errorf("days 10-25: %v, want %v", got, want)
	}
	res, err := idx.Search(bleve.NewSearchRequestOptions(DayRangeQuery(src, lo, hi), 100, 0, false))
	if err != nil {
		t.Fatal(err)
	}
	var viaBleve []string
	for _, h := range res.Hits {
		viaBleve = append(viaBleve, h.ID)
	}
	slices.Sort(viaBleve)
	if !slices.Equal(viaBleve, want) {
		t.Errorf("DayRangeQuery through Bleve: %v, want %v", viaBleve, want)
	}
}

// TestDays_Scrambled walks day ranges over events indexed out of date
// order, whose blocks of the day column (dayBlock) overlap many ranges:
// Next and EachLive must find exactly the events a check of every one
// finds.
func TestDays_Scrambled(t *testing.T) {
	const n = 700
	events := make([]newsdesk.Event, n)
	for i := range events {
		events[i] = event(i, (i*37)%n-i) // event i on day (i*37)%n: a permutation
		if i%100 < 10 {
			events[i] = event(i, 2*n-i) // runs of later days, as a second file's
		}
	}
	idx, src := openEvents(t, events)
	update(t, idx, src, nil, []string{"id-005", "id-300"})
	s := src.Acquire()
	defer s.Release()
	day0 := DayNumber(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
	var all, allBack []uint64
	s.EachLive(func(m uint64) { all = append(all, m) })
	s.EachLiveBackward(func(m uint64) { allBack = append(allBack, m) })
	slices.Reverse(allBack)
	if !slices.Equal(all, allBack) || len(all) != n-2 {
		t.Errorf("EachLive found %d events, EachLiveBackward %d; want %d, the same", len(all), len(allBack), n-2)
	}
	ranges := [][2]int32{{0, n}, {2 * n, 2*n + 5}, {5 * n, 6 * n}, {0, 3 * n}} // the last: every block whole, two with a deletion
	for lo := int32(0); lo < n; lo += 7 {
		for _, w := range []int32{0, 1, 5, 40} {
			ranges = append(ranges, [2]int32{lo, lo + w})
		}
	}
	for _, r := range ranges {
		lo, hi := day0+r[0], day0+r[1]
		var want []uint64
		s.EachLive(func(m uint64) {
			if d := s.Day(m); d >= lo && d <= hi {
				want = append(want, m)
			}
		})
		days := s.Days(lo, hi)
		var next, each []uint64
		for m, ok := days.NextLive(0); ok; m, ok = days.NextLive(m + 1) {
			next = append(next, m)
		}
		days.EachLive(func(m uint64, day int32) bool {
			if day != s.Day(m) {
				t.Errorf("EachLive gave event %d the day %d, want %d", m, day, s.Day(m))
			}
			each = append(each, m)
			return true
		})
		var back []uint64
		days.EachLiveBackward(func(m uint64, day int32) bool {
			if day != s.Day(m) {
				t.Errorf("EachLiveBackward gave event %d the day %d, want %d", m, day, s.Day(m))
			}
			back = append(back, m)
			return true
		})
		slices.Reverse(back)
		if got := days.Count(); got != uint64(len(want)) {
			t.Errorf("days %d-%d: Count = %d, want %d", r[0], r[1], got, len(want))
		}
		for _, backward := range []bool{false, true} {
			var in []uint64
			days.EachLiveIn(backward, func(int32, int32) bool { return true }, func(m uint64, _ int32) bool { in = append(in, m); return true })
			if backward {
				slices.Reverse(in)
			}
			if !slices.Equal(in, want) {
				t.Errorf("days %d-%d: EachLiveIn (backward %v) admitting every block found %d events, want %d", r[0], r[1], backward, len(in), len(want))
			}
			// Admitting the blocks with a day up to cut visits every
			// event dated up to cut.
			cut := lo + (hi-lo)/3
			seen := map[uint64]bool{}
			days.EachLiveIn(backward, func(earliest, _ int32) bool { return earliest <= cut }, func(m uint64, _ int32) bool { seen[m] = true; return true })
			for _, m := range want {
				if s.Day(m) <= cut && !seen[m] {
					t.Errorf("days %d-%d: EachLiveIn (backward %v) admitting days up to %d missed event %d", r[0], r[1], backward, cut, m)
					break
				}
			}
		}
		if !slices.Equal(next, want) || !slices.Equal(each, want) || !slices.Equal(back, want) {
			t.Errorf("days %d-%d: NextLive found %d events, EachLive %d, EachLiveBackward %d; want %d (%v)", r[0], r[1], len(next), len(each), len(back), len(want), want)
		}
	}
}

// TestAcquire_Release checks that a snapshot outlives its replacement
// while acquired, and that Refresh without a write keeps the snapshot.
func TestAcquire_Release(t *testing.T) {
	idx, src := open(t, 5)
	s1 := src.Acquire()
	if err := src.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s2 := src.Acquire(); s2 != s1 {
		t.Error("a refresh with nothing written made a new snapshot")
	} else {
		s2.Release()
	}
	update(t, idx, src, []newsdesk.Event{event(9, 0)}, nil)
	if s1.refs.Load() != 1 {
		t.Errorf("replaced snapshot holds %d references, want the one acquired", s1.refs.Load())
	}
	if ev, err := s1.Event(context.Background(), "id-001"); err != nil || ev.ID != "id-001" {
		t.Errorf("replaced snapshot still acquired: %+v, %v", ev, err)
	}
	s1.Release()
	if s1.refs.Load() != 0 {
		t.Errorf("released snapshot holds %d references", s1.refs.Load())
	}
}

// TestSnapshot_RankingColumns checks the columns a build's ranking fields
// give: tag keys, stubs, and the average field lengths.
func TestSnapshot_RankingColumns(t *testing.T) {
	d, err := index.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sum, err := build.Run(context.Background(), build.Config{Dir: d, Files: []string{"../search/testdata/events.jsonl"}})
	if err != nil {
		t.Fatal(err)
	}
	idx, err := d.OpenWorking(sum.Generation, mappings.New(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	src, err := Open(context.Background(), idx, Config{Follow: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	s := src.Acquire()
	defer s.Release()
	if s.Lengths.Text < 5 {
		t.Errorf("average field lengths %+v: want the build's", s.Lengths)
	}
	ids := byID(t, s)
	n, ok := ids["2017-01-23/peace-talks-in-astana-kazakhstan-end-with-no-breakthrough-reported"]
	if !ok {
		t.Fatal("the Astana event is missing")
	}
	var keys []string
	for _, k := range s.KeysOf(n) {
		keys = append(keys, s.Keys[k])
	}
	slices.Sort(keys)
	if want := []string{"astana", "civil syria war", "peac process syria"}; !slices.Equal(keys, want) {
		t.Errorf("keys of the Astana event %q, want %q", keys, want)
	}
	stubs := 0
	s.EachLive(func(n uint64) {
		if s.Stub(n) {
			stubs++
		}
	})
	if stubs != 0 {
		t.Errorf("%d stubs among the fixture's real events", stubs)
	}
}

// TestTryAcquire_AfterClose checks that work outliving a source, such as
// a background recount of names, finds it closed instead of panicking.
func TestTryAcquire_AfterClose(t *testing.T) {
	_, src := open(t, 3)
	snap := src.TryAcquire()
	if snap == nil {
		t.Fatal("TryAcquire on an open source failed")
	}
	snap.Release()
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if snap := src.TryAcquire(); snap != nil {
		t.Errorf("TryAcquire after Close = %v; want nil", snap)
	}
}

// TestPostings_List: decoded lists hold what the iterators give, long
// ones are decoded once, and Number finds live documents by id.
func TestPostings_List(t *testing.T) {
	idx, src := open(t, 150)
	update(t, idx, src, []newsdesk.Event{event(3, 20), event(200, 0)}, []string{"id-010"})
	s := src.Acquire()
	defer s.Release()
	if s.Segments() < 2 {
		t.Fatalf("%d segments; the test wants an update segment", s.Segments())
	}
	for _, term := range []string{"event", "w4", "w200", "absent"} {
		p, err := s.Postings(newsdesk.FieldText, []byte(term))
		if err != nil {
			t.Fatal(err)
		}
		for i := range s.Segments() {
			l, err := p.List(i)
			if err != nil {
				t.Fatal(err)
			}
			var want []uint32
			var freqs, lens []uint16
			if it := p.Iterator(i, true); it != nil {
				for d, err := it.Next(); d != nil || err != nil; d, err = it.Next() {
					if err != nil {
						t.Fatal(err)
					}
					want = append(want, uint32(d.Number()))
					freqs = append(freqs, uint16(d.Frequency()))
					lens = append(lens, normLength(d.Norm()))
				}
			}
			if l == nil {
				if want != nil {
					t.Errorf("%s, segment %d: no list, want %v", term, i, want)
				}
				continue
			}
			if !slices.Equal(l.Docs, want) || !slices.Equal(l.Freqs, freqs) || !slices.Equal(l.Lens, lens) {
				t.Errorf("%s, segment %d: list %+v, want docs %v freqs %v lengths %v", term, i, l, want, freqs, lens)
			}
			if slices.Contains(l.Lens, 0) {
				t.Errorf("%s, segment %d: a length of 0 in %v", term, i, l.Lens)
			}
			again, _ := p.List(i)
			if cached := again == l; cached != (len(want) >= CacheMinDF) {
				t.Errorf("%s, segment %d: %d postings, cached %v", term, i, len(want), cached)
			}
		}
		// Asked again, a long list's zap postings come from the
		// segment's cache: the same postings.
		p2, err := s.Postings(newsdesk.FieldText, []byte(term))
		if err != nil {
			t.Fatal(err)
		}
		if p2.DF() != p.DF() {
			t.Errorf("%s asked again: df %d, want %d", term, p2.DF(), p.DF())
		}
		for i := range s.Segments() {
			_, inCache := s.segs[i].cols.lists.pls.Load(newsdesk.FieldText + "\x00" + term)
			n := uint64(0)
			if p.lists[i] != nil {
				n = p.lists[i].Count()
			}
			_, onDisk := s.segs[i].ss.Segment().(segment.PersistedSegment)
			if inCache != (onDisk && n >= CacheMinDF) {
				t.Errorf("%s, segment %d: %d postings, on disk %v, zap's list cached %v", term, i, n, onDisk, inCache)
			}
			var got, want []uint64
			for _, pp := range []struct {
				p   *Postings
				out *[]uint64
			}{{p, &want}, {p2, &got}} {
				if it := pp.p.Iterator(i, false); it != nil {
					for d, err := it.Next(); d != nil || err != nil; d, err = it.Next() {
						if err != nil {
							t.Fatal(err)
						}
						*pp.out = append(*pp.out, d.Number())
					}
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s asked again, segment %d: %v, want %v", term, i, got, want)
			}
		}
	}
	for _, tc := range []struct {
		id   string
		live bool
	}{{"id-003", true}, {"id-200", true}, {"id-042", true}, {"id-010", false}, {"nope", false}} {
		n, err := s.Number(tc.id)
		if !tc.live {
			if !errors.Is(err, newsdesk.ErrNotFound) {
				t.Errorf("Number(%s) = %d, %v; want ErrNotFound", tc.id, n, err)
			}
			continue
		}
		if ev, err2 := s.EventAt(context.Background(), n); err != nil || err2 != nil || ev.ID != tc.id {
			t.Errorf("Number(%s) = %d, %v: event %s, %v", tc.id, n, err, ev.ID, err2)
		}
	}
}

// cached reports whether segment i of s holds the decoded list of term.
func cached(s *Snapshot, i int, field, term string) (*List, bool) {
	l, ok := s.segs[i].cols.lists.m.Load(field + "\x00" + term)
	if !ok {
		return nil, false
	}
	return l.(*List), true
}

func TestSource_Warm(t *testing.T) {
	events := make([]newsdesk.Event, 150)
	for i := range events {
		events[i] = event(i, 0)
	}
	_, cold := openEvents(t, events)
	idx, src := openConfig(t, events, Config{Follow: -1, Warm: []string{newsdesk.FieldText}})
	if err := src.Warmed(context.Background()); err != nil {
		t.Fatal(err)
	}
	s, c := src.Acquire(), cold.Acquire()
	defer s.Release()
	defer c.Release()
	for _, tc := range []struct {
		field, term string
		warm        bool
	}{
		{newsdesk.FieldText, "event", true},   // in all 150
		{newsdesk.FieldText, "happen", true},  // a stem
		{newsdesk.FieldText, "w4", false},     // in 1: decoded when asked, never kept
		{newsdesk.FieldTopic, "T0", false},    // 50, but not a warmed field
		{newsdesk.FieldContext, "All", false}, // 150, not a warmed field
	} {
		got, ok := cached(s, 0, tc.field, tc.term)
		if ok != tc.warm {
			t.Errorf("%s:%s: warmed %v, want %v", tc.field, tc.term, ok, tc.warm)
		}
		if _, ok := cached(c, 0, tc.field, tc.term); ok {
			t.Errorf("%s:%s: decoded by a Source without Warm", tc.field, tc.term)
		}
		if !ok {
			continue
		}
		// What the warm decoded is what a request decodes, and what it
		// is then given.
		p, err := c.Postings(tc.field, []byte(tc.term))
		if err != nil {
			t.Fatal(err)
		}
		want, err := p.List(0)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Docs, want.Docs) || !slices.Equal(got.Freqs, want.Freqs) || !slices.Equal(got.Lens, want.Lens) {
			t.Errorf("%s:%s: warmed %+v, decoded %+v", tc.field, tc.term, got, want)
		}
		p, _ = s.Postings(tc.field, []byte(tc.term))
		if l, _ := p.List(0); l != got {
			t.Errorf("%s:%s: List did not return the warmed list", tc.field, tc.term)
		}
	}

	// A segment an update adds is warmed too, once.
	update(t, idx, src, []newsdesk.Event{event(200, 0)}, nil)
	if err := src.Warmed(context.Background()); err != nil {
		t.Fatal(err)
	}
	u := src.Acquire()
	defer u.Release()
	for i := range u.Segments() {
		if !u.segs[i].cols.warmed.Load() {
			t.Errorf("segment %d of %d not warmed", i, u.Segments())
		}
	}
}

// TestSource_WarmAfterOneHit: zap's dictionary iterator reads each
// term's postings into one PostingsList without clearing it, so after a
// term of one event (written "1-hit", in a field without positions, such
// as the tags' keys) it counts every term 1. The warm counts the lists
// itself: the key of 75 events after one of 1 is warmed.
func TestSource_WarmAfterOneHit(t *testing.T) {
	events := make([]newsdesk.Event, 150)
	for i := range events {
		events[i] = event(i, 0)
	}
	one := event(150, 0)
	one.Context = []string{"Aardvark"} // the first key, of one event
	events = append(events, one)
	_, src := openKeyed(t, events, Config{Follow: -1, Warm: []string{newsdesk.FieldKeys}})
	if err := src.Warmed(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := src.Acquire()
	defer s.Release()
	p, err := s.Postings(newsdesk.FieldKeys, []byte("c0"))
	if err != nil {
		t.Fatal(err)
	}
	if p.DF() != 75 {
		t.Fatalf("keys:c0 holds %d events, want 75", p.DF())
	}
	if _, ok := cached(s, 0, newsdesk.FieldKeys, "c0"); !ok {
		t.Error("keys:c0, of 75 events after a key of one, was not warmed")
	}
	if _, ok := cached(s, 0, newsdesk.FieldKeys, "aardvark"); ok {
		t.Error("keys:aardvark, of one event, was warmed")
	}
}

func TestSource_CloseWhileWarming(t *testing.T) {
	events := make([]newsdesk.Event, 300)
	for i := range events {
		events[i] = event(i, 0)
	}
	_, src := openConfig(t, events, Config{Follow: -1, Warm: []string{newsdesk.FieldText, newsdesk.FieldKeys}})
	// Close stops the warm and waits for it: the index is closed next
	// (the Cleanup), and a warm reading a closed segment would crash.
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := src.Warmed(ctx); err != nil {
		t.Fatalf("a warm still running after Close: %v", err)
	}
}

// TestSource_HoldStopsFollow: while a Hold is in force, follow's refresh
// leaves the snapshot as it is, the check made under Refresh's lock; a
// Hold waits for a refresh under way, so that none shows part of what
// the holder writes.
func TestSource_HoldStopsFollow(t *testing.T) {
	idx, src := open(t, 3)
	release := src.Hold()
	batch := idx.NewBatch()
	e := event(3, 0)
	doc, _ := mappings.NewDoc(&e)
	if err := batch.Index(e.ID, doc); err != nil {
		t.Fatal(err)
	}
	if err := idx.Batch(batch); err != nil {
		t.Fatal(err)
	}
	epoch := src.cur.Load().Epoch
	if err := src.followRefresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := src.cur.Load().Epoch; got != epoch {
		t.Errorf("a held source was refreshed by follow: epoch %d -> %d", epoch, got)
	}
	release()
	if err := src.followRefresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	snap := src.Acquire()
	defer snap.Release()
	if _, ok := byID(t, snap)[e.ID]; !ok {
		t.Error("released, follow's refresh does not show the update")
	}

	// A refresh under way (its lock taken): Hold waits for it.
	src.mu.Lock()
	held := make(chan func())
	go func() { held <- src.Hold() }()
	select {
	case r := <-held:
		r()
		t.Error("Hold returned while a refresh held the lock")
	case <-time.After(50 * time.Millisecond):
	}
	src.mu.Unlock()
	(<-held)()
}
