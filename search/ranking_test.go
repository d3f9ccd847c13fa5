package search

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/query"
	"github.com/newsdesk/newsdesk/testindex"
)

// TestRanking checks the search box's behaviours on a generation with the
// ranking fields: place names meet their adjectives, a year is a boost,
// heading-only stubs come last, typos are corrected by commonness with
// transpositions as one edit, and corrections show words, not stems.
func TestRanking(t *testing.T) {
	x := testindex.Open(t, "testdata/ranking.jsonl")
	e := engineOver(t, x)
	if e.legacy {
		t.Fatal("the fixture's generation is legacy: the ranked path is not tested")
	}
	rank := func(hits []Hit, prefix string) int {
		return slices.IndexFunc(hits, func(h Hit) bool { return strings.HasPrefix(h.ID, prefix) })
	}
	tests := []struct {
		q     string
		check func(t *testing.T, res *Result)
	}{
		{"syria peace talks", func(t *testing.T, res *Result) {
			if r := rank(res.Hits, "2017-01-23/peace-talks-in-astana"); r < 0 || r >= 10 {
				t.Errorf("the Astana talks (Syrian, not Syria) rank %d, want the top 10", r+1)
			}
		}},
		{"syria", func(t *testing.T, res *Result) {
			if r := rank(res.Hits, "2017-01-16/the-syrian-opposition"); r < 0 {
				t.Error("syria does not find an event that says Syrian")
			}
			if r, s := rank(res.Hits, "2016-03-10/syria-peace-talks"), rank(res.Hits, "2017-01-16/the-syrian-opposition"); r > s {
				t.Errorf("an event saying Syria ranks %d, below one saying Syrian (%d)", r+1, s+1)
			}
		}},
		// Through Bleve (an exclusion, a phrase), a place's word matches
		// and excludes its other forms as the ranked search does.
		{"syria -flamingo", func(t *testing.T, res *Result) {
			if r := rank(res.Hits, "2017-01-16/the-syrian-opposition"); r < 0 {
				t.Error("syria -flamingo does not find an event that says Syrian")
			}
		}},
		{`"peace talks" syria`, func(t *testing.T, res *Result) {
			if r := rank(res.Hits, "2017-01-16/the-syrian-opposition"); r < 0 {
				t.Error(`"peace talks" syria does not find an event that says Syrian`)
			}
		}},
		{"astana -syria", func(t *testing.T, res *Result) {
			if r := rank(res.Hits, "2017-01-16/the-syrian-opposition"); r >= 0 {
				t.Errorf("astana -syria lists an event that says Syrian, at %d", r+1)
			}
		}},
		// Beside a phrase or a prefix too (a word to match until
		// 2026-12-02).
		{`"tsunami" japan 2011`, nil},
		{"tsunam* japan 2011", nil},
		{"tsunami japan 2011", func(t *testing.T, res *Result) {
			if r := rank(res.Hits, "2011-03-11/"); r < 0 || r >= 3 {
				t.Errorf("the 2011-03-11 tsunami ranks %d, want the top 3", r+1)
			}
			if res.DateBoost == nil || res.DateBoost.Year != 2011 {
				t.Errorf("date_boost %+v, want the year 2011", res.DateBoost)
			}
			if rank(res.Hits, "2016-11-22/") < 0 {
				t.Error("events of other years are filtered out; a year must only boost")
			}
		}},
		{"ukraine invasion", func(t *testing.T, res *Result) {
			for i, h := range res.Hits[:2] {
				if h.ID == "2022-03-01/russian-invasion-of-ukraine-siege-of-mariupol" || h.ID == "2022-03-02/russian-invasion-of-ukraine" {
					t.Errorf("a heading-only stub ranks %d", i+1)
				}
			}
			if rank(res.Hits, "2022-03-02/russian-invasion-of-ukraine") < 0 {
				t.Error("a stub is hidden; it must rank lower, not vanish")
			}
		}},
		{"suez canal", func(t *testing.T, res *Result) {
			// The polls were filed under the day's main story by mistake:
			// its sentence holds neither word, its tags both.
			filed, opens := rank(res.Hits, "2021-03-23/israelis-go-to-the-polls"), rank(res.Hits, "2019-08-06/egypt-s-president-opens")
			if filed < 0 || opens < 0 || filed < opens {
				t.Errorf("an event matching only by its tags ranks %d, above one whose sentence names the canal (%d)", filed+1, opens+1)
			}
			// Its sentence and its tags name both words: it is not taken for
			// a match by its tags alone.
			if r := rank(res.Hits, "2021-03-23/the-suez-canal-is-blocked"); r != 0 {
				t.Errorf("the event whose sentence and tags name the canal ranks %d, want 1", r+1)
			}
		}},
		// A phrase, a prefix, a field term or an exclusion ranks as the
		// words do (until 2026-12-02 by Bleve's BM25, without the
		// penalties): the stubs and the event filed under the story by
		// mistake rank lower. (A check left nil is the next one's.)
		{"suez can*", nil},
		{`"suez canal"`, func(t *testing.T, res *Result) {
			filed, opens := rank(res.Hits, "2021-03-23/israelis-go-to-the-polls"), rank(res.Hits, "2019-08-06/egypt-s-president-opens")
			if filed < 0 || opens < 0 || filed < opens {
				t.Errorf("an event matching the phrase only by its tags ranks %d, above one whose sentence names the canal (%d)", filed+1, opens+1)
			}
		}},
		{"ukraine invasion -flamingo", nil},
		{"ukrai* invasion", nil},
		{"ukraine invas*", nil},
		{`ukraine invasion topic:"Russian invasion of Ukraine"`, nil},
		{"ukraine invasion -category:Sports", func(t *testing.T, res *Result) {
			for i, h := range res.Hits[:2] {
				if h.ID == "2022-03-01/russian-invasion-of-ukraine-siege-of-mariupol" || h.ID == "2022-03-02/russian-invasion-of-ukraine" {
					t.Errorf("a heading-only stub ranks %d", i+1)
				}
			}
		}},
		{"syrai", func(t *testing.T, res *Result) {
			if len(res.Corrections) != 1 || res.Corrections[0].To != "syria" {
				t.Errorf("corrections %+v, want syrai → syria (a transposition, the commonest word)", res.Corrections)
			}
		}},
		{"brexti", func(t *testing.T, res *Result) {
			if len(res.Corrections) != 1 || res.Corrections[0].To != "brexit" {
				t.Errorf("corrections %+v, want brexti → brexit", res.Corrections)
			}
		}},
		{"brexti talks", func(t *testing.T, res *Result) {
			// "talks" alone finds enough events to relax to: the unknown
			// word is corrected all the same.
			if len(res.Corrections) != 1 || res.Corrections[0].To != "brexit" {
				t.Errorf("corrections %+v: want brexti → brexit", res.Corrections)
			}
			if len(res.Hits) == 0 || res.Hits[0].ID != "2019-04-02/markets-fall-as-brexit-talks-stall" {
				t.Errorf("hits %v, want the Brexit talks first", res.Hits)
			}
		}},
		{"ukrian", func(t *testing.T, res *Result) {
			if len(res.Corrections) != 1 || res.Corrections[0].To != "ukraine" {
				t.Errorf("corrections %+v, want ukrian → ukraine, the word, not the stem", res.Corrections)
			}
		}},
	}
	for i := len(tests) - 1; i >= 0; i-- {
		if tests[i].check == nil { // as the next
			tests[i].check = tests[i+1].check
		}
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			res, err := e.Search(context.Background(), Request{Q: tc.q})
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, res)
		})
	}
}

