package related

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/mappings"
	"github.com/newsdesk/newsdesk/snapshot"
	"github.com/newsdesk/newsdesk/testindex"
)

// The events of testdata/tags.jsonl that the tests name.
const (
	expels   = "2021-03-01/estonia-expels-a-russian-diplomat-accused-of-espionage-in-tallinn"
	response = "2021-03-03/russia-expels-an-estonian-diplomat-in-response-the-foreign-ministry-in-moscow-says"
	treaty   = "2021-02-10/the-border-treaty-is-ratified-by-the-parliament-in-tallinn"
	crossing = "2019-07-01/a-new-border-crossing-opens-between-narva-and-ivangorod"
	yangon   = "2021-03-02/protesters-in-yangon-demand-the-release-of-detained-leaders"
	latvia   = "2020-06-01/floods-in-latvia-force-thousands-from-their-homes"
	palmyra  = "2016-03-27/the-army-of-syria-retakes-the-ancient-city-of-palmyra"
	bath     = "2016-03-20/heavy-rain-floods-the-ancient-city-of-bath"
)

// TestRelated_NormalisedTags: tags spelt differently (case, dashes, word
// order, demonyms) meet, by id and from a draft's text; year tags link
// nothing; a place's adjective matches the place; the reasons name the
// related event's own tags.
func TestRelated_NormalisedTags(t *testing.T) {
	x := testindex.Open(t, "testdata/tags.jsonl")
	rk := New(mappings.New())
	tests := []struct {
		name   string
		r      Request
		want   map[string][]string // listed, with these shared tags
		absent []string
		story  string // by id: the one item on the source's story
		first  string // the first item, if it matters
	}{
		{
			name: "by id",
			r:    Request{ID: expels, Size: 10},
			want: map[string][]string{
				response: {"Russia–Estonia relations"},
				treaty:   {"Russia-Estonia relations"},
				crossing: {"Russia-Estonia relations"},
			},
			absent: []string{yangon, latvia}, // they share only a year, or nothing
			story:  response,
		},
		{
			name: "draft naming the tag in its text",
			r:    Request{Draft: &Draft{Text: "Relations between Estonia and Russia sour as Tallinn recalls its ambassador.", Date: "2021-03-05"}, Size: 10},
			want: map[string][]string{
				treaty:   {"Russia-Estonia relations"},
				crossing: {"Russia-Estonia relations"},
			},
			absent: []string{yangon, latvia},
		},
		{
			// Bath shares as many words, Palmyra's Syria is the draft's
			// Syrian; the draft adopts its one neighbour's tags.
			name:  "a place's adjective",
			r:     Request{Draft: &Draft{Text: "Syrian troops enter the ancient city."}, Size: 2},
			want:  map[string][]string{palmyra: {"Syrian civil war"}, bath: {}},
			first: palmyra,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			items := relatedOn(t, rk, x.Source, tc.r)
			got := map[string]Item{}
			for _, it := range items {
				got[it.ID] = it
			}
			for id, shared := range tc.want {
				it, ok := got[id]
				if !ok {
					t.Errorf("%s not listed: %v", id, ids(items))
					continue
				}
				if !slices.Equal(it.SharedContext, shared) {
					t.Errorf("%s: shared context %q, want %q", id, it.SharedContext, shared)
				}
				for _, s := range shared {
					if !strings.Contains(it.Reason, s) {
						t.Errorf("%s: reason %q does not name %q", id, it.Reason, s)
					}
				}
			}
			for _, id := range tc.absent {
				if _, ok := got[id]; ok {
					t.Errorf("%s listed: %+v", id, got[id])
				}
			}
			if tc.r.ID != "" {
				for id, it := range got {
					if it.SameTopic != (id == tc.story) {
						t.Errorf("%s: same topic %v", id, it.SameTopic)
					}
				}
				if !strings.Contains(got[tc.story].Reason, "Same story (Estonian-Russian relations)") {
					t.Errorf("reason %q", got[tc.story].Reason)
				}
			}
			if tc.first != "" && (len(items) == 0 || items[0].ID != tc.first) {
				t.Errorf("first %v, want %s", ids(items), tc.first)
			}
		})
	}
}

