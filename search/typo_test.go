package search

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/mappings"
	"github.com/newsdesk/newsdesk/testindex"
)

// TestLikeliest: a correction is the commonest near term, each edit
// costing a thousandfold in events: one edit away beats two unless the
// farther is far commoner.
func TestLikeliest(t *testing.T) {
	tests := []struct {
		name  string
		terms []nearTerm
		want  string
	}{
		{"one edit beats a commoner two (brexti)", []nearTerm{{"treati", 2, 3000}, {"brexit", 1, 165}}, "brexit"},
		{"the commonest of one edit (syrai)", []nearTerm{{"sprai", 1, 40}, {"syria", 1, 4000}}, "syria"},
		{"a far commoner term two edits away beats a rare one", []nearTerm{{"ukrane", 1, 2}, {"ukrain", 2, 5000}}, "ukrain"},
		{"not a thousand times commoner", []nearTerm{{"abc", 1, 10}, {"abd", 2, 9999}}, "abc"},
		{"a tie goes to fewer edits", []nearTerm{{"abd", 2, 10000}, {"abc", 1, 10}}, "abc"},
		{"then to the first term", []nearTerm{{"abd", 1, 10}, {"abc", 1, 10}}, "abc"},
		{"terms without events are never chosen", []nearTerm{{"abc", 0, 0}, {"abd", 2, 1}}, "abd"},
		{"nothing", []nearTerm{{"abc", 1, 0}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := likeliest(tt.terms)
			if got.term != tt.want || ok != (tt.want != "") {
				t.Errorf("likeliest = %q (%v), want %q", got.term, ok, tt.want)
			}
		})
	}
}

