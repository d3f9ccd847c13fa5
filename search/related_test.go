package search

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/related"
	"github.com/newsdesk/newsdesk/testindex"
)

// TestRelated_PreparesAfterUpdates: once updates add tags, a related
// request starts building the dictionary of tags again in the background,
// and answers meanwhile.
func TestRelated_PreparesAfterUpdates(t *testing.T) {
	x := testindex.Open(t, "testdata/events.jsonl")
	e := engineOver(t, x)
	ctx := context.Background()
	ev := newsdesk.Event{ID: "2019-06-01/talks-open-in-the-republic-of-zubrowka", Date: "2019-06-01",
		Text: "Talks open in the Republic of Zubrowka.", Context: []string{"Republic of Zubrowka"}}
	x.Update(t, ev)
	stale := func() bool {
		snap := x.Source.Acquire()
		defer snap.Release()
		return e.related.Stale(snap)
	}
	if !stale() {
		t.Fatal("the update added no tag the dictionary lacks")
	}
	if _, err := e.Related(ctx, related.Request{ID: ev.ID}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); stale(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the dictionary was not built again after the request")
		}
	}
}

// TestRelated_Spellings: a draft's word typed without its accents counts
// as the word the events write with them, and the reasons say so.
func TestRelated_Spellings(t *testing.T) {
	x := testindex.Open(t, "testdata/accents.jsonl")
	e := engineOver(t, x)
	items, err := e.Related(context.Background(), related.Request{Draft: &related.Draft{Text: "Erdogan travels to Ankara"}, Size: 3})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, it := range items {
		if it.ID == "2019-01-01/erdogan-visits-ankara" {
			found = slices.Contains(it.SharedTerms, "Erdogan")
		}
	}
	if !found || len(items) == 0 || items[0].ID != "2019-01-01/erdogan-visits-ankara" {
		t.Errorf("Erdogan travels to Ankara: %+v, want Erdoğan's visit to Ankara first, sharing Erdogan", items)
	}
}

// TestRelated_DecomposedDraft: a draft whose accents are decomposed, as
// some copy-paste gives them, is composed first, as a query is: its
// "Erdog\u0306an" met nothing.
func TestRelated_DecomposedDraft(t *testing.T) {
	x := testindex.Open(t, "testdata/accents.jsonl")
	e := engineOver(t, x)
	// And full-width letters and a PDF's ligatures (query.Compose).
	for _, text := range []string{"Erdog\u0306an travels to Ankara", "Ｅｒｄｏğａｎ ﬁnally travels to Ａｎｋａｒａ"} {
		items, err := e.Related(context.Background(), related.Request{Draft: &related.Draft{Text: text}, Size: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(items) == 0 || items[0].ID != "2019-01-01/erdogan-visits-ankara" || !slices.Contains(items[0].SharedTerms, "Erdoğan") {
			t.Errorf("a draft %q: %+v, want Erdoğan's visit to Ankara first, sharing Erdoğan", text, items)
		}
	}
}

// TestRelated_SharedTagSpelling: a word of a shared tag is not said again
// among the shared terms in another spelling (the draft's Cote, beside
// the shared tag Côte d'Ivoire).
func TestRelated_SharedTagSpelling(t *testing.T) {
	x := testindex.Open(t, "testdata/accent-tags.jsonl")
	e := engineOver(t, x)
	items, err := e.Related(context.Background(), related.Request{Draft: &related.Draft{Text: "Cote d'Ivoire counts the election votes"}, Size: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) == 0 {
		t.Fatal("no related events")
	}
	for _, it := range items {
		if slices.Contains(it.SharedContext, "Côte d'Ivoire") && slices.ContainsFunc(it.SharedTerms, func(s string) bool { return strings.EqualFold(s, "cote") }) {
			t.Errorf("%s: shares the tag Côte d'Ivoire and the term %v", it.ID, it.SharedTerms)
		}
		if !slices.Contains(it.SharedContext, "Côte d'Ivoire") && it.ID != "2020-11-03/a-storm-hits-the-coast" {
			t.Errorf("%s: shares %v, want the tag Côte d'Ivoire", it.ID, it.SharedContext)
		}
	}
}
