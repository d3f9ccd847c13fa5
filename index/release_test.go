package index

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	segment "github.com/blevesearch/scorch_segment_api/v2"

	"github.com/newsdesk/newsdesk/mappings"
)

// Dropping a merge's pages from the resident set must never change what
// the merge reads: a page read again comes back from the file.
func TestReleasePages_KeepsContents(t *testing.T) {
	d, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	gen := publish(t, d, 300, "alpha")
	path := filepath.Join(d.GenerationPath(gen.Name), storeDir, fmt.Sprintf("%012x.zap", segmentID))
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	seg, err := segPlugin.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	data := seg.(interface{ Data() []byte }).Data()
	stop := releasePages([]segment.Segment{seg}, time.Microsecond)
	deadline := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(deadline) {
		if !bytes.Equal(data, want) {
			stop()
			t.Fatal("the mapping's contents changed while its pages were released")
		}
	}
	stop()
	if !bytes.Equal(data, want) {
		t.Fatal("the mapping's contents changed after its pages were released")
	}
}

// A build whose merges drop their pages all the time publishes every
// document, with its stored fields.
func TestBuilder_MergesWhileReleasingPages(t *testing.T) {
	defer func(old time.Duration) { releaseInterval = old }(releaseInterval)
	releaseInterval = time.Microsecond
	d, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	gen := publish(t, d, 500, "alpha") // 72 segments of 7: merged by 16 in the background, then at the end
	if gen.Docs != 500 {
		t.Fatalf("published %d documents, want 500", gen.Docs)
	}
	idx, err := d.Open(mappings.New())
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	if n := count(t, idx, "text:alpha"); n != 500 {
		t.Errorf("%d documents match alpha, want 500", n)
	}
	for _, id := range []string{"id-0", "id-250", "id-499"} {
		if e, err := idx.Event(context.Background(), id); err != nil || e.Text != "event alpha" {
			t.Errorf("Event(%s) = %+v, %v; want its stored text", id, e, err)
		}
	}
}