// TestRanking_Forms: a word whose stem drops a derivational ending
// other words of the stem do not have (Porter makes generation general,
// university universe) ranks first the events that write it, past
// shorter events of the other word. A word whose stem is its form
// (universe) is not told apart: the forms field leaves such words out.
// Before 2026-12-02, generation listed general elections first.
func TestRanking_Forms(t *testing.T) {
	x := testindex.Open(t, "testdata/forms.jsonl")
	for _, tt := range []struct {
		q, first string
	}{
		{"generation", "2025-03-21/the-air-force"},
		{"general", "2022-08-09/kenyans-vote"},
		{"university", "2024-05-06/students-at"},
		{"universe", "2024-05-06/students-at"}, // university's shorter event, as before
	} {
		for _, form := range []float64{0, DefaultRanking.Form} {
			r := DefaultRanking
			r.Form = form
			r.AllWords = 1 // the fixture's few events have every word: not relaxed
			res, err := engineOver(t, x).WithRanking(r).Search(context.Background(), Request{Q: tt.q, Size: 10})
			if err != nil {
				t.Fatal(err)
			}
			if first := len(res.Hits) > 0 && strings.HasPrefix(res.Hits[0].ID, tt.first); first != (form != 0 || tt.q != "generation") {
				t.Errorf("form %v: %s: first %v, want %s first only with the form boost", form, tt.q, res.Hits, tt.first)
			}
		}
	}
}