// TestPlain: corrections show words as typed in a search box.
func TestPlain(t *testing.T) {
	for in, want := range map[string]string{"Ukraine's": "ukraine", "Israel’s": "israel", "Obama": "obama", "'s": "'s", "bus": "bus"} {
		if got := plain(in); got != want {
			t.Errorf("plain(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCorrect_CommonestForm: a correction shows the form most events
// write, not the first event's ("Germans").
func TestCorrect_CommonestForm(t *testing.T) {
	x := testindex.Open(t, "testdata/typo.jsonl")
	e := engineOver(t, x)
	res, err := e.Search(context.Background(), Request{Q: "germna"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Corrections) != 1 || res.Corrections[0].To != "german" {
		t.Errorf("corrections %+v, want germna → german", res.Corrections)
	}
	// Deleted events are not read: with the German ones gone, Germans.
	batch := x.Index.NewBatch()
	batch.Delete("2015-02-10/the-german-chancellor-visits-athens")
	batch.Delete("2015-03-12/german-carmakers-report-record-sales")
	if err := x.Index.Batch(batch); err != nil {
		t.Fatal(err)
	}
	if err := x.Source.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res, err = e.Search(context.Background(), Request{Q: "germna"}); err != nil {
		t.Fatal(err)
	}
	if len(res.Corrections) != 1 || res.Corrections[0].To != "germans" {
		t.Errorf("after deletions, corrections %+v, want germna → germans", res.Corrections)
	}
}

// TestCorrect_Slips: a slip is made in the word as written, not in its
// stem. presidnet is one swap from president but three edits from its
// stem (presid) and two from presidential's (presidenti); pandmic one
// letter from pandemic, two from panic.
func TestCorrect_Slips(t *testing.T) {
	x := testindex.Open(t, "testdata/typo.jsonl")
	e := engineOver(t, x)
	for _, tt := range []struct{ q, want string }{
		{"presidnet", "president"},
		{"pandmic", "pandemic"},
		{"pandemci", "pandemic"},
		{"presidentt", "president"},
		{"presidnet,", "president"},
		{"«pandmic»", "pandemic"},
		{"“pandmic”", "pandemic"}, // a phrase of one word, as "pandmic" is
		{`"pandmic"`, "pandemic"},
		{"germna", "german"},
		// Words too long to have their slips tried within the query's
		// budget do not take it from the short one.
		{strings.Repeat("qwertzuiopasdfghjklyxcvbnmqwer ", 3) + "presidnet", "president"},
		// Nor do the words the index knows (66 letters here): only the
		// words to correct count against it.
		{"germans protest dresden against visits athens opens flooded towns presidnet", "president"},
	} {
		res, err := e.Search(context.Background(), Request{Q: tt.q})
		if err != nil {
			t.Fatal(err)
		}
		if i := slices.IndexFunc(res.Corrections, func(c Correction) bool { return c.To == tt.want }); i < 0 {
			t.Errorf("%s: corrections %+v, want %s", tt.q, res.Corrections, tt.want)
		}
	}
}

// TestCorrect_PhrasesOfSeveralWords: a word of a phrase that the index
// does not know is corrected in its place, the phrase kept whole, stop
// words and all; never the phrase replaced by one term ("the pandmic"
// was made "panic" once, stop words leaving one term of it). An excluded
// phrase is left as typed. Until 2026-12-02 phrases were left as typed,
// and "huricane katrina" quoted found nothing.
func TestCorrect_PhrasesOfSeveralWords(t *testing.T) {
	x := testindex.Open(t, "testdata/typo.jsonl")
	e := engineOver(t, x)
	for _, tt := range []struct {
		q    string
		want []string // the corrections, from → to
	}{
		{`"the pandmic"`, []string{"pandmic → pandemic"}},
		{`“to be pandmic”`, []string{"pandmic → pandemic"}},
		{`"covid-19 vaccne"`, []string{"vaccne → vaccine"}},
		{`-"pandmic" presidnet`, nil},
		// A slip from a stop word is the stop word ("ten" for teh made
		// the phrase find nothing, and its other correction was lost).
		{`"teh pandmic"`, []string{"teh → the", "pandmic → pandemic"}},
		// No event has the corrected phrase and zebra: relaxed as
		// corrected (the typed phrase, relaxed, matched nothing).
		{`"the pandmic" zebra`, []string{"pandmic → pandemic"}},
		// A code in a phrase, as the events write it, beside a typo
		// after it: each in its place.
		{`"covid19 vaccne"`, []string{"covid19 → covid-19", "vaccne → vaccine"}},
	} {
		res, err := e.Search(context.Background(), Request{Q: tt.q})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range res.Corrections {
			if strings.Contains(c.From, " ") {
				t.Errorf("%s: corrected %q to %q, a phrase replaced whole", tt.q, c.From, c.To)
			}
			if c.From != "presidnet" {
				got = append(got, c.From+" → "+c.To)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: corrections %v, want %v", tt.q, got, tt.want)
		}
		if tt.want != nil && res.Total == 0 {
			t.Errorf("%s: nothing found, corrected", tt.q)
		}
	}
}

// TestSlipAllowed: slips are tried for a query's shortest words first,
// while their letters fit in the budget.
func TestSlipAllowed(t *testing.T) {
	long := strings.Repeat("x", maxSlipWord)
	for _, tt := range []struct {
		words  []string
		budget int
		want   []bool
	}{
		{[]string{"presidnet", "pandmic"}, 64, []bool{true, true}},
		{[]string{long, long, long, "presidnet"}, 64, []bool{true, false, false, true}},
		{[]string{"", "syrai", ""}, 64, []bool{false, true, false}},
		{[]string{"abcdefgh", "abcd", "abcdef"}, 10, []bool{false, true, true}},
		{[]string{long + "x"}, 64, []bool{false}},
		{[]string{"ab", "abc"}, 1, []bool{false, false}},
	} {
		if got := slipAllowed(tt.words, tt.budget); !slices.Equal(got, tt.want) {
			t.Errorf("slipAllowed(%q, %d) = %v, want %v", tt.words, tt.budget, got, tt.want)
		}
	}
}

// TestSlipTerms: the terms of the words one slip away, each once.
func TestSlipTerms(t *testing.T) {
	got, err := slipTerms(mappings.New(), "syrai")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"syria", "sprai", "syra"} {
		if !slices.Contains(got, want) {
			t.Errorf("slipTerms(syrai) lacks %q", want)
		}
	}
	seen := map[string]bool{}
	for _, g := range got {
		if seen[g] {
			t.Errorf("slipTerms(syrai) has %q twice", g)
		}
		seen[g] = true
	}
}

// TestCorrect_NotNumbers: a number or a code is meant as typed, never
// corrected into another (2099 became 2019, w10 became 10).
func TestCorrect_NotNumbers(t *testing.T) {
	x := testindex.Open(t, "testdata/typo.jsonl")
	e := engineOver(t, x)
	for _, q := range []string{"2099", "w10", "budget 2099"} {
		res, err := e.Search(context.Background(), Request{Q: q})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Corrections) != 0 || strings.HasPrefix(q, "2") && res.Total != 0 {
			t.Errorf("%s: corrections %+v, %d events; want none corrected, nothing found", q, res.Corrections, res.Total)
		}
	}
}

// TestCorrect_CodesWrittenWithADash: a code of letters and digits the
// index does not know is searched as its letters and digits, as the
// events write such codes with a dash (covid19 found none of COVID-19's
// events until 2026-12-02); one the index knows, or a number, is not.
func TestCorrect_CodesWrittenWithADash(t *testing.T) {
	x := testindex.Open(t, "testdata/typo.jsonl")
	e := engineOver(t, x)
	for _, tt := range []struct {
		q     string
		total int
		to    string // the correction, "" for none
	}{
		{"covid19", 2, "covid-19"},
		{"COVID19 vaccine", 1, "covid-19"},
		// A phrase, as "covid-19" quoted: not its parts anywhere (su57
		// listed the events of 57 killed), nor a year read as a date
		// (euro2024 boosted the euro's events of 2024).
		{"euro2024", 1, "euro-2024"},
		{`"f35"`, 1, "f-35"},
		{"su57", 0, ""},
		{"covid-19", 2, ""},
		{"f35", 1, "f-35"},
		{"w10", 0, ""}, // no event holds w and 10
		{"2099", 0, ""},
		// A code the index has joined matches it written with a dash too,
		// and back (not a correction: the same code).
		{"g20", 2, ""},
		{"g-20", 2, ""},
		// One word, as a word relaxes: the fixture has fewer than 10
		// events with both words, so every event with the code counts.
		{"G20 summit", 2, ""},
		{"g-20 ministers", 2, ""},
		{"g‐20", 2, ""}, // a hyphen (U+2010), as pasted
		{"g−20", 2, ""}, // a minus sign
		{"ak47", 2, ""},
		{"AK-47", 2, ""},
		{"mh17", 1, ""},
		{"mh-17", 1, ""}, // no event writes MH alone: it relaxed to "17 people" (below)
		{"flight -mh-17", 0, ""},
		{"-ak47 police", 0, ""},
	} {
		res, err := e.Search(context.Background(), Request{Q: tt.q})
		if err != nil {
			t.Fatal(err)
		}
		var to string
		if len(res.Corrections) == 1 {
			to = res.Corrections[0].To
		}
		if res.Total != uint64(tt.total) || to != tt.to || len(res.Corrections) > 1 || res.DateBoost != nil {
			t.Errorf("%s: %d events, corrections %+v; want %d, %q", tt.q, res.Total, res.Corrections, tt.total, tt.to)
		}
		if tt.q == "mh-17" && (res.Relaxed || len(res.Hits) != 1 || !strings.Contains(res.Hits[0].Text, "MH17")) {
			t.Errorf("%s: relaxed %v to %v, want Flight MH17", tt.q, res.Relaxed, res.Hits)
		}
	}
	// A year beside a code is a boost, as beside any word (a first
	// version made the code a phrase, beside which a year is a word:
	// g20 2009 found only the events that say 2009).
	res, err := e.Search(context.Background(), Request{Q: "g20 2009"})
	if err != nil {
		t.Fatal(err)
	}
	if res.DateBoost == nil || res.DateBoost.Year != 2009 || res.Total != 2 || !strings.HasPrefix(res.Hits[0].ID, "2009-") {
		t.Errorf("g20 2009: %d events, date boost %+v, first %v; want both G20 events, the 2009 one first", res.Total, res.DateBoost, res.Hits)
	}
}

// TestCorrect_KnownWords: a word the index knows, but rarely, is
// corrected to one a slip from it in ten times as many events when no
// event has every word as typed and events have every word corrected
// (barak obama listed Ehud Barak's events, none of Barack Obama's); not
// when some event has them all, nor for a near word not that much
// commoner (iran, iraq).
func TestCorrect_KnownWords(t *testing.T) {
	texts := slices.Concat(
		numbered(20, "President Barack Obama signs bill number %d."),
		numbered(20, "Troops leave Iraq under plan %d."),
		[]string{"Ehud Barak visits a military base.", "Ehud Barak meets Benjamin Netanyahu in Jerusalem.", "Raab speaks."},
		// konya protest: kenya is a slip from konya and in ten times as
		// many events, but in few of protest's (a review's finding).
		numbered(30, "Workers protest wages in town %d."),
		numbered(20, "Kenya plants forest %d."),
		[]string{"A protest in Kenya turns violent.", "Konya hosts a festival."},
		numbered(5, "Iran launches satellite %d."),
	)
	e := textsEngine(t, texts...)
	for _, tt := range []struct {
		q     string
		corr  []Correction
		total uint64
	}{
		{"barak obama", []Correction{{From: "barak", To: "barack"}}, 20},
		{"barak netanyahu", nil, 2}, // one event has both: relaxed to Barak's, as typed
		{"iran iraq", nil, 25},      // iraq in 4 times as many: relaxed to any, as typed
		{"konya protest", nil, 32},  // kenya in 1 of protest's 31 events: relaxed to any, as typed
		// A typo corrected is not corrected again: barek is barak (one
		// edit, where barack is two), which stays.
		{"barek obama", []Correction{{From: "barek", To: "barak"}}, 22},
		{"aggain obama", []Correction{{From: "aggain", To: "again"}}, 20}, // a stop word, not searched for
		{"aggain", nil, 0},     // again alone, nothing to match: none (a 500 before; a review's finding)
		{"aggain the", nil, 0}, // stop words corrected and relaxed: none (a 500 too)
		{"raab barak", nil, 3}, // a word equal to the correction proves nothing: as typed, relaxed
	} {
		res, err := e.Search(context.Background(), Request{Q: tt.q, Size: 10})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.Corrections, tt.corr) && !(len(tt.corr) == 0 && len(res.Corrections) == 0) {
			t.Errorf("%s: corrections %v, want %v", tt.q, res.Corrections, tt.corr)
		}
		if res.Total != tt.total {
			t.Errorf("%s: %d events, want %d", tt.q, res.Total, tt.total)
		}
	}
}

// TestCorrect_NearestAsWritten: a typo is corrected to the word one slip
// from it as written, not to a commoner word its stem is one edit from,
// and shown as the form nearest what was typed: polcy became police
// (stems polci and polic, a swap apart) though policy is one letter
// away; generaton general, communicaton community, whose stems
// generation and communication share (a review's findings).
func TestCorrect_NearestAsWritten(t *testing.T) {
	texts := slices.Concat(
		numbered(20, "The police arrest suspect %d."),
		numbered(20, "The general election of district %d is held."),
		numbered(20, "The community of village %d rebuilds."),
		numbered(3, "The foreign policy review %d is published."),
		numbered(3, "A new generation of fighter %d flies."),
		numbered(3, "A communication satellite %d is launched."),
	)
	e := textsEngine(t, texts...)
	for q, want := range map[string]string{"polcy": "policy", "generaton": "generation", "communicaton": "communication", "polise": "police"} {
		res, err := e.Search(context.Background(), Request{Q: q, Size: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Corrections) != 1 || res.Corrections[0].To != want {
			t.Errorf("%s: corrections %v, want %s", q, res.Corrections, want)
		}
	}
}

// textsEngine returns an engine over a fixture the test writes: an event
// of each text, one a day from 2012-01-01.
func textsEngine(t *testing.T, texts ...string) *Engine {
	t.Helper()
	var b strings.Builder
	for i, text := range texts {
		day := time.Date(2012, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i).Format(time.DateOnly)
		fmt.Fprintf(&b, "{\"id\": \"%s/e%d\", \"date\": \"%s\", \"text\": %q}\n", day, i, day, text)
	}
	path := filepath.Join(t.TempDir(), "texts.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return engineOver(t, testindex.Open(t, path))
}

// numbered returns n texts of format, each with its number (0 to n-1).
func numbered(n int, format string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(format, i)
	}
	return out
}
