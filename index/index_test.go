package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	bmapping "github.com/blevesearch/bleve/v2/mapping"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/mappings"
)

func doc(t *testing.T, id, text string) (string, mappings.Doc) {
	t.Helper()
	e := newsdesk.Event{ID: id, Date: "2020-01-02", Text: text, Topic: "Test story"}
	d, err := mappings.NewDoc(&e)
	if err != nil {
		t.Fatal(err)
	}
	return id, d
}

// publish builds and publishes a generation of n documents, the text of
// each carrying tag.
func publish(t *testing.T, d *Dir, n int, tag string) Generation {
	t.Helper()
	b, err := d.NewBuilder(BuildConfig{Mapping: mappings.New(), BatchSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := b.Add(doc(t, fmt.Sprintf("id-%d", i), "event "+tag)); err != nil {
			t.Fatal(err)
		}
	}
	gen, err := b.Publish(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return gen
}

func count(t *testing.T, idx *Index, q string) uint64 {
	t.Helper()
	res, err := idx.Search(bleve.NewSearchRequest(bleve.NewQueryStringQuery(q)))
	if err != nil {
		t.Fatal(err)
	}
	return res.Total
}

func TestBuildPublishOpen(t *testing.T) {
	d, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Open(mappings.New()); !errors.Is(err, newsdesk.ErrNoGeneration) {
		t.Fatalf("Open of an empty directory = %v, want ErrNoGeneration", err)
	}
	g1 := publish(t, d, 50, "alpha")
	if g1.Docs != 50 || g1.Previous != "" {
		t.Errorf("first generation = %+v, want 50 docs and no previous", g1)
	}
	idx, err := d.Open(mappings.New())
	if err != nil {
		t.Fatal(err)
	}
	if idx.Generation != g1.Name || count(t, idx, "text:alpha") != 50 {
		t.Errorf("opened %s with %d alpha docs, want %s with 50", idx.Generation, count(t, idx, "text:alpha"), g1.Name)
	}

	e, err := idx.Event(context.Background(), "id-3")
	if err != nil || e.Text != "event alpha" || e.Date != "2020-01-02" || e.Topic != "Test story" || len(e.Sources) != 0 {
		t.Errorf("Event(id-3) = %+v, %v; want the stored event without sources", e, err)
	}
	if _, err := idx.Event(context.Background(), "nope"); !errors.Is(err, newsdesk.ErrNotFound) {
		t.Errorf("Event(nope) = %v, want ErrNotFound", err)
	}

	// While a second build runs, the first stays current and servable.
	b, err := d.NewBuilder(BuildConfig{Mapping: mappings.New()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.NewBuilder(BuildConfig{Mapping: mappings.New()}); !errors.Is(err, ErrLocked) {
		t.Errorf("second concurrent builder: %v, want ErrLocked", err)
	}
	for i := range 30 {
		b.Add(doc(t, fmt.Sprintf("id-%d", i), "event beta"))
	}
	if cur, _ := d.Current(); cur != g1.Name {
		t.Errorf("current during build = %s, want %s", cur, g1.Name)
	}
	g2, err := b.Publish(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if g2.Previous != g1.Name || g2.Docs != 30 {
		t.Errorf("second generation = %+v, want 30 docs after %s", g2, g1.Name)
	}
	// The index opened before the swap still answers from its generation.
	if n := count(t, idx, "text:alpha"); n != 50 {
		t.Errorf("old index answers %d alpha docs after the swap, want 50", n)
	}
	idx.Close()
	idx2, err := d.Open(mappings.New())
	if err != nil {
		t.Fatal(err)
	}
	defer idx2.Close()
	if idx2.Generation != g2.Name || count(t, idx2, "text:beta") != 30 || count(t, idx2, "text:alpha") != 0 {
		t.Errorf("after publish opened %s, want %s with only beta docs", idx2.Generation, g2.Name)
	}

	// A third generation prunes the first and keeps the second for rollback.
	g3 := publish(t, d, 5, "gamma")
	gens, _ := d.Generations()
	if strings.Join(gens, ",") != g2.Name+","+g3.Name {
		t.Errorf("generations after third build = %v, want [%s %s]", gens, g2.Name, g3.Name)
	}
	if entries, _ := os.ReadDir(filepath.Join(d.Path(), tmpDir)); len(entries) != 0 {
		t.Errorf("tmp/ holds %d entries after builds, want none", len(entries))
	}
}

func TestBuilder_LastDuplicateWins(t *testing.T) {
	d, _ := NewDir(t.TempDir())
	b, err := d.NewBuilder(BuildConfig{Mapping: mappings.New(), BatchSize: 3, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	// Copies of "dup" land in different batches handled by different workers.
	for round := range 5 {
		for i := range 10 {
			b.Add(doc(t, fmt.Sprintf("id-%d", i), "filler"))
		}
		b.Add(doc(t, "dup", fmt.Sprintf("version%d", round)))
	}
	gen, err := b.Publish(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if gen.Docs != 11 {
		t.Errorf("docs = %d, want 11 distinct ids", gen.Docs)
	}
	idx, err := d.Open(mappings.New())
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	if count(t, idx, "text:version4") != 1 || count(t, idx, "text:version3") != 0 {
		t.Error("the last copy of a duplicate id did not win")
	}
}

func TestBuilder_AbortAndEmpty(t *testing.T) {
	d, _ := NewDir(t.TempDir())
	g1 := publish(t, d, 3, "keep")

	b, _ := d.NewBuilder(BuildConfig{Mapping: mappings.New()})
	b.Add(doc(t, "x", "discarded"))
	if err := b.Abort(); err != nil {
		t.Fatal(err)
	}
	b, err := d.NewBuilder(BuildConfig{Mapping: mappings.New()})
	if err != nil {
		t.Fatalf("builder after abort: %v (lock not released?)", err)
	}
	if _, err := b.Publish(context.Background()); !errors.Is(err, ErrEmptyBuild) {
		t.Errorf("publishing an empty build = %v, want ErrEmptyBuild", err)
	}
	if cur, _ := d.Current(); cur != g1.Name {
		t.Errorf("current = %s after abort and empty build, want %s", cur, g1.Name)
	}
	if entries, _ := os.ReadDir(filepath.Join(d.Path(), tmpDir)); len(entries) != 0 {
		t.Errorf("tmp/ holds %d entries, want none", len(entries))
	}
}

// TestBuilder_AbortAfterAverageLength checks that a build given up after
// its documents were indexed (AverageLength ran: build.Run fails after it
// when the last segment's write fails) still releases the directory's
// lock and removes its temporary files.
func TestBuilder_AbortAfterAverageLength(t *testing.T) {
	d, _ := NewDir(t.TempDir())
	b, err := d.NewBuilder(BuildConfig{Mapping: mappings.New()})
	if err != nil {
		t.Fatal(err)
	}
	b.Add(doc(t, "x", "indexed then given up"))
	if _, err := b.AverageLength(); err != nil {
		t.Fatal(err)
	}
	if err := b.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.NewBuilder(BuildConfig{Mapping: mappings.New()}); err != nil {
		t.Fatalf("builder after abort: %v (lock not released?)", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(d.Path(), tmpDir)); len(entries) > 1 {
		t.Errorf("tmp/ holds %d entries, want only the new build's", len(entries))
	}
}

func TestBuilder_CancelledPublishKeepsCurrent(t *testing.T) {
	d, _ := NewDir(t.TempDir())
	g1 := publish(t, d, 3, "keep")
	b, _ := d.NewBuilder(BuildConfig{Mapping: mappings.New(), Now: func() time.Time { return time.Now().Add(time.Hour) }})
	b.Add(doc(t, "x", "new"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Publish(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Publish with a cancelled context = %v, want context.Canceled", err)
	}
	if cur, _ := d.Current(); cur != g1.Name {
		t.Errorf("current = %s, want %s", cur, g1.Name)
	}
}

func TestOpen_MappingMismatch(t *testing.T) {
	d, _ := NewDir(t.TempDir())
	other := mappings.New()
	other.DefaultAnalyzer = "standard"
	b, err := d.NewBuilder(BuildConfig{Mapping: other})
	if err != nil {
		t.Fatal(err)
	}
	b.Add(doc(t, "x", "text"))
	if _, err := b.Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err = d.Open(mappings.New())
	if !errors.Is(err, newsdesk.ErrMappingMismatch) || !strings.Contains(err.Error(), "rebuild") {
		t.Errorf("Open with another mapping = %v, want ErrMappingMismatch telling to rebuild", err)
	}
}

func TestCurrent_Corrupt(t *testing.T) {
	d, _ := NewDir(t.TempDir())
	os.WriteFile(filepath.Join(d.Path(), currentFile), []byte("../../etc\n"), 0o644)
	if _, err := d.Current(); err == nil || !strings.Contains(err.Error(), "not a generation name") {
		t.Errorf("Current with a corrupt pointer = %v, want an error naming the problem", err)
	}
}

func TestRollback(t *testing.T) {
	d, _ := NewDir(t.TempDir())
	if _, _, err := d.Rollback(); !errors.Is(err, newsdesk.ErrNoGeneration) {
		t.Errorf("rollback of an empty directory = %v", err)
	}
	g1 := publish(t, d, 3, "one")
	if _, _, err := d.Rollback(); !errors.Is(err, newsdesk.ErrNoGeneration) {
		t.Errorf("rollback with one generation = %v, want ErrNoGeneration", err)
	}
	g2 := publish(t, d, 4, "two")
	from, to, err := d.Rollback()
	if err != nil || from != g2.Name || to != g1.Name {
		t.Fatalf("rollback = %s → %s, %v; want %s → %s", from, to, err, g2.Name, g1.Name)
	}
	idx, err := d.Open(mappings.New())
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	if idx.Generation != g1.Name || count(t, idx, "text:one") != 3 {
		t.Errorf("after rollback serving %s", idx.Generation)
	}
}

// segments returns how many segments the index's current snapshot has.
func segments(t *testing.T, idx *Index) int {
	t.Helper()
	r, err := idx.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return len(r.(*scorch.IndexSnapshot).Segments())
}

// TestOpenWorking checks that a build publishes one segment, and that a
// server's working copy takes updates while the generation, untouched,
// stays readable by other processes.
func TestOpenWorking(t *testing.T) {
	d, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	g := publish(t, d, 40, "alpha") // batches of 7: several segments before compaction
	ro, err := d.Open(mappings.New())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if n := segments(t, ro); n != 1 {
		t.Errorf("published generation has %d segments, want 1 (compacted by the build)", n)
	}
	w, err := d.OpenWorking(g.Name, mappings.New(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// A second reader and a second working copy open while it is held.
	ro2, err := d.Open(mappings.New())
	if err != nil {
		t.Fatalf("read-only open while a working copy is open: %v", err)
	}
	ro2.Close()
	w2, err := d.OpenWorking(g.Name, mappings.New(), nil)
	if err != nil {
		t.Fatalf("second working copy: %v", err)
	}
	w2.Close()
	batch := w.NewBatch()
	for i := range 5 {
		id, dc := doc(t, fmt.Sprintf("id-%d", i), "event beta")
		if err := batch.Index(id, dc); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Batch(batch); err != nil {
		t.Fatal(err)
	}
	if a, b := count(t, w, "text:alpha"), count(t, w, "text:beta"); a != 35 || b != 5 {
		t.Errorf("working copy: %d alpha and %d beta, want 35 and 5", a, b)
	}
	if a, b := count(t, ro, "text:alpha"), count(t, ro, "text:beta"); a != 40 || b != 0 {
		t.Errorf("generation after updates to the copy: %d alpha and %d beta, want 40 and 0", a, b)
	}
	work := filepath.Join(d.Path(), workDir)
	if entries, _ := os.ReadDir(work); len(entries) != 1 {
		t.Errorf("work/ holds %d copies with one open, want 1", len(entries))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(work); len(entries) != 0 {
		t.Errorf("work/ holds %d copies after Close, want none", len(entries))
	}
	// A copy left by a crashed process (no lock held) is swept.
	stale := filepath.Join(work, g.Name+".dead")
	if err := os.MkdirAll(stale, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stale, lockFile), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	w3, err := d.OpenWorking(g.Name, mappings.New(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w3.Close()
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale working copy still there: %v", err)
	}
}

// TestClearJournal checks that clearing the journal (indexer build
// -drop-updates) sets the published generations' journal offsets to 0:
// a rollback to one of them then replays the new journal from its start,
// not from an offset into the journal cleared.
func TestClearJournal(t *testing.T) {
	d, _ := NewDir(t.TempDir())
	j := d.Journal()
	e := newsdesk.Event{ID: "2020-01-01/a", Date: "2020-01-01", Text: "a"}
	if err := j.Append([]Update{{Upsert: &e}}); err != nil {
		t.Fatal(err)
	}
	g1 := publishAfterJournal(t, d)
	if n, _ := d.JournalOffset(g1.Name); n == 0 {
		t.Fatal("the generation holds no journal offset")
	}
	if err := d.ClearJournal(1 << 62); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.JournalOffset(g1.Name); got != 0 {
		t.Errorf("journal offset of %s after the clear: %d, want 0", g1.Name, got)
	}
	if j.Size() != 0 {
		t.Errorf("journal holds %d bytes after the clear", j.Size())
	}
	// A clear that cannot set an offset to 0 keeps the journal: cleared
	// first, a generation would keep an offset into the journal gone,
	// which the next journal's updates read from the middle of a line.
	if err := j.Append([]Update{{Upsert: &e}}); err != nil {
		t.Fatal(err)
	}
	offset := filepath.Join(d.GenerationPath(g1.Name), journalOffsetFile)
	if err := os.Remove(offset); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(offset, []byte("7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(offset+".tmp", 0o755); err != nil { // the offset cannot be written
		t.Fatal(err)
	}
	if err := d.ClearJournal(1 << 62); err == nil {
		t.Fatal("ClearJournal: no error, though an offset could not be written")
	}
	if j.Size() == 0 {
		t.Error("a clear that failed to set an offset emptied the journal")
	}
}

// TestPrune_Reports: publishing removes the bad-input reports of builds
// older than the generations kept (the current and the previous): those
// of generations removed and of builds that failed before them.
func TestPrune_Reports(t *testing.T) {
	d, _ := NewDir(t.TempDir())
	report := func(gen string) string {
		p := filepath.Join(d.ReportsPath(), gen+".bad.jsonl")
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	g1 := publish(t, d, 3, "one")
	r1 := report(g1.Name)
	failed := report(g1.Name + "x") // a build after g1 that failed
	g2 := publish(t, d, 3, "two")
	r2 := report(g2.Name)
	g3 := publish(t, d, 3, "three")
	r3 := report(g3.Name)
	for _, tc := range []struct {
		path string
		kept bool
	}{{r1, false}, {failed, false}, {r2, true}, {r3, true}} {
		if _, err := os.Stat(tc.path); (err == nil) != tc.kept {
			t.Errorf("%s: present %v, want %v", filepath.Base(tc.path), err == nil, tc.kept)
		}
	}
	// A rollback, then a build: the generation rolled back from is
	// removed, and its report with it, though it is newer than the one
	// kept beside the build (it stayed, orphaned).
	if _, _, err := d.Rollback(); err != nil {
		t.Fatal(err)
	}
	g4 := publish(t, d, 3, "four")
	if g4.Previous != g2.Name {
		t.Fatalf("previous %s, want %s", g4.Previous, g2.Name)
	}
	for _, tc := range []struct {
		path string
		kept bool
	}{{r2, true}, {r3, false}} {
		if _, err := os.Stat(tc.path); (err == nil) != tc.kept {
			t.Errorf("after a rollback and a build, %s: present %v, want %v", filepath.Base(tc.path), err == nil, tc.kept)
		}
	}
}

// TestClearJournal_KeepsLaterUpdates: a build that drops the updates
// drops those journaled before it began; one acknowledged while it ran is
// kept, the new journal's first line, for the new generation.
func TestClearJournal_KeepsLaterUpdates(t *testing.T) {
	d, _ := NewDir(t.TempDir())
	j := d.Journal()
	before := newsdesk.Event{ID: "2020-01-01/before", Date: "2020-01-01", Text: "Journaled before the build."}
	during := newsdesk.Event{ID: "2020-01-02/during", Date: "2020-01-02", Text: "Acknowledged while it ran."}
	if err := j.Append([]Update{{Upsert: &before}, {Delete: "2019-01-01/x"}}); err != nil {
		t.Fatal(err)
	}
	b, err := d.NewBuilder(BuildConfig{Mapping: mappings.New()})
	if err != nil {
		t.Fatal(err)
	}
	keep, err := j.LockedSize()
	if err != nil {
		t.Fatal(err)
	}
	b.ClearJournalOnPublish(keep)
	if err := b.Add(doc(t, "x", "event")); err != nil {
		t.Fatal(err)
	}
	if err := j.Append([]Update{{Upsert: &during}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
	var ids []string
	if err := j.Read(func(u Update) error { ids = append(ids, u.ID()); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[0] != during.ID {
		t.Errorf("the journal after the build holds %v, want the update acknowledged while it ran, %s", ids, during.ID)
	}
	if err := j.Append([]Update{{Delete: before.ID}}); err != nil {
		t.Fatal(err)
	}
	if n := len(readIDs(t, j)); n != 2 {
		t.Errorf("an append after the clear: %d updates, want 2", n)
	}
}

// TestJournal_DropFirstAtALineStart: the length taken when a build began
// may fall inside a line, when a torn tail was cut and appended over
// since: that line came later, and is kept whole.
func TestJournal_DropFirstAtALineStart(t *testing.T) {
	d, _ := NewDir(t.TempDir())
	j := d.Journal()
	a := newsdesk.Event{ID: "2020-01-01/a", Date: "2020-01-01", Text: "A, dropped."}
	b := newsdesk.Event{ID: "2020-01-02/b", Date: "2020-01-02", Text: "B, kept: it came after the build began."}
	if err := j.Append([]Update{{Upsert: &a}}); err != nil {
		t.Fatal(err)
	}
	whole := j.Size()
	// A torn tail, taken in the length, then cut by the next append.
	f, err := os.OpenFile(j.Path(), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"upsert": {"id": "2020-01-0`)
	f.Close()
	keep := j.Size() // a length taken with the torn tail (LockedSize now stops before it)
	if keep <= whole {
		t.Fatalf("size %d", keep)
	}
	if err := j.Append([]Update{{Upsert: &b}}); err != nil {
		t.Fatal(err)
	}
	if err := j.DropFirst(keep); err != nil {
		t.Fatal(err)
	}
	if got := readIDs(t, j); len(got) != 1 || got[0] != b.ID {
		t.Errorf("after the drop: %v, want %s whole", got, b.ID)
	}
}

// TestJournal_LockedSizeLeavesATornTail: the length a drop build takes
// ends at the last whole line: a torn tail is cut by the next append,
// whose update, acknowledged while the build ran, must be kept.
func TestJournal_LockedSizeLeavesATornTail(t *testing.T) {
	d, _ := NewDir(t.TempDir())
	j := d.Journal()
	a := newsdesk.Event{ID: "2020-01-01/a", Date: "2020-01-01", Text: "A, dropped."}
	b := newsdesk.Event{ID: "2020-01-02/b", Date: "2020-01-02", Text: "B."}
	if err := j.Append([]Update{{Upsert: &a}}); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(j.Path(), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"upsert": {"id": "2020-01-03/` + strings.Repeat("x", 600))
	f.Close()
	keep, err := j.LockedSize()
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Append([]Update{{Upsert: &b}}); err != nil { // shorter than the tail it cuts
		t.Fatal(err)
	}
	if err := j.DropFirst(keep); err != nil {
		t.Fatal(err)
	}
	if got := readIDs(t, j); len(got) != 1 || got[0] != b.ID {
		t.Errorf("after the drop: %v, want %s, acknowledged while the build ran", got, b.ID)
	}
}

// TestGarbledTerms: a generation built with Bleve's lower-case filter
// holds İzmir as "i\xb0zmi"; one built with newsdesk's as izmir.
func TestGarbledTerms(t *testing.T) {
	for _, tt := range []struct {
		name string
		m    *bmapping.IndexMappingImpl
		want int
	}{
		{"Bleve's filter", bleve.NewIndexMapping(), 1},
		{"Bleve's filter and the stemmer", func() *bmapping.IndexMappingImpl {
			m := bleve.NewIndexMapping()
			m.DefaultAnalyzer = "en" // "i\uFFFDzmi": valid UTF-8
			return m
		}(), 1},
		{"newsdesk's", mappings.New(), 0},
	} {
		idx, err := bleve.NewMemOnly(tt.m)
		if err != nil {
			t.Fatal(err)
		}
		if tt.m.DefaultType != mappings.DocType {
			err = idx.Index("a", map[string]any{"text": "İzmir hosts a fair"})
		} else {
			err = idx.Index("a", mappings.Doc{Text: []string{"İzmir hosts a fair"}})
		}
		if err != nil {
			t.Fatal(err)
		}
		if n, err := GarbledTerms(idx, "text"); err != nil || n != tt.want {
			t.Errorf("%s: %d garbled terms (%v), want %d", tt.name, n, err, tt.want)
		}
		q := bleve.NewTermQuery("izmir")
		q.SetField("text")
		if res, err := idx.Search(bleve.NewSearchRequest(q)); err != nil || int(res.Total) != 1-tt.want {
			t.Errorf("%s: the term izmir found %v (%v), want %d", tt.name, res, err, 1-tt.want)
		}
		idx.Close()
	}
}

// TestJournalOffset_JournalReplaced: a journal cleared or moved aside by
// hand since a generation was built (truncated by logrotate's
// copytruncate) is read from its start, once new updates grew it past
// the generation's offset too: every line of it was written after the
// build. The generation's offset was read into it, and the updates
// acknowledged first were lost at the next restart.
func TestJournalOffset_JournalReplaced(t *testing.T) {
	upsert := func(id string) Update {
		return Update{Upsert: &newsdesk.Event{ID: "2020-01-01/" + id, Date: "2020-01-01", Text: "An update " + id + " is made."}}
	}
	d, _ := NewDir(t.TempDir())
	j := d.Journal()
	for _, id := range []string{"old-1", "old-2", "old-3"} {
		if err := j.Append([]Update{upsert(id)}); err != nil {
			t.Fatal(err)
		}
	}
	size := j.Size()
	g := publishAfterJournal(t, d)
	// Appended to: the offset holds.
	if err := j.Append([]Update{upsert("after-build")}); err != nil {
		t.Fatal(err)
	}
	if n, replaced := d.JournalOffset(g.Name); n != size || replaced {
		t.Fatalf("offset %d, replaced %v; want %d, false", n, replaced, size)
	}
	// Truncated by hand, then grown past the offset by new updates.
	if err := os.Truncate(j.Path(), 0); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, id := range []string{"new-1", "new-2", "new-3", "new-4"} {
		if err := j.Append([]Update{upsert(id)}); err != nil {
			t.Fatal(err)
		}
	}
	if j.Size() <= size {
		t.Fatalf("the new journal (%d bytes) is not past the offset (%d): the case is not made", j.Size(), size)
	}
	n, replaced := d.JournalOffset(g.Name)
	if n != 0 || !replaced {
		t.Fatalf("offset %d, replaced %v after the journal was replaced; want 0, true", n, replaced)
	}
	if _, err := j.ReadFrom(n, func(u Update) error { ids = append(ids, u.ID()); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 4 || ids[0] != "2020-01-01/new-1" {
		t.Errorf("replayed %v; want the 4 new updates", ids)
	}
	// A generation of before the marks (the offset alone) is read as it
	// was.
	if err := os.WriteFile(filepath.Join(d.GenerationPath(g.Name), journalOffsetFile), []byte("7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if n, replaced := d.JournalOffset(g.Name); n != 7 || replaced {
		t.Errorf("an offset without a mark: %d, %v; want 7, false", n, replaced)
	}
}

// TestPublish_CurrentMissing: when CURRENT names no generation that is
// there (an rsync copies CURRENT before the generations; a hand writes or
// removes it), which one servers serve is unknown, and a build removes
// none. It kept the missing name and removed every generation there was,
// the served one included.
func TestPublish_CurrentMissing(t *testing.T) {
	for _, current := range []string{"20991231T000000.000000000Z\n", "not a generation\n", ""} {
		d, err := NewDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		g1 := publish(t, d, 5, "alpha")
		g2 := publish(t, d, 5, "beta")
		path := filepath.Join(d.Path(), "CURRENT")
		if current == "" {
			err = os.Remove(path)
		} else {
			err = os.WriteFile(path, []byte(current), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
		g3 := publish(t, d, 5, "gamma")
		names, err := d.Generations()
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{g1.Name, g2.Name, g3.Name}; !slices.Equal(names, want) {
			t.Errorf("CURRENT %q: generations %v after a build, want all kept: %v", current, names, want)
		}
		if g3.Previous != "" {
			t.Errorf("CURRENT %q: previous %q, want none known", current, g3.Previous)
		}
		// Nor does a rollback guess by name what the build would not.
		if _, to, err := d.Rollback(); !errors.Is(err, newsdesk.ErrNoGeneration) || !strings.Contains(err.Error(), "unknown") {
			t.Errorf("CURRENT %q: rollback to %q, %v; want an error saying the previous one is unknown", current, to, err)
		}
	}
}

// TestRollback_ClockSteppedBack: a rollback goes to the generation the
// current one followed, as its build recorded it, not to the newest with
// an older name: names sort by the clock, which may have stepped back (a
// directory copied from a machine whose clock was ahead).
func TestRollback_ClockSteppedBack(t *testing.T) {
	d, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	g1 := publish(t, d, 5, "alpha")
	ahead := "20991231T000000.000000000Z"
	if err := os.Rename(d.GenerationPath(g1.Name), d.GenerationPath(ahead)); err != nil {
		t.Fatal(err)
	}
	if err := d.setCurrent(ahead); err != nil {
		t.Fatal(err)
	}
	g2 := publish(t, d, 5, "beta")
	if g2.Previous != ahead {
		t.Fatalf("previous %q, want %s", g2.Previous, ahead)
	}
	from, to, err := d.Rollback()
	if err != nil || from != g2.Name || to != ahead {
		t.Fatalf("rollback %s -> %s, %v; want %s -> %s", from, to, err, g2.Name, ahead)
	}
	// From there, nothing recorded is left: no older generation.
	if _, _, err := d.Rollback(); !errors.Is(err, newsdesk.ErrNoGeneration) {
		t.Errorf("a second rollback: %v, want ErrNoGeneration", err)
	}
}

// publishAfterJournal publishes a generation of one event that holds the
// whole journal of d, as a build that replayed it.
func publishAfterJournal(t *testing.T, d *Dir) Generation {
	t.Helper()
	b, err := d.NewBuilder(BuildConfig{Mapping: mappings.New()})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Add(doc(t, "x", "event")); err != nil {
		t.Fatal(err)
	}
	b.SetJournalOffset(d.Journal().Size())
	g, err := b.Publish(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestJournalOffset_ReplacedDuringTheBuild: the journal's mark is taken as
// the build's replay ends, not as it publishes, minutes later: a journal
// replaced in between (and grown past the offset) is applied from its
// start, not trusted because its mark was taken of the new one.
func TestJournalOffset_ReplacedDuringTheBuild(t *testing.T) {
	upsert := func(id string) []Update {
		return []Update{{Upsert: &newsdesk.Event{ID: "2020-01-01/" + id, Date: "2020-01-01", Text: "An update " + id + " is made."}}}
	}
	d, _ := NewDir(t.TempDir())
	j := d.Journal()
	for _, id := range []string{"old-1", "old-2"} {
		if err := j.Append(upsert(id)); err != nil {
			t.Fatal(err)
		}
	}
	b, err := d.NewBuilder(BuildConfig{Mapping: mappings.New()})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Add(doc(t, "x", "event")); err != nil {
		t.Fatal(err)
	}
	b.SetJournalOffset(j.Size()) // the replay ends
	if err := os.Truncate(j.Path(), 0); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"new-1", "new-2", "new-3"} {
		if err := j.Append(upsert(id)); err != nil {
			t.Fatal(err)
		}
	}
	g, err := b.Publish(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n, replaced := d.JournalOffset(g.Name); n != 0 || !replaced {
		t.Errorf("offset %d, replaced %v; want 0, true", n, replaced)
	}
}
