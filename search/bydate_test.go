package search

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/collector"

	"github.com/newsdesk/newsdesk/query"
	"github.com/newsdesk/newsdesk/testindex"
)

// TestByDate checks the date orders served from the day column against
// Bleve's own sort on the date field then the id, page by page through
// the cursors, for words, a phrase, an exclusion, filters alone and a
// date range. Plain words match by date what they match by relevance
// (their other forms, every word or the rarest): those events, in
// Bleve's date order.
func TestByDate(t *testing.T) {
	e := fixtureEngine(t)
	ctx := context.Background()
	from := time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2019, 12, 31, 0, 0, 0, 0, time.UTC)
	reqs := []Request{
		{Q: "peace talks"},
		{Q: "syria"},       // and Syrian
		{Q: "astana 2017"}, // the year a boost, not a word
		{Q: `"peace talks"`},
		{Q: "strike -harbour"},
		{Q: "strike"}, // four events of one day: the id breaks the tie
		{Topics: []string{"Port Elba strike"}, Q: "-bus"},
		{Q: "the"},
		{Q: "the", From: from}, // nothing to match, within a range too
		{From: from, To: to},
		{Q: "cyclone", From: from},
		{Categories: []string{"Politics and elections"}},
		{Contexts: []string{"Syrian Civil War"}, To: to},
		// The walk's by date too, the year a boost beside them.
		{Q: `"peace talks" 2017`},
		{Q: "pea* talks"},
		{Q: "strike -harbour 2019", From: from},
		{Q: `strike topic:"Port Elba strike"`},
		// No event has every clause: relaxed to any, by Bleve's query,
		// in both orders (a review found the date orders finding none).
		{Q: "strik* zebra"},
		{Q: `"strike" zebra 2019`},
	}
	for _, base := range reqs {
		for _, sort := range []query.Sort{query.SortDate, query.SortDateDesc} {
			r := base
			r.Sort, r.Size = sort, 3
			name := fmt.Sprintf("%q %v..%v %v %v %s", r.Q, r.From.Format("2006"), r.To.Format("2006"), r.Categories, r.Contexts, sort)
			want := bleveByDate(t, e, r)
			var got []string
			for page := 0; page < 20; page++ {
				res, err := e.Search(ctx, r)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if res.Total != uint64(len(want)) {
					t.Errorf("%s: total %d, Bleve finds %d", name, res.Total, len(want))
				}
				for _, h := range res.Hits {
					got = append(got, h.ID)
				}
				if page > 0 && len(res.Hits) == 0 {
					t.Errorf("%s: the cursor of page %d leads to an empty page", name, page)
				}
				if res.NextCursor == "" {
					break
				}
				r.Cursor = res.NextCursor
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s:\n got  %v\n want %v", name, got, want)
			}
		}
	}
}

// TestSearch_YearBoostBesideAPhraseWithFilter: a year beside a phrase is
// a boost, not a clause, when the search decides whether to relax: the
// phrase's events outside the filter keep it from relaxing to the
// filter's events that say the year (a review found "hurricane katrina"
// 2011 in Sports listing the 2011 Davis Cup), in every order.
func TestSearch_YearBoostBesideAPhraseWithFilter(t *testing.T) {
	e := fixtureEngine(t)
	for _, sort := range []query.Sort{query.SortRelevance, query.SortDate, query.SortDateDesc} {
		res, err := e.Search(context.Background(), Request{Q: `"peace talks" 2018`, Categories: []string{"Sports"}, Sort: sort})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != 0 || res.Relaxed {
			t.Errorf("%s: %d events (relaxed %v), want none: the phrase has events outside Sports", sort, res.Total, res.Relaxed)
		}
	}
}

// TestByDate_RelaxedWithFilter: a search relaxed to any word through
// Bleve (it has an exclusion), with a filter, lists by date what it finds
// by relevance: the filter never stands for the words (Bleve, not
// scoring, took should clauses beside it for optional).
func TestByDate_RelaxedWithFilter(t *testing.T) {
	e := fixtureEngine(t)
	ctx := context.Background()
	for _, r := range []Request{
		{Q: "astana cyclone -bus", From: time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Q: "astana cyclone -bus", Categories: []string{"Politics and elections"}},
		{Q: "astana cyclone -bus", From: time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC), Facets: 5},
	} {
		rel := r
		rel.Size = MaxSize
		want, err := e.Search(ctx, rel)
		if err != nil {
			t.Fatal(err)
		}
		if !want.Relaxed || want.Total == 0 {
			t.Fatalf("%+v: relaxed %v, total %d: the case is not a relaxed search", r, want.Relaxed, want.Total)
		}
		for _, sort := range []query.Sort{query.SortDate, query.SortDateDesc} {
			d := rel
			d.Sort = sort
			got, err := e.Search(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			if got.Total != want.Total || len(got.Hits) != len(want.Hits) {
				t.Errorf("%+v %s: total %d, %d hits; by relevance %d, %d", r, sort, got.Total, len(got.Hits), want.Total, len(want.Hits))
			}
		}
		if want.Facets != nil {
			n := 0
			for _, c := range want.Facets.Date {
				n += c.Count
			}
			if uint64(n) != want.Total {
				t.Errorf("%+v: the date histogram counts %d events, the search finds %d", r, n, want.Total)
			}
		}
	}
}