// TestRanking_FormsAlike: the form boost treats alike what the search
// box finds alike, and is the same for the same words (a review's
// findings): an accented form (Fédération) is the form typed unaccented,
// and two words of one stem in any order boost neither.
func TestRanking_FormsAlike(t *testing.T) {
	x := testindex.Open(t, "testdata/forms.jsonl")
	search := func(q string, form float64) []Hit {
		r := DefaultRanking
		r.Form, r.AllWords = form, 1
		res, err := engineOver(t, x).WithRanking(r).Search(context.Background(), Request{Q: q, Size: 20})
		if err != nil {
			t.Fatal(err)
		}
		return res.Hits
	}
	score := func(hits []Hit, prefix string) float64 {
		for _, h := range hits {
			if strings.HasPrefix(h.ID, prefix) {
				return h.Score
			}
		}
		t.Fatalf("%s not found", prefix)
		return 0
	}
	with, without := search("federation", DefaultRanking.Form), search("federation", 0)
	accented, plain := "2018-06-13/the-federation", "2018-06-14/a-national-federation"
	if d0, d := score(without, accented)-score(without, plain), score(with, accented)-score(with, plain); math.Abs(d-d0) > 1e-9 {
		t.Errorf("federation: the boost sets Fédération %v from federation, %v without it; want it alike", d, d0)
	}
	if score(with, plain) <= score(without, plain) {
		t.Error("federation: no boost over federal")
	}
	ids := func(hits []Hit) (out []string) {
		for _, h := range hits {
			out = append(out, h.ID)
		}
		return out
	}
	if a, b := ids(search("general generation", DefaultRanking.Form)), ids(search("generation general", DefaultRanking.Form)); !slices.Equal(a, b) {
		t.Errorf("general generation lists %v, generation general %v; want one order", a, b)
	}
}

