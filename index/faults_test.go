package index

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/mappings"
	"github.com/newsdesk/newsdesk/smallfs"
)

// TestWorkingCopy_DiskFull fills the filesystem under a working copy that
// takes a batch: Bleve cannot write the batch's segment, the copy reports
// it (Fault, wrapping ErrNoSpace) and retries slowly, searches go on from
// memory, and once space returns the write succeeds and the fault clears.
func TestWorkingCopy_DiskFull(t *testing.T) {
	root := smallfs.Mount(t, 16<<20)
	d, err := NewDir(filepath.Join(root, "index"))
	if err != nil {
		t.Fatal(err)
	}
	g := publish(t, d, 40, "alpha")
	var reported []error
	w, err := d.OpenWorking(g.Name, mappings.New(), func(err error) { reported = append(reported, err) })
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := d.CheckSpace(1 << 20); err != nil {
		t.Fatalf("with the disk empty: %v", err)
	}
	filler := smallfs.Fill(t, root)
	if err := d.CheckSpace(1 << 20); !errors.Is(err, newsdesk.ErrNoSpace) {
		t.Errorf("CheckSpace on a full disk = %v, want ErrNoSpace", err)
	}
	batch := w.NewBatch()
	for i := range 20 {
		id, dc := doc(t, fmt.Sprintf("new-%d", i), "event beta "+strings.Repeat("filler words ", 50))
		batch.Index(id, dc)
	}
	if err := w.Batch(batch); err != nil {
		t.Fatalf("batch on a full disk (not waited for on disk): %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for w.Fault() == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := w.Fault(); !errors.Is(err, newsdesk.ErrNoSpace) {
		t.Fatalf("Fault on a full disk = %v, want ErrNoSpace", err)
	}
	time.Sleep(time.Second)
	if n := w.BackgroundErrors(); n > 20 {
		t.Errorf("%d background errors in about a second: Bleve retries without pause", n)
	}
	if n := count(t, w, "text:beta"); n != 20 {
		t.Errorf("searches on a full disk find %d of the batch's 20 events", n)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(15 * time.Second)
	for w.Fault() != nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if err := w.Fault(); err != nil {
		t.Errorf("once space returned: Fault = %v, want nil", err)
	}
	if len(reported) == 0 {
		t.Error("the callback heard of no error")
	}
	if n := count(t, w, "text:beta"); n != 20 {
		t.Errorf("after the disk came back: %d of the batch's 20 events", n)
	}
}

// TestCheckSpace_DirectoryGone: when the free space cannot be told (the
// index directory removed under a running server), the check says so as
// unavailable, not as an internal error, nor as a full disk.
func TestCheckSpace_DirectoryGone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index")
	d, err := NewDir(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
	err = d.CheckSpace(1)
	if !errors.Is(err, newsdesk.ErrUnavailable) || errors.Is(err, newsdesk.ErrNoSpace) || !strings.Contains(err.Error(), path) {
		t.Errorf("CheckSpace of a removed directory: %v; want unavailable, naming it", err)
	}
}
