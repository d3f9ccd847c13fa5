package related

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/mappings"
	"github.com/newsdesk/newsdesk/snapshot"
	"github.com/newsdesk/newsdesk/testindex"
)

const sourceID = "2019-05-10/dock-workers-in-port-elba-begin-a-strike-over-pay-halting-container-traffic-at-the-harbour"

var (
	ranker *Ranker
	snaps  *snapshot.Source
)

func TestMain(m *testing.M) {
	code, err := func() (int, error) {
		tmp, err := os.MkdirTemp("", "related-test-")
		if err != nil {
			return 1, err
		}
		defer os.RemoveAll(tmp)
		idx, err := testindex.New(tmp, "testdata/events.jsonl")
		if err != nil {
			return 1, err
		}
		defer idx.Close()
		snaps = idx.Source
		ranker = New(mappings.New())
		return m.Run(), nil
	}()
	if err != nil {
		fmt.Fprintln(os.Stderr, "related tests:", err)
	}
	os.Exit(code)
}

func related(t *testing.T, r Request) []Item {
	t.Helper()
	snap := snaps.Acquire()
	defer snap.Release()
	items, err := ranker.Related(context.Background(), snap, r)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func ids(items []Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

func TestRelated_SelfAndDuplicates(t *testing.T) {
	items := related(t, Request{ID: sourceID, Size: 10})
	got := ids(items)
	if slices.Contains(got, sourceID) {
		t.Error("the source is in its own related list")
	}
	for _, id := range got {
		if strings.HasPrefix(id, "2019-05-10/") {
			t.Errorf("the wire copy of the source was not collapsed: %s", id)
		}
	}
	talks := 0
	for _, id := range got {
		if strings.HasPrefix(id, "2019-05-15/union-leaders") || strings.HasPrefix(id, "2019-05-16/union-leaders") {
			talks++
		}
	}
	if talks != 1 {
		t.Errorf("the event filed twice appears %d times, want once: %v", talks, got)
	}
	for _, id := range got {
		if strings.Contains(id, "mozambique") || strings.Contains(id, "brexit") {
			t.Errorf("unrelated event listed: %s", id)
		}
	}
}

func TestRelated_Variety(t *testing.T) {
	items := related(t, Request{ID: sourceID, Size: 5})
	perDay := map[string]int{}
	for _, it := range items {
		perDay[it.Date]++
	}
	if perDay["2019-05-13"] > DefaultWeights.MaxPerDay {
		t.Errorf("%d items of 2019-05-13 in the top 5, at most %d wanted: %v", perDay["2019-05-13"], DefaultWeights.MaxPerDay, ids(items))
	}
	// With nothing else left, the held-back items of a day fill the list.
	all := related(t, Request{ID: sourceID, Size: 20})
	if n := len(all); n != 8 {
		t.Errorf("size 20 gave %d items, want every related event but the duplicates (8)", n)
	}
}

func TestRelated_Reasons(t *testing.T) {
	items := related(t, Request{ID: sourceID, Size: 10})
	var third *Item
	for i := range items {
		if strings.HasPrefix(items[i].ID, "2019-05-12/") {
			third = &items[i]
		}
	}
	if third == nil {
		t.Fatalf("2019-05-12 missing from %v", ids(items))
	}
	if !third.SameTopic || !slices.Equal(third.SharedContext, []string{"Harbour strike", "Port Elba"}) || third.DaysApart == nil || *third.DaysApart != 2 {
		t.Errorf("reason parts = %+v", third)
	}
	for _, want := range []string{"Same story (Harbour strike)", "shares Harbour strike, Port Elba", "2 days after"} {
		if !strings.Contains(third.Reason, want) {
			t.Errorf("reason %q lacks %q", third.Reason, want)
		}
	}
	// The 2015 strike shares no tag but words, years apart: the date factor
	// lowers it but does not hide it.
	var old *Item
	for i := range items {
		if strings.HasPrefix(items[i].ID, "2015-03-01/") {
			old = &items[i]
		}
	}
	if old == nil || !strings.Contains(old.Reason, "4 years before") || !strings.Contains(old.Reason, "also mentions") {
		t.Errorf("the old strike: %+v", old)
	}
}

func TestRelated_DirectionAndDates(t *testing.T) {
	for _, it := range related(t, Request{ID: sourceID, Size: 10, Direction: Before}) {
		if it.DaysApart == nil || *it.DaysApart > 0 {
			t.Errorf("direction=before listed %s, %v days after", it.ID, it.DaysApart)
		}
	}
	after := related(t, Request{ID: sourceID, Size: 10, Direction: After})
	if len(after) == 0 {
		t.Fatal("direction=after found nothing")
	}
	for _, it := range after {
		if it.DaysApart == nil || *it.DaysApart < 0 {
			t.Errorf("direction=after listed %s, %v days before", it.ID, it.DaysApart)
		}
	}
	from := time.Date(2019, 5, 14, 0, 0, 0, 0, time.UTC)
	to := time.Date(2019, 5, 16, 0, 0, 0, 0, time.UTC)
	for _, it := range related(t, Request{ID: sourceID, Size: 10, From: from, To: to}) {
		if it.Date < "2019-05-14" || it.Date > "2019-05-16" {
			t.Errorf("from/to listed %s", it.ID)
		}
	}
}

func TestRelated_Draft(t *testing.T) {
	items := related(t, Request{Draft: &Draft{Text: "Talks to end the Port Elba dock strike resume", Date: "2019-05-18"}, Size: 3})
	if len(items) != 3 || !strings.Contains(items[0].Text, "strike") {
		t.Errorf("draft related = %v", ids(items))
	}
	// A draft's own id is left out.
	self := "2019-05-20/the-dock-strike-in-port-elba-ends-after-workers-accept-a-pay-rise"
	for _, it := range related(t, Request{Draft: &Draft{ID: self, Text: "The dock strike in Port Elba ends after workers accept a pay rise."}, Size: 10}) {
		if it.ID == self {
			t.Error("the draft's own id is listed")
		}
		// Without a date, how far apart is unknown: null, not 0 (the
		// same day).
		if it.DaysApart != nil {
			t.Errorf("%s: days_apart %d for a draft without a date", it.ID, *it.DaysApart)
		}
	}
	for _, it := range items {
		if it.DaysApart == nil {
			t.Errorf("%s: no days_apart for a dated draft", it.ID)
		}
	}
}

// TestRelated_DraftTagsNotKept checks that the ranker's caches of tags
// keep the index's tags only: each draft's own new topic and tags were
// kept for the life of the process.
func TestRelated_DraftTagsNotKept(t *testing.T) {
	rk := New(mappings.New())
	snap := snaps.Acquire()
	defer snap.Release()
	for i := range 20 {
		d := &Draft{Text: "Talks to end the Port Elba dock strike resume", Date: "2019-05-18",
			Topic: fmt.Sprintf("Port Elba dock strike talks round %d", i), Context: []string{fmt.Sprintf("Dockers' union %d", i), "Port Elba"}}
		if _, err := rk.Related(context.Background(), snap, Request{Draft: d, Size: 3}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := rk.Related(context.Background(), snap, Request{ID: sourceID, Size: 3}); err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]*sync.Map{"tagKeys": &rk.tagKeys, "fullKeys": &rk.fullKeys, "tagEntKeys": &rk.tagEntKeys, "tagWordSets": &rk.tagWordSets} {
		m.Range(func(k, _ any) bool {
			tag := k.(string)
			_, topic := snap.TopicID(tag)
			_, ctx := snap.ContextID(tag)
			if !topic && !ctx {
				t.Errorf("%s keeps %q, no tag of the index", name, tag)
			}
			return true
		})
	}
	if _, ok := rk.tagEntKeys.Load("Port Elba"); !ok {
		t.Error("the index's tag Port Elba, a draft's, is not kept")
	}
}

func TestRelated_BadRequests(t *testing.T) {
	bad := &Weights{Text: -1}
	tests := []struct {
		name  string
		r     Request
		param string
	}{
		{"size too big", Request{ID: sourceID, Size: MaxSize + 1}, "size"},
		{"negative size", Request{ID: sourceID, Size: -1}, "size"},
		{"direction", Request{ID: sourceID, Direction: "sideways"}, "direction"},
		{"weights", Request{ID: sourceID, Weights: bad}, "weights.text"},
		{"empty draft", Request{Draft: &Draft{Text: "  "}}, "text"},
		{"no draft", Request{}, "text"},
		{"huge draft", Request{Draft: &Draft{Text: strings.Repeat("a ", MaxDraftText)}}, "text"},
		// A draft's tags are analysed as its text is: bounded too.
		{"huge topic", Request{Draft: &Draft{Text: "peace", Topic: strings.Repeat("word ", 12000)}}, "topic"},
		{"huge category", Request{Draft: &Draft{Text: "peace", Category: strings.Repeat("word ", 100)}}, "category"},
		{"too many tags", Request{Draft: &Draft{Text: "peace", Context: make([]string, MaxDraftTags+1)}}, "context"},
		{"a huge tag", Request{Draft: &Draft{Text: "peace", Context: []string{"Syria", strings.Repeat("x", MaxDraftTag+1)}}}, "context[1]"},
		{"draft date", Request{Draft: &Draft{Text: "strike", Date: "May 2019"}}, "date"},
		{"direction without a date", Request{Draft: &Draft{Text: "strike"}, Direction: After}, "direction"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap := snaps.Acquire()
			defer snap.Release()
			_, err := ranker.Related(context.Background(), snap, tc.r)
			var ie *InvalidError
			if !errors.As(err, &ie) || ie.Param != tc.param {
				t.Errorf("Related = %v, want an InvalidError for %q", err, tc.param)
			}
		})
	}
	snap := snaps.Acquire()
	defer snap.Release()
	if _, err := ranker.Related(context.Background(), snap, Request{ID: "2019-05-10/nope"}); !errors.Is(err, newsdesk.ErrNotFound) {
		t.Errorf("unknown id: %v, want ErrNotFound", err)
	}
}

func TestWeights_Prior(t *testing.T) {
	w := DefaultWeights
	if f := w.prior(100, 100); f != 1 {
		t.Errorf("same day: %v, want 1", f)
	}
	// One half-life of each part: each is halved.
	h1, h2 := int32(w.HalfLifeDays), int32(w.SlowHalfLifeDays)
	w.HalfLifeDays, w.SlowHalfLifeDays = float64(h1), float64(h2)
	want := w.Floor + (1-w.Floor)*(w.Near/2+(1-w.Near)*math.Exp2(-float64(h1)/float64(h2)))
	if f := w.prior(100, 100+h1); math.Abs(f-want) > 1e-9 {
		t.Errorf("one fast half-life: %v, want %v", f, want)
	}
	if f := w.prior(100, 100-h1); math.Abs(f-want) > 1e-9 {
		t.Errorf("one fast half-life before: %v, want %v", f, want)
	}
	if f := w.prior(0, 100000); f < w.Floor || f > w.Floor+0.001 {
		t.Errorf("far apart: %v, want about the floor %v", f, w.Floor)
	}
	if f := w.prior(snapshot.NoDay, 5); f != 1 {
		t.Errorf("unknown source date: %v, want 1", f)
	}
}

// TestWeights_Validate: every weight must be a finite number within its
// documented range; the error names the weight.
func TestWeights_Validate(t *testing.T) {
	tests := []struct {
		name  string
		set   func(w *Weights)
		param string // "" when valid
	}{
		{"defaults", func(w *Weights) {}, ""},
		{"text-only baseline", func(w *Weights) { *w = TextOnly }, ""},
		{"range ends", func(w *Weights) {
			w.Text, w.Context, w.Topic, w.Floor, w.HalfLifeDays = 0, MaxWeight, 0, 1, MaxHalfLifeDays
		}, ""},
		{"NaN text", func(w *Weights) { w.Text = math.NaN() }, "weights.text"},
		{"infinite context", func(w *Weights) { w.Context = math.Inf(1) }, "weights.context"},
		{"-Inf topic", func(w *Weights) { w.Topic = math.Inf(-1) }, "weights.topic"},
		{"1e308 topic", func(w *Weights) { w.Topic = 1e308 }, "weights.topic"},
		{"negative text", func(w *Weights) { w.Text = -1 }, "weights.text"},
		{"all zero", func(w *Weights) { w.Text, w.Context, w.Place, w.Topic = 0, 0, 0, 0 }, "weights.text"},
		{"NaN half-life", func(w *Weights) { w.HalfLifeDays = math.NaN() }, "weights.half_life_days"},
		{"zero half-life", func(w *Weights) { w.HalfLifeDays = 0 }, "weights.half_life_days"},
		{"1e308 half-life", func(w *Weights) { w.HalfLifeDays = 1e308 }, "weights.half_life_days"},
		{"NaN floor", func(w *Weights) { w.Floor = math.NaN() }, "weights.floor"},
		{"floor over 1", func(w *Weights) { w.Floor = 1.5 }, "weights.floor"},
		{"NaN max_df_share", func(w *Weights) { w.MaxDFShare = math.NaN() }, "weights.max_df_share"},
		{"NaN duplicate_similarity", func(w *Weights) { w.DuplicateSimilarity = math.NaN() }, "weights.duplicate_similarity"},
		{"duplicate_similarity 0", func(w *Weights) { w.DuplicateSimilarity = 0 }, "weights.duplicate_similarity"},
		{"max_terms", func(w *Weights) { w.MaxTerms = 101 }, "weights.max_terms"},
		{"min_df", func(w *Weights) { w.MinDF = 0 }, "weights.min_df"},
		{"max_postings", func(w *Weights) { w.MaxPostings = 0 }, "weights.max_postings"},
		{"max_per_day", func(w *Weights) { w.MaxPerDay = 0 }, "weights.max_per_day"},
		{"candidates", func(w *Weights) { w.Candidates = 1001 }, "weights.candidates"},
		{"NaN near", func(w *Weights) { w.Near = math.NaN() }, "weights.near"},
		{"near over 1", func(w *Weights) { w.Near = 1.01 }, "weights.near"},
		{"zero slow half-life", func(w *Weights) { w.SlowHalfLifeDays = 0 }, "weights.slow_half_life_days"},
		{"negative place", func(w *Weights) { w.Place = -0.1 }, "weights.place"},
		{"infinite feedback", func(w *Weights) { w.Feedback = math.Inf(1) }, "weights.feedback"},
		{"adopt never", func(w *Weights) { w.Adopt = 2 }, ""},
		{"adopt past never", func(w *Weights) { w.Adopt = 2.5 }, "weights.adopt"},
		{"negative re-ranking weight", func(w *Weights) { w.RankCategory = -3 }, ""},
		{"1e308 re-ranking weight", func(w *Weights) { w.RankClassic = 1e308 }, "weights.rank_classic"},
		{"NaN re-ranking weight", func(w *Weights) { w.RankClassicPosition = math.NaN() }, "weights.rank_classic_position"},
		{"max_tags", func(w *Weights) { w.MaxTags = -1 }, "weights.max_tags"},
		{"no tags", func(w *Weights) { w.MaxTags = 0 }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := DefaultWeights
			tc.set(&w)
			err := w.Validate()
			var ie *InvalidError
			switch {
			case tc.param == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.param != "" && (!errors.As(err, &ie) || ie.Param != tc.param):
				t.Errorf("Validate() = %v, want an InvalidError for %q", err, tc.param)
			}
		})
	}
}

// TestWeights_UnmarshalJSON: a JSON object gives any subset of the
// weights over the defaults; unknown fields are an error.
func TestWeights_UnmarshalJSON(t *testing.T) {
	tests := []struct {
		json string
		set  func(w *Weights) // the defaults changed as the JSON says
		err  bool
	}{
		{`{}`, func(w *Weights) {}, false},
		{`{"floor": 0.9}`, func(w *Weights) { w.Floor = 0.9 }, false},
		{`{"text": 0, "rank_classic": -1, "max_per_day": 3}`, func(w *Weights) { w.Text, w.RankClassic, w.MaxPerDay = 0, -1, 3 }, false},
		{`{"tex": 1}`, nil, true},
		{`{"floor": "high"}`, nil, true},
		{`[1]`, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.json, func(t *testing.T) {
			var got Weights
			err := json.Unmarshal([]byte(tc.json), &got)
			if tc.err {
				if err == nil {
					t.Errorf("no error, got %+v", got)
				}
				return
			}
			want := DefaultWeights
			tc.set(&want)
			if err != nil || got != want {
				t.Errorf("got %+v, %v; want %+v", got, err, want)
			}
		})
	}
}

// TestRelated_CommonWords: rank_common tells the words a source writes in
// lower case (what happened) from names (who, where). Of two events, one
// sharing the source's names (Manama, Bahrain) and one sharing what
// happened (a fire destroys a warehouse housing workers), the weight
// decides which comes first.
func TestRelated_CommonWords(t *testing.T) {
	x := testindex.Open(t, "testdata/common.jsonl")
	rk := New(mappings.New())
	const (
		fire    = "2013-01-11/a-fire-destroys-a-warehouse-housing-workers-in-manama-bahrain-killing-thirteen"
		names   = "2013-01-20/protesters-gather-in-manama-bahrain-near-the-pearl-roundabout"
		happens = "2013-01-25/a-fire-destroys-a-warehouse-housing-workers-in-sharjah"
	)
	for _, tc := range []struct {
		common float64
		first  string
	}{
		{10, happens},
		{-10, names},
	} {
		w := DefaultWeights
		w.RankCommon = tc.common
		for _, r := range []Request{
			{ID: fire, Size: 3, Weights: &w},
			{Draft: &Draft{Text: "Fire in Manama, Bahrain: a fire destroys a warehouse housing workers, killing thirteen.", Date: "2013-01-11", ID: fire}, Size: 3, Weights: &w},
		} {
			snap := x.Source.Acquire()
			items, err := rk.Related(context.Background(), snap, r)
			snap.Release()
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(items); len(got) == 0 || got[0] != tc.first {
				t.Errorf("rank_common %v, draft %v: list %v, want %s first", tc.common, r.Draft != nil, got, tc.first)
			}
		}
	}
}

// Prepare builds what a snapshot's first request would, so that the
// request does not: the dictionary of tags and the default date prior.
func TestRanker_Prepare(t *testing.T) {
	x := testindex.Open(t, "testdata/tags.jsonl")
	snap := x.Source.Acquire()
	defer snap.Release()
	rk := New(mappings.New())
	rk.Prepare(snap)
	d := rk.dictCur.Load()
	if d == nil || d.keys != len(snap.Keys) {
		t.Fatalf("no dictionary of the snapshot's %d tags after Prepare: %+v", len(snap.Keys), d)
	}
	w := DefaultWeights
	if _, ok := rk.priors.Load([4]float64{w.Floor, w.Near, w.HalfLifeDays, w.SlowHalfLifeDays}); !ok {
		t.Error("no date prior of the default weights after Prepare")
	}
	// A request finds them made: the same dictionary serves it.
	if _, err := rk.Related(context.Background(), snap, Request{Draft: &Draft{Text: "The Syrian civil war goes on.", Date: "2016-01-01"}}); err != nil {
		t.Fatal(err)
	}
	if rk.dictCur.Load() != d {
		t.Error("the first request built the dictionary again")
	}

	// An update adds a tag: requests go on with the dictionary they have,
	// and Prepare builds another.
	ev := newsdesk.Event{ID: "2016-02-01/talks-open-in-the-republic-of-zubrowka", Date: "2016-02-01",
		Text: "Talks open in the Republic of Zubrowka.", Context: []string{"Republic of Zubrowka"}}
	x.Update(t, ev)
	later := x.Source.Acquire()
	defer later.Release()
	if !rk.Stale(later) {
		t.Fatalf("the dictionary of %d tags is not stale for a snapshot of %d", d.keys, len(later.Keys))
	}
	if _, err := rk.Related(context.Background(), later, Request{Draft: &Draft{Text: "Talks in the Republic of Zubrowka.", Date: "2016-02-02"}}); err != nil {
		t.Fatal(err)
	}
	if rk.dictCur.Load() != d {
		t.Error("a request built the dictionary again")
	}
	rk.Prepare(later)
	if rk.Stale(later) || rk.dictCur.Load().keys != len(later.Keys) {
		t.Errorf("after Prepare, a dictionary of %d tags for a snapshot of %d", rk.dictCur.Load().keys, len(later.Keys))
	}

	// An update that gives a tag of one event its second adds no tag: the
	// dictionary is stale all the same (once dictRefresh has passed), and
	// a text naming the tag then names it.
	defer func(old time.Duration) { dictRefresh = old }(dictRefresh)
	dictRefresh = 0
	second := newsdesk.Event{ID: "2016-02-03/the-republic-of-zubrowka-signs-a-ceasefire", Date: "2016-02-03",
		Text: "The Republic of Zubrowka signs a ceasefire.", Context: []string{"Republic of Zubrowka"}}
	named := func(d *dict) bool { return len(d.find(rk.ents.Tokens("Republic of Zubrowka"))) > 0 }
	if named(rk.dictCur.Load()) {
		t.Fatal("a tag of one event named before the update")
	}
	version := rk.DictVersion()
	x.Update(t, second)
	last := x.Source.Acquire()
	defer last.Release()
	if !rk.Stale(last) {
		t.Fatal("not stale after an update that gave a tag its second event")
	}
	rk.Prepare(last)
	if !named(rk.dictCur.Load()) || rk.DictVersion() == version {
		t.Errorf("after Prepare: the tag named %v, version %d (was %d)", named(rk.dictCur.Load()), rk.DictVersion(), version)
	}
}

// TestRelated_MaxPostings: the searched words' postings stay within
// max_postings, the commonest word left out first; the best minSearched
// words are searched whatever the bound. Nine of the source's words are
// in one other event each (18 postings with the source's own), its
// commonest, ferry, in sixteen that share nothing else with it (17):
// those are candidates only while ferry is searched.
func TestRelated_MaxPostings(t *testing.T) {
	x := testindex.Open(t, "testdata/budget.jsonl")
	rk := New(mappings.New())
	const source = "2014-03-02/a-ferry-carrying-pilgrims-capsizes-near-quarnbeck-lighthouse-stranding-vexillum-monks-at-drelling-quay"
	for _, tc := range []struct {
		maxPostings int
		ferries     bool // ferry events in the list
		others      int  // of the five events sharing the rare words
	}{
		{DefaultWeights.MaxPostings, true, 5},
		{35, true, 5},
		{34, false, 5},
		{1, false, 3}, // the best five words: pilgrims, capsizes, Quarnbeck, lighthouse, stranding
	} {
		w := DefaultWeights
		w.MaxPostings = tc.maxPostings
		snap := x.Source.Acquire()
		items, err := rk.Related(context.Background(), snap, Request{ID: source, Size: 20, Weights: &w})
		snap.Release()
		if err != nil {
			t.Fatal(err)
		}
		ferries, others := 0, 0
		for _, it := range items {
			if strings.Contains(it.ID, "timetable") {
				ferries++
			} else {
				others++
			}
		}
		if (ferries > 0) != tc.ferries || others != tc.others {
			t.Errorf("max_postings %d: %d ferry events and %d others in %v; want ferry events %v and %d others", tc.maxPostings, ferries, others, ids(items), tc.ferries, tc.others)
		}
	}
}

// TestRelated_PlaceOfSeveralWords: a demonym of a place of one word counts
// as the place (Syrian: Syria), one of a place of several words as itself:
// "American" is not "unit" and "state", which any unit's or state's
// event holds, and no item is said to mention what it does not.
func TestRelated_PlaceOfSeveralWords(t *testing.T) {
	x := testindex.Open(t, "testdata/places.jsonl")
	rk := New(mappings.New())
	for _, tc := range []struct {
		text       string
		mentions   string // an item must say so only if its text holds it
		holds      string // what its text must then hold, lower case
		wantShared bool   // whether some item shares it
	}{
		{"American soldiers arrive at the military base", "American", "american", false},
		{"Troops leave Syria", "Syria", "syria", true}, // Syria or Syrian
	} {
		snap := x.Source.Acquire()
		items, err := rk.Related(context.Background(), snap, Request{Draft: &Draft{Text: tc.text, Date: "2020-05-02"}, Size: 10})
		snap.Release()
		if err != nil {
			t.Fatal(err)
		}
		shared := false
		for _, it := range items {
			if slices.Contains(it.SharedTerms, tc.mentions) {
				shared = true
				if !strings.Contains(strings.ToLower(it.Text), tc.holds) {
					t.Errorf("%q: %s is said to mention %s: %q", tc.text, it.ID, tc.mentions, it.Reason)
				}
			}
		}
		if shared != tc.wantShared {
			t.Errorf("%q: an item shares %s: %v, want %v (%+v)", tc.text, tc.mentions, shared, tc.wantShared, items)
		}
	}
}

// TestRelated_SameStoryNotAnotherYear: "Same story" and the shared tags
// are the source's story in any spelling, not another year's of it (a
// year-free tag the source has itself is shared); the
// words the item shares beyond them leave out their words (Super and
// Tuesday of the tag Super Tuesday).
func TestRelated_SameStoryNotAnotherYear(t *testing.T) {
	x := testindex.Open(t, "testdata/years.jsonl")
	rk := New(mappings.New())
	snap := x.Source.Acquire()
	defer snap.Release()
	items, err := rk.Related(context.Background(), snap, Request{ID: "2019-09-14/california-moves-its-presidential-primary-to-super-tuesday", Size: 5})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		"2016-03-15/voters-in-florida-and-ohio-vote-in-the-presidential-primary":             false,
		"2020-03-03/super-tuesday-presidential-primary-voters-in-california-go-to-the-polls": true,
	}
	for _, it := range items {
		if same, ok := want[it.ID]; ok {
			delete(want, it.ID)
			if it.SameTopic != same || strings.Contains(it.Reason, "Same story") != same {
				t.Errorf("%s: same_topic %v, reason %q; want same story %v", it.ID, it.SameTopic, it.Reason, same)
			}
			// Another year's election is not shared; the year-free tag the
			// source has itself is.
			if slices.Contains(it.SharedContext, "2016 United States presidential election") {
				t.Errorf("%s: shared_context %q holds another year's election", it.ID, it.SharedContext)
			}
			if slices.Contains(it.Context, "United States presidential election") && !slices.Contains(it.SharedContext, "United States presidential election") {
				t.Errorf("%s: shared_context %q lacks the tag the source has too", it.ID, it.SharedContext)
			}
			for _, w := range it.SharedTerms {
				if w == "Super" || w == "Tuesday" || w == "presidential" {
					t.Errorf("%s: shared_terms %q hold %s, a word of a shared tag or of the topic", it.ID, it.SharedTerms, w)
				}
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("not listed: %v (list %v)", want, ids(items))
	}
}

// TestRelated_ShortDraft: a draft of a few words is ranked as a search
// box's query: the events with all its words first, not those naming
// its one rare name (the Astana Open, for "Astana talks").
func TestRelated_ShortDraft(t *testing.T) {
	x := testindex.Open(t, "testdata/short.jsonl")
	rk := New(mappings.New())
	snap := x.Source.Acquire()
	defer snap.Release()
	items, err := rk.Related(context.Background(), snap, Request{Draft: &Draft{Text: "Astana talks"}, Size: 2})
	if err != nil {
		t.Fatal(err)
	}
	got := ids(items)
	slices.Sort(got)
	if want := []string{"2017-01-23/peace-talks-in-astana-end", "2017-01-24/the-astana-talks-agree-on-a-ceasefire-commission"}; !slices.Equal(got, want) {
		t.Errorf("Astana talks: %v, want the two events of both words", ids(items))
	}
}

// TestRelated_DraftWithoutKnownWords: a draft none of whose words the
// index holds (stop words, unknown names) is ranked by its tags alone,
// with finite scores: it was taken for a short source, whose share of
// words held was 0/0, and every score NaN (a 500, since JSON cannot hold
// NaN).
func TestRelated_DraftWithoutKnownWords(t *testing.T) {
	x := testindex.Open(t, "testdata/events.jsonl")
	rk := New(mappings.New())
	snap := x.Source.Acquire()
	defer snap.Release()
	for _, text := range []string{"Zzqxw vvbnm", "the of and"} {
		items, err := rk.Related(context.Background(), snap, Request{Draft: &Draft{Text: text, Context: []string{"Port Elba"}}})
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if len(items) == 0 {
			t.Errorf("%q: no items; the events of Port Elba share its tag", text)
		}
		for _, it := range items {
			if math.IsNaN(it.Score) || math.IsInf(it.Score, 0) {
				t.Errorf("%q: %s scores %v", text, it.ID, it.Score)
			}
		}
	}
}

// TestAgreement: a candidate's agree is the share of the source's words'
// weight it holds, each word weighed by its idf times the share of the
// other best candidates holding it (its own vote left out).
func TestAgreement(t *testing.T) {
	idfs := []float64{1, 2, 1}
	fs := []features{{has: 0b011}, {has: 0b011}, {has: 0b001}, {has: 0b100}}
	cs := []cand{{fi: 0}, {fi: 1}, {fi: 2}, {fi: 3}}
	agreement(cs, fs, idfs)
	// The first: of the 3 others, w0 is held by 2, w1 by 1, w2 by 1:
	// weights 2/3, 2/3 and 1/3, of which it holds the first two.
	for i, want := range []float64{0.8, 0.8, (2.0 / 3) / (7.0 / 3), 0} {
		if math.Abs(fs[i].agree-want) > 1e-9 {
			t.Errorf("candidate %d: agree %.4f, want %.4f", i, fs[i].agree, want)
		}
	}
	// One candidate: no one else to agree with.
	one := []features{{has: 0b1}}
	agreement([]cand{{fi: 0}}, one, idfs)
	if one[0].agree != 0 {
		t.Errorf("a lone candidate's agree is %v, want 0", one[0].agree)
	}
}

// TestRelated_DraftCategory: a draft's category counts as an event's:
// events of another category lose rank_category, whatever its case; one
// the index has not counts as none.
func TestRelated_DraftCategory(t *testing.T) {
	x := testindex.Open(t, "testdata/common.jsonl")
	rk := New(mappings.New())
	const protest = "2013-01-20/protesters-gather-in-manama-bahrain-near-the-pearl-roundabout"
	score := func(category string) float64 {
		t.Helper()
		snap := x.Source.Acquire()
		defer snap.Release()
		d := &Draft{Text: "Fire in Manama, Bahrain: a fire destroys a warehouse housing workers.", Date: "2013-01-11", Category: category}
		items, err := rk.Related(context.Background(), snap, Request{Draft: d, Size: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.ID == protest {
				return it.Score
			}
		}
		t.Fatalf("category %q: %s not listed: %v", category, protest, ids(items))
		return 0
	}
	same, other := score("protests"), score("Disasters and accidents")
	if same-other < DefaultWeights.RankCategory*-0.5 {
		t.Errorf("the protest scores %.3f for a draft filed under Protests, %.3f under Disasters: want it %.2f lower under the other", same, other, -DefaultWeights.RankCategory)
	}
	if unknown := score("Weather"); unknown != score("") {
		t.Errorf("a category the index has not: %.3f, none: %.3f; want alike", unknown, score(""))
	}
}