// TestRanking_PrefixOfManyTerms: a prefix of more terms than the walk
// took before 2026-12-02 (256) ranks by the walk like any other, a year
// beside it a boost of its events, not a word to match: con* 2011 found
// only the corpus's 380 events that say 2011 (here the few that do).
// The fixture is written here: 300 words that con* begins, on events of
// 2010 and 2011, of which 5 say 2011.
func TestRanking_PrefixOfManyTerms(t *testing.T) {
	const letters = "bdfgkmp"
	var b strings.Builder
	n := 0
	for _, x := range letters {
		for _, y := range letters {
			for _, z := range letters {
				if n == 300 {
					break
				}
				word := "con" + string([]rune{x, y, z}) + "k"
				date := fmt.Sprintf("%d-03-%02d", 2010+n%2, 1+n%28)
				text := fmt.Sprintf("The %s talks resume in Vienna.", word)
				if n%60 == 0 {
					text = fmt.Sprintf("The %s talks of 2011 resume.", word)
				}
				fmt.Fprintf(&b, "{\"id\": \"%s/e%03d\", \"date\": \"%s\", \"text\": %q}\n", date, n, date, text)
				n++
			}
		}
	}
	path := filepath.Join(t.TempDir(), "prefix.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	e := engineOver(t, testindex.Open(t, path))
	for _, sort := range []query.Sort{query.SortRelevance, query.SortDateDesc} {
		res, err := e.Search(context.Background(), Request{Q: "con* 2011", Size: 20, Sort: sort})
		if err != nil {
			t.Fatal(err)
		}
		if res.DateBoost == nil || res.Total != 300 {
			t.Fatalf("sort %q: con* 2011: total %d, date boost %v; want the 300 events of con*, 2011 read as a boost", sort, res.Total, res.DateBoost)
		}
		for _, h := range res.Hits[:10] {
			if !strings.HasPrefix(h.Date, "2011") {
				t.Errorf("sort %q: con* 2011 lists %s (%s) in its top 10, before events of 2011", sort, h.ID, h.Date)
			}
		}
	}
}

// TestRanking_YearTyped: the events of a year typed come first, and of a
// month typed with it before the rest of the year, when the query's
// words match them less well than events of other times (longer
// sentences): the boosts were 0.1 and 0.05 before 2026-12-02, and coup
// 2013 listed no event of 2013 in its top 10 on the corpus, election
// november 2016 one of that month.
func TestRanking_YearTyped(t *testing.T) {
	var b strings.Builder
	event := func(date, text string) {
		fmt.Fprintf(&b, "{\"id\": \"%s/%s\", \"date\": \"%s\", \"text\": %q}\n", date, strings.ToLower(strings.Fields(text)[2]), date, text)
	}
	long := " after days of protests in the capital, as soldiers take over the state broadcaster."
	for i, country := range []string{"Fiji", "Mali", "Niger", "Guinea", "Sudan", "Chad"} {
		event(fmt.Sprintf("20%02d-05-0%d", 6+i*3, 1+i), "Soldiers stage a coup in "+country+" overnight.")
		event(fmt.Sprintf("2016-0%d-1%d", 1+i, i), "Voters in "+country+" go to an election today.")
	}
	for i, country := range []string{"Egypt", "Yemen", "Libya", "Benin"} {
		event(fmt.Sprintf("2013-0%d-2%d", 3+i, i), "The army of "+country+" removes the president in a coup"+long)
		event(fmt.Sprintf("2016-11-0%d", 1+i), "The election in "+country+" is held on a day of rain"+long)
	}
	path := filepath.Join(t.TempDir(), "years.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	e := engineOver(t, testindex.Open(t, path))
	for _, tt := range []struct{ q, first string }{
		{"coup 2013", "2013-"},
		{"election november 2016", "2016-11-"},
	} {
		res, err := e.Search(context.Background(), Request{Q: tt.q, Size: 10})
		if err != nil {
			t.Fatal(err)
		}
		if res.DateBoost == nil {
			t.Fatalf("%s: no date boost", tt.q)
		}
		for i, h := range res.Hits[:4] {
			if !strings.HasPrefix(h.Date, tt.first) {
				t.Errorf("%s: hit %d is of %s (%s), want the 4 events of %s* first", tt.q, i+1, h.Date, h.ID, tt.first)
			}
		}
	}
}

// TestMatchSet_AfterUpdate: what a phrase or a code matched is kept by
// the snapshot for the next request (snapshot.Memo), and an update's
// snapshot matches anew: the second search sees the event the update
// added, and a deleted one is gone.
func TestMatchSet_AfterUpdate(t *testing.T) {
	x := testindex.Open(t, "testdata/ranking.jsonl")
	e := engineOver(t, x)
	total := func(q string) uint64 {
		t.Helper()
		res, err := e.Search(context.Background(), Request{Q: q, Size: 10})
		if err != nil {
			t.Fatal(err)
		}
		return res.Total
	}
	const q = `"suez canal" -flamingo`
	before := total(q)
	if before == 0 || total(q) != before {
		t.Fatalf("%s: %d events, then %d", q, before, total(q))
	}
	added := newsdesk.Event{ID: "2030-01-02/a-ship-blocks-the-suez-canal", Date: "2030-01-02", Text: "A ship blocks the Suez Canal again."}
	x.Update(t, added)
	if n := total(q); n != before+1 {
		t.Errorf("after an update adding one: %d events, want %d", n, before+1)
	}
	x.Delete(t, added.ID)
	if n := total(q); n != before {
		t.Errorf("after deleting it: %d events, want %d", n, before)
	}
}

// TestRanking_MonthInAName: a month word before a year is a date unless
// the events write it with the word before it as a name (Theresa May,
// Women's March): theresa may 2019 searched theresa alone, May 2019 its
// boost, and found every Theresa. Typed without its apostrophe
// (womens march) or corrected (thersa may), a name is one too.
func TestRanking_MonthInAName(t *testing.T) {
	var b strings.Builder
	event := func(date, slug, text string) {
		fmt.Fprintf(&b, "{\"id\": \"%s/%s\", \"date\": \"%s\", \"text\": %q}\n", date, slug, date, text)
	}
	for i, month := range []string{"03", "04", "05", "06"} {
		event("2019-"+month+"-1"+fmt.Sprint(i), fmt.Sprint("may-", i), "Prime Minister Theresa May meets her cabinet.")
		event("2019-"+month+"-2"+fmt.Sprint(i), fmt.Sprint("floods-", i), "Floods hit the north of the country.")
	}
	for i := range 3 {
		event(fmt.Sprint("2019-05-0", i+1), fmt.Sprint("smith-", i), "Theresa Smith opens a bakery in Leeds.")
		event(fmt.Sprint("2017-03-1", i+1), fmt.Sprint("womens-", i), "The Women's March fills the streets of a city.")
		event(fmt.Sprint("2017-03-2", i+1), fmt.Sprint("women-", i), "Women march for equal pay in a city.")
	}
	// "attack may" in a row, may a verb: no name (a second review's finding).
	for i := range 4 {
		event(fmt.Sprint("2019-0", 3+i, "-05"), fmt.Sprint("attack-", i), "Officials warn the attack may spread to the north.")
	}
	path := filepath.Join(t.TempDir(), "months.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	r := DefaultRanking
	r.AllWords = 1 // the fixture's few events: not relaxed
	e := engineOver(t, testindex.Open(t, path)).WithRanking(r)
	for _, tt := range []struct {
		q            string
		month        int
		total        uint64
		wantInEvents string
	}{
		{"theresa may 2019", 0, 4, "/may-"}, // Theresa May's, 2019 a boost
		{"thersa may 2019", 0, 4, "/may-"},  // corrected, the name too
		{"floods may 2019", 5, 4, "/floods-"},
		{"floods in may 2019", 5, 4, "/floods-"}, // "in may" is may: never a name
		{"attack may 2019", 5, 4, "/attack-"},
		{"womens march 2017", 0, 6, "/wom"}, // without the apostrophe, the name too: march a word
		{"women march 2017", 3, 6, "/wom"},  // no name: the women of March 2017
	} {
		res, err := e.Search(context.Background(), Request{Q: tt.q, Size: 10})
		if err != nil {
			t.Fatal(err)
		}
		year := strings.Fields(tt.q)[len(strings.Fields(tt.q))-1]
		if res.DateBoost == nil || fmt.Sprint(res.DateBoost.Year) != year || res.DateBoost.Month != tt.month {
			t.Errorf("%s: date boost %+v, want %s and month %d", tt.q, res.DateBoost, year, tt.month)
		}
		if res.Total != tt.total {
			t.Errorf("%s: %d events, want %d", tt.q, res.Total, tt.total)
		}
		for _, h := range res.Hits {
			if !strings.Contains(h.ID, tt.wantInEvents) {
				t.Errorf("%s: lists %s", tt.q, h.ID)
			}
		}
	}
}

// TestRanking_YearBoostRelaxed: a year or month typed boosts a relaxed
// match as its words' share scales its score: at 0.3 and 0.3 more, an
// event of March 2019 with one word of three ranked above the events with
// all three (a review's finding).
func TestRanking_YearBoostRelaxed(t *testing.T) {
	var b strings.Builder
	for i := range 3 {
		fmt.Fprintf(&b, "{\"id\": \"2017-01-2%d/talks-%d\", \"date\": \"2017-01-2%d\", \"text\": \"Peace talks open in Astana, round %d.\"}\n", i, i, i, i)
	}
	fmt.Fprintf(&b, "{\"id\": \"2019-03-20/astana-renamed\", \"date\": \"2019-03-20\", \"text\": \"Astana is renamed Nur-Sultan.\"}\n")
	path := filepath.Join(t.TempDir(), "relaxed.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	e := engineOver(t, testindex.Open(t, path))
	res, err := e.Search(context.Background(), Request{Q: "astana peace talks march 2019", Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Relaxed || res.DateBoost == nil || len(res.Hits) != 4 {
		t.Fatalf("relaxed %v, date boost %v, %d hits: want 4, relaxed, boosted", res.Relaxed, res.DateBoost, len(res.Hits))
	}
	for i, h := range res.Hits[:3] {
		if !strings.Contains(h.ID, "/talks-") {
			t.Errorf("hit %d is %s: want the three events with every word first", i+1, h.ID)
		}
	}
}

// TestRanking_DayTyped: a day typed beside words (2011-03-11, 11 march
// 2011, march 11, 2011) boosts that day's events above the rest of its
// month and year, and its numbers are no words to match; a day alone is
// the events of that day, newest first, unless the date range given
// leaves it out. As words, 2011-03-11 found the events that write
// 2011, 03 and 11 in a row.
func TestRanking_DayTyped(t *testing.T) {
	var b strings.Builder
	event := func(date, text string) {
		fmt.Fprintf(&b, "{\"id\": \"%s/%s\", \"date\": \"%s\", \"text\": %q}\n", date, strings.ToLower(strings.Fields(text)[1]), date, text)
	}
	for i, place := range []string{"Chile", "Peru", "Iran", "Nepal", "Japan", "Haiti"} {
		event(fmt.Sprintf("2011-03-%02d", 5+i), "An earthquake in "+place+" of magnitude 6 kills several people and destroys houses in the region.")
	}
	event("2011-03-11", "Tsunami warnings follow an earthquake off Japan.")
	event("2011-03-11", "Parliament passes the budget of 2011, article 03, clause 11.")
	event("2012-03-11", "An earthquake in Fiji on 11 March 2011 is remembered.")
	path := filepath.Join(t.TempDir(), "days.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	e := engineOver(t, testindex.Open(t, path))
	for _, q := range []string{"earthquake 2011-03-11", "earthquake 11 march 2011", "earthquake March 11, 2011", "earthquake march 11th 2011"} {
		res, err := e.Search(context.Background(), Request{Q: q, Size: 10})
		if err != nil {
			t.Fatal(err)
		}
		if res.DateBoost == nil || res.DateBoost.Day != 11 || res.DateBoost.Month != 3 || res.DateBoost.Year != 2011 {
			t.Fatalf("%s: date boost %+v, want 2011-03-11", q, res.DateBoost)
		}
		if res.Total != 8 || len(res.Hits) == 0 || res.Hits[0].Date != "2011-03-11" {
			t.Errorf("%s: %d events, first %v; want the 8 earthquakes, 2011-03-11's first", q, res.Total, res.Hits)
		}
	}
	for _, tt := range []struct {
		q        string
		from, to string
		total    uint64
	}{
		{"2011-03-11", "", "", 2},
		{"11 March 2011", "2011-01-01", "", 2},
		{"2011-03-11 -budget", "", "", 1},
		{"2011-03-11", "2012-01-01", "", 1}, // outside the range: words (relaxed), Fiji's remembrance
	} {
		r := Request{Q: tt.q, Size: 10}
		if tt.from != "" {
			r.From, _ = time.Parse(time.DateOnly, tt.from)
		}
		res, err := e.Search(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != tt.total {
			t.Errorf("%s from %q: %d events %v, want %d", tt.q, tt.from, res.Total, res.Hits, tt.total)

		}
		for _, h := range res.Hits {
			if tt.from == "" && h.Date != "2011-03-11" {
				t.Errorf("%s: %s (%s), want the day's events alone", tt.q, h.ID, h.Date)
			}
		}
	}
}