// TestRelated_Legacy: a generation built before tags had normal forms
// (no keys field) still answers, matching exact tags and words.
func TestRelated_Legacy(t *testing.T) {
	src := legacyIndex(t, "testdata/tags.jsonl")
	snap := src.Acquire()
	keys := len(snap.Keys)
	snap.Release()
	if keys > 1 {
		t.Fatalf("the legacy generation has %d keys", keys)
	}
	rk := New(mappings.New())
	items := relatedOn(t, rk, src, Request{ID: expels, Size: 10})
	got := ids(items)
	if !slices.Contains(got, response) {
		t.Errorf("the response (same words, another spelling of the tag) is not listed: %v", got)
	}
	for _, id := range []string{yangon, latvia} {
		if slices.Contains(got, id) {
			t.Errorf("%s listed", id)
		}
	}
	// Exact tags still meet.
	items = relatedOn(t, rk, src, Request{ID: treaty, Size: 10})
	for _, it := range items {
		if it.ID == crossing && !slices.Equal(it.SharedContext, []string{"Russia-Estonia relations"}) {
			t.Errorf("crossing: shared context %q", it.SharedContext)
		}
	}
	if !slices.Contains(ids(items), crossing) {
		t.Errorf("the event sharing the exact tag is not listed: %v", ids(items))
	}
}

func relatedOn(t *testing.T, rk *Ranker, src *snapshot.Source, r Request) []Item {
	t.Helper()
	snap := src.Acquire()
	defer snap.Release()
	items, err := rk.Related(context.Background(), snap, r)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// legacyIndex builds the events of a JSONL file with the mapping of
// generations before the ranking fields, and opens it.
func legacyIndex(t *testing.T, path string) *snapshot.Source {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := index.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.NewBuilder(index.BuildConfig{Mapping: mappings.Legacy()})
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e newsdesk.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
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
	idx, err := d.OpenWorking(g.Name, mappings.New(), nil, mappings.Legacy())
	if err != nil {
		t.Fatal(err)
	}
	src, err := snapshot.Open(context.Background(), idx, snapshot.Config{Follow: -1})
	if err != nil {
		idx.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		src.Close()
		idx.Close()
	})
	return src
}

// TestRelated_Concurrent: requests at once on one ranker (its caches of
// tags, dictionary and date priors are shared) give the lists they give
// one at a time. Run with -race.
func TestRelated_Concurrent(t *testing.T) {
	x := testindex.Open(t, "testdata/tags.jsonl")
	rk := New(mappings.New())
	floor := DefaultWeights
	floor.Floor = 0.9 // another date prior's table
	reqs := []Request{
		{ID: expels, Size: 10},
		{ID: treaty, Size: 10, Weights: &floor},
		{Draft: &Draft{Text: "Relations between Estonia and Russia sour.", Date: "2021-03-05"}, Size: 10},
		{Draft: &Draft{Text: "Syrian troops enter the ancient city."}, Size: 10},
	}
	want := make([][]string, len(reqs))
	for i, r := range reqs {
		want[i] = ids(relatedOn(t, New(mappings.New()), x.Source, r))
	}
	errs := make(chan error, 8*len(reqs))
	for g := range 8 {
		go func() {
			for k := range reqs {
				i := (g + k) % len(reqs)
				snap := x.Source.Acquire()
				items, err := rk.Related(context.Background(), snap, reqs[i])
				snap.Release()
				if err == nil && !slices.Equal(ids(items), want[i]) {
					err = fmt.Errorf("request %d: %v, want %v", i, ids(items), want[i])
				}
				errs <- err
			}
		}()
	}
	for range 8 * len(reqs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
