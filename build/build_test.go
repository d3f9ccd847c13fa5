package build

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/ingest"
	"github.com/newsdesk/newsdesk/mappings"
)

func TestRun(t *testing.T) {
	dir, err := index.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var last Progress
	sum, err := Run(context.Background(), Config{
		Dir:        dir,
		Files:      []string{"testdata/mixed.jsonl", "testdata/page.md"},
		OnProgress: func(p Progress) { last = p },
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Indexed != 2 || sum.Read != 3 || sum.Bad != 2 || sum.Duplicates != 1 || sum.Files != 2 {
		t.Errorf("summary = %+v, want 2 indexed, 3 read, 2 bad, 1 duplicate, 2 files", sum)
	}
	if last.Indexed != 2 || last.Bad != 2 || last.BytesRead != last.BytesTotal {
		t.Errorf("last progress = %+v, want 2 indexed, 2 bad and all bytes read", last)
	}

	// The report lists both bad lines with their numbers.
	f, err := os.Open(sum.Report)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var p ingest.Problem
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, p.Line)
	}
	if len(lines) != 2 || lines[0] != 2 || lines[1] != 4 {
		t.Errorf("report lines = %v, want [2 4]", lines)
	}

	// The duplicate merged field by field: the page's topic and URL, the JSONL's category and context.
	idx, err := dir.Open(mappings.New())
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	got, err := idx.Event(context.Background(), "2019-03-05/rebel-forces-of-the-flf-shell-the-harbour-of-port-elba-freedonia")
	if err != nil {
		t.Fatal(err)
	}
	want := newsdesk.Event{
		ID:   "2019-03-05/rebel-forces-of-the-flf-shell-the-harbour-of-port-elba-freedonia",
		Date: "2019-03-05", Category: "Armed conflicts and attacks", Topic: "Siege of Port Elba",
		Context: []string{"Siege of Port Elba", "Freedonian Civil War"},
		Text:    "Rebel forces of the FLF shell the harbour of Port Elba, Freedonia.",
		Sources: []newsdesk.Source{{Name: "Example News", URL: "https://news.example.org/elba-shelling"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merged event:\n got %+v\nwant %+v", got, want)
	}
	if _, err := idx.Event(context.Background(), "2019-03-06/no-date"); !errors.Is(err, newsdesk.ErrNotFound) {
		t.Errorf("Event of a bad record's id = %v, want ErrNotFound", err)
	}
}

func TestRun_MissingFilePublishesNothing(t *testing.T) {
	dir, _ := index.NewDir(t.TempDir())
	_, err := Run(context.Background(), Config{Dir: dir, Files: []string{"testdata/mixed.jsonl", "testdata/nope.jsonl"}})
	if err == nil {
		t.Fatal("Run with a missing file = nil, want an error")
	}
	if _, err := dir.Current(); err == nil {
		t.Error("a generation was published despite the error")
	}
}

// TestRun_ReportIsAnInput checks that a report path naming an input is
// refused before anything is written: the report was created (emptied)
// before the inputs were read, and the input lost.
func TestRun_ReportIsAnInput(t *testing.T) {
	in := filepath.Join(t.TempDir(), "events.jsonl")
	b, err := os.ReadFile("testdata/mixed.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	dir, _ := index.NewDir(t.TempDir())
	_, err = Run(context.Background(), Config{Dir: dir, Files: []string{"testdata/page.md", in}, ReportPath: in})
	if err == nil || !strings.Contains(err.Error(), "is the input") {
		t.Errorf("Run = %v, want the report refused as an input", err)
	}
	if after, _ := os.ReadFile(in); string(after) != string(b) {
		t.Errorf("the input holds %d bytes, was %d", len(after), len(b))
	}
}

// TestRun_Pipe reads an input from a pipe (/dev/stdin, <(zcat …)): the
// disk estimate must not read its first bytes, lost to the build after.
func TestRun_Pipe(t *testing.T) {
	b, err := os.ReadFile("testdata/mixed.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		w.Write(b)
		w.Close()
	}()
	defer r.Close()
	dir, _ := index.NewDir(t.TempDir())
	sum, err := Run(context.Background(), Config{Dir: dir, Files: []string{fmt.Sprintf("/proc/self/fd/%d", r.Fd())}})
	if err != nil || sum.Indexed == 0 {
		t.Errorf("Run over a pipe = %+v, %v; want its events", sum, err)
	}
}

func TestRun_Directory(t *testing.T) {
	src := t.TempDir()
	for name, from := range map[string]string{"a.jsonl": "testdata/mixed.jsonl", "b.md": "testdata/page.md", "README.md": "testdata/page.md", "notes.txt": "testdata/page.md",
		"notes.txt.gz": "testdata/page.md", "backup.tar.gz": "testdata/page.md"} {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(src+"/"+name, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir, _ := index.NewDir(t.TempDir())
	sum, err := Run(context.Background(), Config{Dir: dir, Files: []string{src}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Files != 2 || sum.Indexed != 2 || sum.Duplicates != 1 {
		t.Errorf("summary %+v: want the .jsonl and the .md read, README, .txt and other .gz files left out", sum)
	}
	if _, err := Run(context.Background(), Config{Dir: dir, Files: []string{t.TempDir()}}); err == nil {
		t.Error("an empty directory was accepted")
	}
}

func TestRun_Journal(t *testing.T) {
	dir, _ := index.NewDir(t.TempDir())
	added := newsdesk.Event{ID: "2019-03-07/a-new-event", Date: "2019-03-07", Text: "A new event."}
	err := dir.Journal().Append([]index.Update{{Upsert: &added}, {Delete: "2019-03-04/the-flf-announces-a-ceasefire-in-port-elba"}})
	if err != nil {
		t.Fatal(err)
	}
	files := []string{"testdata/mixed.jsonl"}
	sum, err := Run(context.Background(), Config{Dir: dir, Files: files})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Indexed != 2 || sum.Updates != 2 {
		t.Errorf("with the journal: %+v, want 2 events (2 - 1 + 1) and 2 updates", sum)
	}
	idx, err := dir.Open(mappings.New())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := idx.Event(context.Background(), added.ID); err != nil {
		t.Errorf("the journal's upsert: %v", err)
	}
	if _, err := idx.Event(context.Background(), "2019-03-04/the-flf-announces-a-ceasefire-in-port-elba"); !errors.Is(err, newsdesk.ErrNotFound) {
		t.Errorf("the journal's delete: %v", err)
	}
	idx.Close()
	// A build that drops the updates but fails keeps them: one with no
	// good event, one cancelled, one whose pointer cannot be written (a
	// full disk at the last step: here CURRENT.tmp is a directory).
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	if err := os.WriteFile(bad, []byte("{\"id\": \"broken\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	current, err := dir.Current()
	if err != nil {
		t.Fatal(err)
	}
	blocked := filepath.Join(dir.Path(), "CURRENT.tmp")
	for _, c := range []struct {
		name  string
		ctx   context.Context
		files []string
		block bool
	}{{"no good event", context.Background(), []string{bad}, false}, {"cancelled", cancelled, files, false},
		{"pointer not written", context.Background(), files, true}} {
		if c.block {
			if err := os.Mkdir(blocked, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := Run(c.ctx, Config{Dir: dir, Files: c.files, DropUpdates: true}); err == nil {
			t.Fatalf("-drop-updates, %s: no error", c.name)
		}
		if c.block {
			if err := os.Remove(blocked); err != nil {
				t.Fatal(err)
			}
		}
		n := 0
		dir.Journal().Read(func(index.Update) error { n++; return nil })
		if n != 2 {
			t.Errorf("-drop-updates, %s: the journal holds %d updates after the failed build, want its 2", c.name, n)
		}
		if now, _ := dir.Current(); now != current {
			t.Errorf("-drop-updates, %s: CURRENT is %s, want %s", c.name, now, current)
		}
		if names, _ := dir.Generations(); len(names) != 1 {
			t.Errorf("-drop-updates, %s: generations %v, want the published one alone", c.name, names)
		}
	}
	sum, err = Run(context.Background(), Config{Dir: dir, Files: files, DropUpdates: true})
	if err != nil || sum.Indexed != 2 || sum.Updates != 0 {
		t.Errorf("-drop-updates: %+v, %v; want the 2 events of the file alone", sum, err)
	}
	n := 0
	dir.Journal().Read(func(index.Update) error { n++; return nil })
	if n != 0 {
		t.Errorf("the journal holds %d updates after -drop-updates, want none", n)
	}
}

// TestRun_JournalUpsertReplaces replays a journal whose upsert of an
// event of the input files leaves fields empty: the rebuilt event is the
// upsert's, as the served index had it, not a merge with the file's.
// Duplicates among the input files still merge.
func TestRun_JournalUpsertReplaces(t *testing.T) {
	const id = "2019-03-04/the-flf-announces-a-ceasefire-in-port-elba"
	tests := []struct {
		name    string
		journal []index.Update
		want    newsdesk.Event
	}{
		{"fields cleared", []index.Update{{Upsert: &newsdesk.Event{ID: id, Date: "2019-03-04", Text: "The FLF announces a ceasefire."}}},
			newsdesk.Event{ID: id, Date: "2019-03-04", Text: "The FLF announces a ceasefire."}},
		{"the last upsert wins whole", []index.Update{
			{Upsert: &newsdesk.Event{ID: id, Date: "2019-03-04", Topic: "Ceasefire", Context: []string{"FLF"}, Text: "First."}},
			{Upsert: &newsdesk.Event{ID: id, Date: "2019-03-04", Category: "Politics", Text: "Second."}}},
			newsdesk.Event{ID: id, Date: "2019-03-04", Category: "Politics", Text: "Second."}},
		{"deleted, then upserted", []index.Update{{Delete: id}, {Upsert: &newsdesk.Event{ID: id, Date: "2019-03-04", Text: "Back."}}},
			newsdesk.Event{ID: id, Date: "2019-03-04", Text: "Back."}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, _ := index.NewDir(t.TempDir())
			if err := dir.Journal().Append(tc.journal); err != nil {
				t.Fatal(err)
			}
			if _, err := Run(context.Background(), Config{Dir: dir, Files: []string{"testdata/mixed.jsonl"}}); err != nil {
				t.Fatal(err)
			}
			idx, err := dir.Open(mappings.New())
			if err != nil {
				t.Fatal(err)
			}
			defer idx.Close()
			got, err := idx.Event(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("rebuilt event:\n%+v\nwant the upsert's:\n%+v", got, tc.want)
			}
		})
	}
}

// TestRun_JournalTornAndInvalid replays a journal a crash tore, holding
// upserts journaled before dates and ids were checked: the build cuts the
// torn tail (and says so), reports the bad upserts as bad records of the
// journal, and publishes the good events.
func TestRun_JournalTornAndInvalid(t *testing.T) {
	dir, _ := index.NewDir(t.TempDir())
	journal, err := os.ReadFile("testdata/torn-journal.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir.Journal().Path(), journal, 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := Run(context.Background(), Config{Dir: dir, Files: []string{"testdata/mixed.jsonl"}})
	if err != nil {
		t.Fatalf("the build failed on the journal: %v", err)
	}
	if sum.JournalRepaired == nil || !strings.Contains(sum.JournalRepaired.Reason, "no newline") || sum.JournalRepaired.KeptIn == "" {
		t.Errorf("summary %+v: want the torn tail reported", sum.JournalRepaired)
	}
	// The bad upserts are bad records, not updates replayed too.
	if sum.Indexed != 3 || sum.Updates != 1 || sum.Bad != 4 {
		t.Errorf("summary %+v: want 3 events (2 of the file, 1 of the journal), 1 update replayed, 4 bad records (2 of the file, 2 of the journal)", sum)
	}
	report, err := os.ReadFile(sum.Report)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"line":2,"reason":"upsert: date 0001-01-01 is outside the accepted range 1800-01-01 to 2199-12-31"`,
		`"line":3,"reason":"upsert: id \"../../etc/passwd\" does not start with the event's date 2019-03-07"`,
	} {
		if !strings.Contains(string(report), want) {
			t.Errorf("report lacks %s:\n%s", want, report)
		}
	}
}

// TestRun_JournalBatchLines: a bad upsert is reported at its line of the
// journal, where a batch line holds several updates (it was counted by
// updates: line 3 for the second line here).
func TestRun_JournalBatchLines(t *testing.T) {
	dir, _ := index.NewDir(t.TempDir())
	journal := `{"batch":[{"upsert":{"id":"2019-03-07/a-new-event","date":"2019-03-07","text":"A new event."}},{"delete":"2019-03-09/no-such-event"}]}` + "\n" +
		`{"upsert":{"id":"0001-01-01/a-null-date","date":"0001-01-01","text":"A null date, journaled before dates were checked."}}` + "\n"
	if err := os.WriteFile(dir.Journal().Path(), []byte(journal), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := Run(context.Background(), Config{Dir: dir, Files: []string{"testdata/mixed.jsonl"}})
	if err != nil {
		t.Fatal(err)
	}
	report, err := os.ReadFile(sum.Report)
	if err != nil {
		t.Fatal(err)
	}
	if want := `"line":2,"reason":"upsert: date 0001-01-01`; !strings.Contains(string(report), want) {
		t.Errorf("report lacks %s:\n%s", want, report)
	}
}

// streamLog is an UpdateLog of no message whose ID is ids[0] at the first
// call of StreamID, ids[1] after: a stream made again while the build
// reads it when they differ.
type streamLog struct {
	ids   []string
	calls int
}

func (l *streamLog) Replay(context.Context, func(uint64, []index.Update, error) error) (uint64, error) {
	return 0, nil
}
func (l *streamLog) Position(context.Context) (uint64, error) { return 0, nil }
func (l *streamLog) StreamID(context.Context) (string, error) {
	id := l.ids[min(l.calls, len(l.ids)-1)]
	l.calls++
	return id, nil
}

// TestRun_StreamID: a build from an update stream records the stream's ID
// beside its position, and fails, publishing nothing, when the stream was
// made again while it read it (its position would be of the old one).
func TestRun_StreamID(t *testing.T) {
	for _, drop := range []bool{false, true} {
		dir, _ := index.NewDir(t.TempDir())
		sum, err := Run(context.Background(), Config{Dir: dir, Files: []string{"testdata/mixed.jsonl"}, DropUpdates: drop,
			Updates: &streamLog{ids: []string{"2026-12-02T10:00:00Z"}}})
		if err != nil {
			t.Fatal(err)
		}
		if id, err := dir.StreamID(sum.Generation); err != nil || id != "2026-12-02T10:00:00Z" {
			t.Errorf("drop %v: StreamID = %q, %v; want the stream's", drop, id, err)
		}

		dir, _ = index.NewDir(t.TempDir())
		_, err = Run(context.Background(), Config{Dir: dir, Files: []string{"testdata/mixed.jsonl"}, DropUpdates: drop,
			Updates: &streamLog{ids: []string{"2026-12-02T10:00:00Z", "2026-12-02T10:00:05Z"}}})
		if err == nil || !strings.Contains(err.Error(), "made again") {
			t.Errorf("drop %v: a stream made again during the build: %v, want an error saying so", drop, err)
		}
		if _, err := dir.Current(); err == nil {
			t.Errorf("drop %v: a generation was published from a stream made again", drop)
		}
	}
}
