package search

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/query"
)

// TestOwn_LeadAndTagsOnly checks what an event's score gets of its own in
// the walk: the lead boost when its lead names the query's word, the
// tags-only penalty when only its tags do, nothing otherwise; whatever
// the events' order in the index.
func TestOwn_LeadAndTagsOnly(t *testing.T) {
	lines := []string{
		`{"id": "2020-01-01/alpha-rises", "date": "2020-01-01", "text": "Alpha rises."}`,
		`{"id": "2020-01-02/beta-rises", "date": "2020-01-02", "text": "Beta rises."}`,
		`{"id": "2020-01-03/the-markets-of-the-capital-close-early-for-the-holiday-as-the-beta-index-falls", "date": "2020-01-03", "text": "The markets of the capital close early for the holiday as the beta index falls."}`,
		`{"id": "2020-01-04/gamma-falls", "date": "2020-01-04", "context": ["Beta"], "text": "Gamma falls."}`,
	}
	e, x := linesEngine(t, lines)
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
	p, err := e.params(context.Background(), snap, e.Names(), Request{Q: "beta"})
	if err != nil {
		t.Fatal(err)
	}
	plan, ok, err := e.rankedPlanFor(context.Background(), snap, e.Names(), p)
	if err != nil || !ok {
		t.Fatalf("no ranked plan: %v", err)
	}
	if err := plan.prepareOwn(); err != nil {
		t.Fatal(err)
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

// TestHighlight_Fragments: the fragments of a long text mark the words
// matched (a place's other form too), never a year read as a boost, and
// never repeat a word of the fragment before.
func TestHighlight_Fragments(t *testing.T) {
	e := fixtureEngine(t)
	snap := e.src.Acquire()
	defer snap.Release()
	p, err := e.params(context.Background(), snap, e.Names(), Request{Q: "syria talks"})
	if err != nil {
		t.Fatal(err)
	}
	h := newHighlighter(e.m, e.ents, p)
	word := 0
	filler := func() string { // words of their own: each stands once in the text
		var b strings.Builder
		for range 80 {
			word++
			fmt.Fprintf(&b, "w%d ", word)
		}
		return b.String()
	}
	text := "Syrian officials open talks, " + filler() + "then the talks end, " + filler() + "and more talks follow in Syria."
	frags := h.fragments(text)
	if len(frags) < 2 {
		t.Fatalf("fragments %q: want two or more of a text of %d bytes", frags, len(text))
	}
	if !strings.Contains(frags[0], "<mark>Syrian</mark>") {
		t.Errorf("first fragment %q: want Syrian marked, as syria's other form", frags[0])
	}
	for i := 1; i < len(frags); i++ {
		prev := strings.Fields(strings.TrimSuffix(frags[i-1], fragmentSpill))
		next := strings.Fields(strings.TrimPrefix(frags[i], fragmentSpill))
		if prev[len(prev)-1] == next[0] {
			t.Errorf("fragment %d starts with the last word of the one before, %q:\n%q\n%q", i, next[0], frags[i-1], frags[i])
		}
	}
	// A text a little over the whole-text size, matched near its start
	// and its end: one fragment, the whole text, not two that touch with
	// its first words left out.
	text = "Chief negotiators of the opposition, meeting in Geneva on Monday, say that the talks will go on " +
		strings.Repeat("while delegations wait ", 5) + "for officials in Syria to " + strings.Repeat("answer the demands made ", 5) + "last week."
	if len(text) <= maxWholeText || len(text) > maxWholeText+fragmentSize/3 {
		t.Fatalf("the text is %d bytes", len(text))
	}
	if frags := h.fragments(text); len(frags) != 1 || strings.Contains(frags[0], fragmentSpill) || !strings.HasPrefix(frags[0], "Chief") {
		t.Errorf("fragments %q: want the whole text, once", frags)
	}
	// Chinese and Japanese are a token a character: touching matches are
	// one mark, not every other character.
	pj, err := e.params(context.Background(), snap, e.Names(), Request{Q: "消防庁"})
	if err != nil {
		t.Fatal(err)
	}
	if frags := newHighlighter(e.m, e.ents, pj).fragments("東京消防庁は発表した"); len(frags) != 1 || !strings.Contains(frags[0], "<mark>消防庁</mark>") {
		t.Errorf("fragments %q, want 消防庁 marked as one", frags)
	}
	// A year read as a boost is not a word matched: never marked, though
	// the text holds it.
	lines := []string{
		`{"id": "2017-03-01/talks-resume-in-2017-after-a-long-pause", "date": "2017-03-01", "text": "Talks resume in 2017 after a long pause."}`,
		`{"id": "2016-01-01/talks-end", "date": "2016-01-01", "text": "Talks end."}`,
	}
	ye, _ := linesEngine(t, lines)
	res, err := ye.Search(context.Background(), Request{Q: "talks 2017", Highlight: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.DateBoost == nil || len(res.Hits) == 0 {
		t.Fatalf("talks 2017: date boost %v, %d hits; want the year read as a boost", res.DateBoost, len(res.Hits))
	}
	marked := false
	for _, hit := range res.Hits {
		for field, fs := range hit.Highlights {
			for _, f := range fs {
				marked = marked || strings.Contains(f, "<mark>Talks</mark>")
				if strings.Contains(f, "<mark>2017</mark>") {
					t.Errorf("%s %s: %q marks the year read as a boost", hit.ID, field, f)
				}
			}
		}
	}
	if !marked {
		t.Errorf("talks 2017: no highlight marks Talks: %+v", res.Hits)
	}
	// A prefix marks what it matched through its stem too: talks* finds
	// "Talks" by the stem talk.
	res, err = ye.Search(context.Background(), Request{Q: "talks*", Highlight: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) == 0 {
		t.Fatal("talks*: no hit")
	}
	for _, hit := range res.Hits {
		if fs := hit.Highlights["text"]; len(fs) == 0 || !strings.Contains(fs[0], "<mark>Talks</mark>") {
			t.Errorf("talks*: %s highlights %q, want Talks marked", hit.ID, fs)
		}
	}
}

// TestHighlight_PhrasesInARow: a phrase's words, and a code's parts, are
// marked only where they are in a row, as the search matched them: "peace
// talks" marked the peace of "peace deal" and the talks of "direct
// talks", g20 the 20 of "Group of 20" (a review's findings). A phrase
// with a stop word in it is in a row across it.
func TestHighlight_PhrasesInARow(t *testing.T) {
	e := fixtureEngine(t)
	snap := e.src.Acquire()
	defer snap.Release()
	for _, tt := range []struct{ q, text, want string }{
		{`"peace talks"`, "The peace deal holds as direct talks resume; peace talks follow.",
			"The peace deal holds as direct talks resume; <mark>peace</mark> <mark>talks</mark> follow."},
		{`"secretary of state"`, "The secretary meets the state's envoy and the Secretary of State.",
			"The secretary meets the state&#39;s envoy and the <mark>Secretary</mark> of <mark>State</mark>."},
		{`peace "direct talks"`, "The peace deal holds as direct talks resume; peace talks follow.",
			"The <mark>peace</mark> deal holds as <mark>direct</mark> <mark>talks</mark> resume; <mark>peace</mark> talks follow."},
	} {
		p, err := e.params(context.Background(), snap, e.Names(), Request{Q: tt.q})
		if err != nil {
			t.Fatal(err)
		}
		if frags := newHighlighter(e.m, e.ents, p).fragments(tt.text); len(frags) != 1 || frags[0] != tt.want {
			t.Errorf("%s: fragments %q, want %q", tt.q, frags, tt.want)
		}
	}
	// A code's parts in a row (G-20), not apart (Group of 20).
	p := query.Params{Query: query.Parsed{Clauses: []query.Clause{{Kind: query.Word, Text: "g 20", Values: []string{"g20"}}}}}
	if frags := newHighlighter(e.m, e.ents, p).fragments("The Group of 20 meets; the G-20 and the G20 agree."); len(frags) != 1 ||
		frags[0] != "The Group of 20 meets; the <mark>G</mark>-<mark>20</mark> and the <mark>G20</mark> agree." {
		t.Errorf("code: fragments %q", frags)
	}
}
