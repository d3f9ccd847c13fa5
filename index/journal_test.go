package index

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

// journalIn copies the testdata journal name (none when name is "") into
// a new index directory and returns the directory's journal.
func journalIn(t *testing.T, name string) *Journal {
	t.Helper()
	d, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	j := d.Journal()
	if name != "" {
		b, err := os.ReadFile(filepath.Join("testdata", "journal", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(j.Path(), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return j
}

func readIDs(t *testing.T, j *Journal) []string {
	t.Helper()
	var ids []string
	if err := j.Read(func(u Update) error { ids = append(ids, u.ID()); return nil }); err != nil {
		t.Fatalf("Read: %v", err)
	}
	return ids
}

const (
	flamingo  = "2019-06-01/a-flamingo-escapes"
	ceasefire = "2019-03-04/the-flf-announces-a-ceasefire-in-port-elba"
)

// TestJournal_Repair repairs journals that end well and journals a crash
// tore: a torn last line is cut and kept aside, whatever came before it is
// kept, and the journal then reads and takes appends cleanly.
func TestJournal_Repair(t *testing.T) {
	tests := []struct {
		file       string // in testdata/journal; "" for no journal at all
		wantCut    bool
		wantReason string
		wantIDs    []string // after the repair
	}{
		{"", false, "", nil},
		{"empty.jsonl", false, "", nil},
		{"sound.jsonl", false, "", []string{flamingo, ceasefire}},
		{"unterminated.jsonl", true, "has no newline", []string{flamingo}},
		// Complete JSON but no newline: the append never finished, so it
		// was never acknowledged.
		{"unterminated-valid.jsonl", true, "has no newline", []string{flamingo}},
		// A torn tail with a later append joined onto it (what the journal
		// looked like before appends were cut back on error).
		{"joined.jsonl", true, "is not a valid update", []string{flamingo}},
		{"only-torn.jsonl", true, "has no newline", nil},
		{"not-an-update.jsonl", true, `want {"upsert": EVENT}, {"delete": "ID"} or {"batch": [...]}`, []string{flamingo}},
	}
	for _, tc := range tests {
		t.Run(cmp.Or(tc.file, "no journal"), func(t *testing.T) {
			j := journalIn(t, tc.file)
			before, _ := os.ReadFile(j.Path())
			r, err := j.Repair()
			if err != nil {
				t.Fatalf("Repair: %v", err)
			}
			if (r.Cut > 0) != tc.wantCut || !strings.Contains(r.Reason, tc.wantReason) {
				t.Fatalf("Repair = %+v, want cut %v with a reason containing %q", r, tc.wantCut, tc.wantReason)
			}
			after, _ := os.ReadFile(j.Path())
			if tc.wantCut {
				kept, err := os.ReadFile(r.KeptIn)
				if err != nil {
					t.Fatalf("the cut bytes were not kept: %v", err)
				}
				if !strings.HasPrefix(filepath.Base(r.KeptIn), "updates.jsonl.torn-") || filepath.Dir(r.KeptIn) != filepath.Dir(j.Path()) {
					t.Errorf("kept in %s, want updates.jsonl.torn-UNIXTIME beside the journal", r.KeptIn)
				}
				if string(after)+string(kept) != string(before) || int64(len(after)) != r.At || int64(len(kept)) != r.Cut {
					t.Errorf("journal %q + kept %q is not the journal before, %q (repair %+v)", after, kept, before, r)
				}
			} else if string(after) != string(before) {
				t.Errorf("a sound journal was changed: %q, was %q", after, before)
			}
			if got := readIDs(t, j); strings.Join(got, ",") != strings.Join(tc.wantIDs, ",") {
				t.Errorf("after the repair the journal holds %v, want %v", got, tc.wantIDs)
			}
			// The next append starts a line of its own.
			if err := j.Append([]Update{{Delete: "2019-06-03/next"}}); err != nil {
				t.Fatal(err)
			}
			if got := readIDs(t, j); len(got) != len(tc.wantIDs)+1 || got[len(got)-1] != "2019-06-03/next" {
				t.Errorf("after an append: %v", got)
			}
			if r, err := j.Repair(); err != nil || r.Cut != 0 {
				t.Errorf("a second repair = %+v, %v; want nothing to cut", r, err)
			}
		})
	}
}

// TestJournal_RepairLongLastLine tears a last line longer than the block
// Repair reads backwards with.
func TestJournal_RepairLongLastLine(t *testing.T) {
	j := journalIn(t, "sound.jsonl")
	f, err := os.OpenFile(j.Path(), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	torn := `{"upsert":{"id":"2019-06-02/long","text":"` + strings.Repeat("a", 200<<10)
	f.WriteString(torn)
	f.Close()
	r, err := j.Repair()
	if err != nil || r.Cut != int64(len(torn)) {
		t.Fatalf("Repair = %+v, %v; want %d bytes cut", r, err, len(torn))
	}
	if got := readIDs(t, j); len(got) != 2 {
		t.Errorf("after the repair: %v, want the two sound updates", got)
	}
}

// TestJournal_BadLineInTheMiddle: only the tail is repaired; a bad line
// before it is an error of every read, naming the line.
func TestJournal_BadLineInTheMiddle(t *testing.T) {
	j := journalIn(t, "bad-middle.jsonl")
	if r, err := j.Repair(); err != nil || r.Cut != 0 {
		t.Fatalf("Repair = %+v, %v; want nothing cut", r, err)
	}
	err := j.Read(func(Update) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "line 2 (at byte ") || !strings.Contains(err.Error(), j.Path()) {
		t.Errorf("Read = %v, want an error naming line 2 of %s", err, j.Path())
	}
	// Read from the bad line's own byte (a generation's offset), the
	// same line: named by its byte, the one place both reads agree on.
	at := strings.SplitAfter(err.Error(), "(at byte ")[1]
	var b int64
	fmt.Sscanf(at, "%d", &b)
	_, err2 := j.ReadFrom(b, func(Update) error { return nil })
	if err2 == nil || !strings.Contains(err2.Error(), fmt.Sprintf("the line at byte %d:", b)) {
		t.Errorf("ReadFrom(%d) = %v, want an error naming the line at byte %d", b, err2, b)
	}
}

// TestJournal_AppendAllOrNothing makes appends fail part-way, as a full
// disk does: the journal is left exactly as before, the error says why,
// and the next append is whole.
func TestJournal_AppendAllOrNothing(t *testing.T) {
	e := newsdesk.Event{ID: "2019-06-02/a-heron-escapes", Date: "2019-06-02", Text: "A heron escapes."}
	updates := []Update{{Upsert: &e}, {Delete: ceasefire}}
	tests := []struct {
		name  string
		write func(f *os.File, b []byte) (int, error)
		sync  func(f *os.File) error
		want  error
	}{
		{"disk full half-way", func(f *os.File, b []byte) (int, error) {
			n, _ := f.Write(b[:len(b)/2])
			return n, syscall.ENOSPC
		}, nil, syscall.ENOSPC},
		{"disk full at the first byte", func(*os.File, []byte) (int, error) { return 0, syscall.ENOSPC }, nil, syscall.ENOSPC},
		{"fsync fails", nil, func(*os.File) error { return syscall.EIO }, syscall.EIO},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := journalIn(t, "sound.jsonl")
			before, _ := os.ReadFile(j.Path())
			j.write, j.sync = tc.write, tc.sync
			err := j.Append(updates)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), "append 2 updates") {
				t.Fatalf("Append = %v, want an error wrapping %v", err, tc.want)
			}
			if after, _ := os.ReadFile(j.Path()); string(after) != string(before) {
				t.Fatalf("a failed append left %q, want the journal as before, %q", after, before)
			}
			j.write, j.sync = nil, nil
			if err := j.Append(updates); err != nil {
				t.Fatal(err)
			}
			if got := readIDs(t, j); strings.Join(got, ",") != strings.Join([]string{flamingo, ceasefire, e.ID, ceasefire}, ",") {
				t.Errorf("after a failed then a good append: %v", got)
			}
		})
	}
}

// TestJournal_AppendAfterTornTail: an append onto a journal whose last
// line was cut short (a server on the directory killed in the middle of
// an append) cuts that line first and keeps it aside, so that the update
// appended reads back and the journal stays readable.
func TestJournal_AppendAfterTornTail(t *testing.T) {
	j := journalIn(t, "sound.jsonl")
	f, err := os.OpenFile(j.Path(), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	torn := `{"upsert": {"id": "2020-02-01/torn`
	if _, err := f.WriteString(torn); err != nil {
		t.Fatal(err)
	}
	f.Close()
	heron := newsdesk.Event{ID: "2019-06-02/a-heron-escapes", Date: "2019-06-02", Text: "A heron escapes."}
	if err := j.Append([]Update{{Upsert: &heron}}); err != nil {
		t.Fatal(err)
	}
	if got := readIDs(t, j); strings.Join(got, ",") != strings.Join([]string{flamingo, ceasefire, heron.ID}, ",") {
		t.Errorf("after an append onto a torn tail: %v, want the sound journal's two and the heron", got)
	}
	if r, err := j.Repair(); err != nil || r.Cut != 0 {
		t.Errorf("Repair after the append: %+v, %v; want nothing to cut", r, err)
	}
	kept, _ := filepath.Glob(j.Path() + tornSuffix + "*")
	if len(kept) != 1 {
		t.Fatalf("torn tails kept aside: %v, want one", kept)
	}
	if b, _ := os.ReadFile(kept[0]); string(b) != torn {
		t.Errorf("kept aside %q, want %q", b, torn)
	}
}

// TestJournal_AppendCreates: the first append creates the journal (and
// syncs its directory); a failed first append leaves an empty journal,
// which reads as no update.
func TestJournal_AppendCreates(t *testing.T) {
	j := journalIn(t, "")
	j.write = func(f *os.File, b []byte) (int, error) { f.Write(b[:3]); return 3, syscall.ENOSPC }
	if err := j.Append([]Update{{Delete: flamingo}}); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Append = %v, want ENOSPC", err)
	}
	if got := readIDs(t, j); len(got) != 0 {
		t.Errorf("after a failed first append: %v", got)
	}
	j.write = nil
	if err := j.Append([]Update{{Delete: flamingo}}); err != nil {
		t.Fatal(err)
	}
	if got := readIDs(t, j); len(got) != 1 {
		t.Errorf("after the first append: %v", got)
	}
}

// TestJournal_ReadSkipsAppendInProgress: a read while an append waits for
// its sync (its lines already in the file) must not return them: the sync
// fails, the append is cut back and reported failed, and a build that had
// replayed its updates would have applied what the client was told failed.
func TestJournal_ReadSkipsAppendInProgress(t *testing.T) {
	j := journalIn(t, "sound.jsonl")
	reader := &Journal{path: j.Path()} // another process's view: no shared mutex
	e := newsdesk.Event{ID: "2019-06-02/a-heron-escapes", Date: "2019-06-02", Text: "A heron escapes."}
	written, release := make(chan struct{}), make(chan struct{})
	j.sync = func(*os.File) error {
		close(written)
		<-release
		return syscall.EIO
	}
	failed := make(chan error)
	go func() { failed <- j.Append([]Update{{Upsert: &e}}) }()
	<-written
	read := make(chan []string)
	go func() {
		var ids []string
		_, err := reader.ReadFrom(0, func(u Update) error { ids = append(ids, u.ID()); return nil })
		if err != nil {
			t.Error(err)
		}
		read <- ids
	}()
	// Give the read time to run while the append's lines are in the file;
	// it must wait for the append, which then fails.
	time.Sleep(50 * time.Millisecond)
	close(release)
	if err := <-failed; !errors.Is(err, syscall.EIO) {
		t.Fatalf("Append = %v, want EIO", err)
	}
	if ids := <-read; strings.Join(ids, ",") != flamingo+","+ceasefire {
		t.Errorf("a read during a failed append returned %v, want only the journal's two updates before it", ids)
	}
}

// TestJournal_AppendWhileCleared: an append that opened the journal while
// a clear held its lock (another process: a build with -drop-updates)
// writes to the new journal, not to the file the clear unlinked.
func TestJournal_AppendWhileCleared(t *testing.T) {
	d, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	j := d.Journal()
	if err := j.Append([]Update{{Delete: "2019-03-04/dropped"}}); err != nil {
		t.Fatal(err)
	}
	// The clear's side, as Clear does it: the lock, then the unlink.
	held, err := os.OpenFile(j.Path(), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(held.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Journal().Append([]Update{{Delete: "2019-03-04/kept"}}) }()
	time.Sleep(50 * time.Millisecond) // the append waits for the lock
	if err := os.Remove(j.Path()); err != nil {
		t.Fatal(err)
	}
	held.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := j.Read(func(u Update) error { got = append(got, u.Delete); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "2019-03-04/kept" {
		t.Errorf("the journal after the clear holds %v, want the append made during it", got)
	}
}

// TestJournal_BatchAllOrNothing: the updates of one append are one line,
// so that a crash in the middle of it (the file cut anywhere in the
// append's bytes) leaves none of them, never its first ones: a searchd
// killed while journaling a bulk of 12,000 applied its first 3,341 at
// the next start, though the bulk was never acknowledged.
func TestJournal_BatchAllOrNothing(t *testing.T) {
	j := journalIn(t, "")
	one := newsdesk.Event{ID: "2019-06-02/a-heron-escapes", Date: "2019-06-02", Text: "A heron escapes."}
	if err := j.Append([]Update{{Upsert: &one}}); err != nil {
		t.Fatal(err)
	}
	before := j.Size()
	var batch []Update
	for i := range 50 {
		e := newsdesk.Event{ID: fmt.Sprintf("2019-06-03/stork-%d", i), Date: "2019-06-03", Text: "A stork escapes."}
		batch = append(batch, Update{Upsert: &e}, Update{Delete: fmt.Sprintf("2019-06-01/gone-%d", i)})
	}
	if err := j.Append(batch); err != nil {
		t.Fatal(err)
	}
	if got := readIDs(t, j); len(got) != 1+len(batch) || got[1] != batch[0].ID() || got[len(got)-1] != batch[len(batch)-1].ID() {
		t.Fatalf("read %d updates, want %d in order", len(got), 1+len(batch))
	}
	whole, err := os.ReadFile(j.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int64{before + 1, before + 100, (before + int64(len(whole))) / 2, int64(len(whole)) - 2, int64(len(whole)) - 1} {
		if err := os.WriteFile(j.Path(), whole[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		if got := readIDs(t, j); len(got) != 1 {
			t.Errorf("cut at byte %d of %d: before the repair, read %d updates, want the first append's 1", cut, len(whole), len(got))
		}
		if _, err := j.Repair(); err != nil {
			t.Fatal(err)
		}
		if got := readIDs(t, j); len(got) != 1 || j.Size() != before {
			t.Errorf("cut at byte %d: after the repair, %d updates and %d bytes, want 1 and %d", cut, len(got), j.Size(), before)
		}
	}
}
