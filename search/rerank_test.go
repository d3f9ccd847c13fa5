package search

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/testindex"
)

// TestHas_PostingPastATarget checks that has finds an event of sel that
// the posting list reached while advancing to the one before it: its
// answer must not depend on the events' order in the index.
func TestHas_PostingPastATarget(t *testing.T) {
	dir := t.TempDir()
	lines := []string{
		`{"id": "2020-01-01/alpha-rises", "date": "2020-01-01", "text": "Alpha rises."}`,
		`{"id": "2020-01-02/beta-rises", "date": "2020-01-02", "text": "Beta rises."}`,
		`{"id": "2020-01-03/beta-falls", "date": "2020-01-03", "text": "Beta falls."}`,
	}
	path := filepath.Join(dir, "events.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	x := testindex.Open(t, path)
	snap := x.Source.Acquire()
	defer snap.Release()
	nums := map[string]uint64{}
	snap.EachLive(func(n uint64) {
		id, err := snap.ID(n)
		if err != nil {
			t.Fatal(err)
		}
		nums[id] = n
	})
	ps, err := snap.Postings(newsdesk.FieldLead, []byte("beta"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		sel  []string
		want []bool
	}{
		{"the first target absent", []string{"2020-01-01/alpha-rises", "2020-01-02/beta-rises"}, []bool{false, true}},
		{"both present", []string{"2020-01-02/beta-rises", "2020-01-03/beta-falls"}, []bool{true, true}},
		{"absent between", []string{"2020-01-01/alpha-rises", "2020-01-03/beta-falls"}, []bool{false, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sel := make([]scoredDoc, len(tc.sel))
			for i, id := range tc.sel {
				sel[i] = scoredDoc{num: nums[id]}
			}
			if sel[0].num > sel[1].num {
				t.Fatalf("events numbered out of input order: %v", nums)
			}
			in := make([]bool, len(sel))
			if err := has(snap, ps, sel, in); err != nil {
				t.Fatal(err)
			}
			for i := range in {
				if in[i] != tc.want[i] {
					t.Errorf("has = %v, want %v", in, tc.want)
					break
				}
			}
		})
	}
}
