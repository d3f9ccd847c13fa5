package search

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/mappings"
	"github.com/newsdesk/newsdesk/testindex"
)

// TestOwn_LeadAndTagsOnly checks what an event's score gets of its own in
// the walk: the lead boost when its lead names the query's word, the
// tags-only penalty when only its tags do, nothing otherwise; whatever
// the events' order in the index.
func TestOwn_LeadAndTagsOnly(t *testing.T) {
	dir := t.TempDir()
	lines := []string{
		`{"id": "2020-01-01/alpha-rises", "date": "2020-01-01", "text": "Alpha rises."}`,
		`{"id": "2020-01-02/beta-rises", "date": "2020-01-02", "text": "Beta rises."}`,
		`{"id": "2020-01-03/the-markets-of-the-capital-close-early-for-the-holiday-as-the-beta-index-falls", "date": "2020-01-03", "text": "The markets of the capital close early for the holiday as the beta index falls."}`,
		`{"id": "2020-01-04/gamma-falls", "date": "2020-01-04", "context": ["Beta"], "text": "Gamma falls."}`,
	}
	path := filepath.Join(dir, "events.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	x := testindex.Open(t, path)
	e, err := New(x.Source, mappings.New(), x.Index.Legacy)
	if err != nil {
		t.Fatal(err)
	}
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
	p, err := e.params(snap, e.Names(), Request{Q: "beta"})
	if err != nil {
		t.Fatal(err)
	}
	plan, ok, err := e.rankedPlanFor(snap, e.Names(), p)
	if err != nil || !ok {
		t.Fatalf("no ranked plan: %v", err)
	}
	r := e.ranking
	for _, tc := range []struct {
		id   string
		want float64
	}{
		{"2020-01-02/beta-rises", r.Early},
		{"2020-01-03/the-markets-of-the-capital-close-early-for-the-holiday-as-the-beta-index-falls", 0},
		{"2020-01-04/gamma-falls", -r.TagsOnly},
	} {
		if got := plan.own(nums[tc.id], math.Inf(-1)); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("own(%s) = %v, want %v", tc.id, plan.own(nums[tc.id], math.Inf(-1)), tc.want)
		}
	}
}