// bleveByDate returns every match of r in r's date order, as Bleve sorts
// them.
func bleveByDate(t *testing.T, e *Engine, r Request) []string {
	t.Helper()
	snap := e.src.Acquire()
	defer snap.Release()
	p, err := e.params(context.Background(), snap, e.Names(), r)
	if err != nil {
		t.Fatal(err)
	}
	p.Size, p.Offset = 1000, 0
	words := p
	words.Sort, words.After = query.SortRelevance, nil
	if _, ok, err := e.rankedPlanFor(context.Background(), snap, e.Names(), words); err != nil {
		t.Fatal(err)
	} else if ok {
		rel := r
		rel.Sort, rel.Size, rel.Cursor = query.SortRelevance, MaxSize, ""
		res, err := e.Search(context.Background(), rel)
		if err != nil {
			t.Fatal(err)
		}
		if res.Total > MaxSize {
			t.Fatalf("%q: %d matches, more than a page", r.Q, res.Total)
		}
		hits := slices.Clone(res.Hits)
		slices.SortFunc(hits, func(a, b Hit) int {
			if a.Date != b.Date {
				if (a.Date < b.Date) == (r.Sort == query.SortDate) {
					return -1
				}
				return 1
			}
			return strings.Compare(a.ID, b.ID)
		})
		var ids []string
		for _, h := range hits {
			ids = append(ids, h.ID)
		}
		return ids
	}
	req, err := query.Keyword(e.m, p)
	if errors.Is(err, query.ErrNothingToMatch) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	sr, sctx, err := snap.Searcher(context.Background(), req.Query, e.m, bsearch.SearcherOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sr.Close()
	coll := collector.NewTopNCollector(req.Size, 0, req.Sort)
	if err := coll.Collect(sctx, sr, snap.Reader()); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, h := range coll.Results() {
		ids = append(ids, h.ID)
	}
	return ids
}

// TestSearch_RelaxedNothing: an answer that finds nothing is not called
// relaxed, whatever the walk tried (the page said "events with some of
// the words follow" over an empty list).
func TestSearch_RelaxedNothing(t *testing.T) {
	e := fixtureEngine(t)
	for _, r := range []Request{
		{Q: "astana cyclone", Categories: []string{"Sports"}},
		{Q: "astana cyclone -bus", Categories: []string{"Sports"}},
	} {
		res, err := e.Search(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != 0 || res.Relaxed {
			t.Errorf("%+v: total %d, relaxed %v; want nothing, not relaxed", r, res.Total, res.Relaxed)
		}
	}
}

// TestSearch_RelaxedWithoutWords: a query of prefixes, phrases or field
// terms alone is relaxed to events with any of them when none has all
// (it found nothing: only queries with a plain word were relaxed).
func TestSearch_RelaxedWithoutWords(t *testing.T) {
	e := fixtureEngine(t)
	for _, q := range []string{`astan* zzqqx*`, `"peace talks" "zzqqx yyy"`, `context:Astana category:Sports`} {
		res, err := e.Search(context.Background(), Request{Q: q})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total == 0 || !res.Relaxed {
			t.Errorf("%s: total %d, relaxed %v; want events with any clause, relaxed", q, res.Total, res.Relaxed)
		}
	}
	// An exclusion is no clause to relax to.
	if res, err := e.Search(context.Background(), Request{Q: `zzqqx* -astana`}); err != nil || res.Total != 0 {
		t.Errorf("zzqqx* -astana: %+v, %v; want nothing", res, err)
	}
}

// TestSearch_StopWordsWithFilter: words that cannot match find nothing,
// by relevance and by date, with a filter as without one.
func TestSearch_StopWordsWithFilter(t *testing.T) {
	e := fixtureEngine(t)
	for _, sort := range []query.Sort{query.SortRelevance, query.SortDate} {
		res, err := e.Search(context.Background(), Request{Q: "the", From: time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC), Sort: sort, Facets: 3})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != 0 || len(res.Hits) != 0 {
			t.Errorf("the, from 2017, %s: %d events; want none", sort, res.Total)
		}
	}
}

// TestFacetCount_IsWhatChoosingItFinds checks that filters and dates do
// not decide how far a search relaxes: a facet's count is the total of the
// search with that filter (or that month's dates) added, by relevance and
// by date. "peace talks" has 15 events with both words, 2 of them in Arts
// and culture, where 5 more say "talks": filtering on Arts and culture
// found those 7, relaxed, where the facet said 2. A phrase with a word
// that no event of the filter has with it finds nothing there, since some
// event elsewhere has both.
func TestFacetCount_IsWhatChoosingItFinds(t *testing.T) {
	x := testindex.Open(t, "testdata/facetclick.jsonl")
	e := engineOver(t, x)
	ctx := context.Background()
	// "paece talks" is corrected to "peace talks" over the whole index,
	// and so with any filter: in June 2021 it found, uncorrected, the
	// event saying "talks" there, relaxed, where the histogram said 0.
	for _, q := range []string{"peace talks", "paece talks"} {
		all, err := e.Search(ctx, Request{Q: q, Facets: 10})
		if err != nil {
			t.Fatal(err)
		}
		if all.Total != 15 || all.Relaxed {
			t.Fatalf("%s: total %d, relaxed %v; want 15, not relaxed", q, all.Total, all.Relaxed)
		}
		check := func(r Request, facet string, count int) {
			t.Helper()
			for _, sort := range []query.Sort{query.SortRelevance, query.SortDate, query.SortDateDesc} {
				r.Sort = sort
				got, err := e.Search(ctx, r)
				if err != nil {
					t.Fatal(err)
				}
				if got.Total != uint64(count) || got.Relaxed || len(got.Corrections) != len(all.Corrections) {
					t.Errorf("%s in %s, %s: total %d, relaxed %v, corrections %v; the facet counted %d, corrections %v",
						q, facet, sort, got.Total, got.Relaxed, got.Corrections, count, all.Corrections)
				}
			}
		}
		for _, c := range all.Facets.Category {
			check(Request{Q: q, Categories: []string{c.Value}}, c.Value, c.Count)
		}
		for _, d := range all.Facets.Date {
			from, err := time.Parse("2006-01", d.Start)
			if err != nil {
				t.Fatalf("facet of %q: %v", d.Start, err)
			}
			check(Request{Q: q, From: from, To: from.AddDate(0, 1, -1)}, d.Start, d.Count)
		}
	}
	// Relaxed for want of events with every clause anywhere: relaxed with
	// a filter too.
	got, err := e.Search(ctx, Request{Q: "peace talks zebra", Categories: []string{"Arts and culture"}})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Relaxed || got.Total == 0 {
		t.Errorf("peace talks zebra in Arts and culture: total %d, relaxed %v; want events with some of the words", got.Total, got.Relaxed)
	}
	got, err = e.Search(ctx, Request{Q: `"peace talks" ceasefire`, Categories: []string{"Arts and culture"}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Total != 0 || got.Relaxed {
		t.Errorf(`"peace talks" ceasefire in Arts and culture: total %d, relaxed %v; want nothing (an event elsewhere has both)`, got.Total, got.Relaxed)
	}
	got, err = e.Search(ctx, Request{Q: `"peace talks" orchestra`, Categories: []string{"Arts and culture"}})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Relaxed || got.Total == 0 {
		t.Errorf(`"peace talks" orchestra in Arts and culture: total %d, relaxed %v; want events with either, relaxed`, got.Total, got.Relaxed)
	}
}

// TestSearch_BrowseNewestFirst: a search with nothing to rank by (a filter
// alone, an exact field term, exclusions) lists the newest events first,
// by relevance as by -date, page after page; before, all scored alike
// and came in event order, the oldest first.
func TestSearch_BrowseNewestFirst(t *testing.T) {
	e := fixtureEngine(t)
	ctx := context.Background()
	for _, r := range []Request{
		{Categories: []string{"Politics and elections"}},
		{Q: "category:\"Politics and elections\""},
		{Q: "-peace"},
		{Q: "-peace", From: time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Q: "the -peace"}, // a stop word is nothing to rank by
	} {
		want := r
		want.Sort, want.Size = query.SortDateDesc, MaxSize
		all, err := e.Search(ctx, want)
		if err != nil {
			t.Fatal(err)
		}
		if len(all.Hits) < 4 {
			t.Fatalf("%+v: %d hits; the case needs more", r, len(all.Hits))
		}
		var got []string
		r.Size = 3
		for page := 0; ; page++ {
			res, err := e.Search(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			if res.Total != all.Total {
				t.Errorf("%+v, page %d: total %d, newest first %d", r, page, res.Total, all.Total)
			}
			for _, h := range res.Hits {
				got = append(got, h.ID)
			}
			if res.NextCursor == "" || len(got) >= len(all.Hits) {
				break
			}
			r.Cursor = res.NextCursor
		}
		var wantIDs []string
		for _, h := range all.Hits[:min(len(all.Hits), len(got))] {
			wantIDs = append(wantIDs, h.ID)
		}
		if !slices.Equal(got, wantIDs) {
			t.Errorf("%+v: pages %v, newest first %v", r, got, wantIDs)
		}
		// A cursor of the release before, which served such a search by
		// relevance, is followed from its offset in the newest-first order.
		old := r
		old.Cursor = base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"s":"relevance","o":2,"k":%d}`, r.cursorKeyAsTyped())))
		res, err := e.Search(ctx, old)
		if err != nil {
			t.Fatalf("%+v: %v", old, err)
		}
		if len(res.Hits) == 0 || res.Hits[0].ID != all.Hits[2].ID {
			t.Errorf("%+v: a relevance cursor at offset 2 gave %v first, want %s", r, res.Hits, all.Hits[2].ID)
		}
	}
}
