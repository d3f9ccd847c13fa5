package query

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParse(t *testing.T) {
	w := func(s string) Clause { return Clause{Kind: Word, Text: s} }
	tests := []struct {
		q    string
		want []Clause
	}{
		{"peace talks", []Clause{w("peace"), w("talks")}},
		{`"peace talks" astana`, []Clause{{Kind: Phrase, Text: "peace talks"}, w("astana")}},
		{`"unclosed phrase`, []Clause{{Kind: Phrase, Text: "unclosed phrase"}}},
		{`-ceasefire -"peace talks"`, []Clause{{Kind: Word, Text: "ceasefire", Negated: true}, {Kind: Phrase, Text: "peace talks", Negated: true}}},
		{`topic:"Syrian peace process" Category:Sports context:Astana`, []Clause{
			{Kind: Field, Field: "topic", Text: "Syrian peace process"},
			{Kind: Field, Field: "category", Text: "Sports"},
			{Kind: Field, Field: "context", Text: "Astana"}}},
		{`-context:"Syrian Civil War"`, []Clause{{Kind: Field, Field: "context", Text: "Syrian Civil War", Negated: true}}},
		{"astan*", []Clause{{Kind: Prefix, Text: "astan"}}},
		{"unknown:field", []Clause{w("unknown:field")}},
		{"*leading ?wild* *", []Clause{w("leading"), {Kind: Prefix, Text: "wild"}}},
		{"- + --", []Clause{{Kind: Word, Text: "-", Negated: true}}},
		{"tab\tand\x00control\x1fchars", []Clause{w("tab"), w("and"), w("control"), w("chars")}},
		{`/.*/`, []Clause{w("/.*/")}},
		{"", nil},
		// Repeated clauses are kept once, in any case or spacing; a sign or
		// a kind of their own makes them other clauses.
		{strings.Repeat(`"united states" `, 32), []Clause{{Kind: Phrase, Text: "united states"}}},
		{strings.Repeat("peace ", 40), []Clause{w("peace")}}, // beyond MaxTerms: it counts once
		// Decomposed accents (as some copy-paste gives them) are composed, as
		// the events write them.
		{"Co\u0302te d'Ivoire to\u0304hoku", []Clause{w("Côte"), w("d'Ivoire"), w("tōhoku")}},
		// Full-width ASCII (an East Asian keyboard's) is ASCII, operators
		// included, and a PDF's ligatures are their letters; ½ stays.
		{"ＷＡＲ －ｃｅａｓｅｆｉｒｅ ＂peace talks＂", []Clause{w("WAR"), {Kind: Word, Text: "ceasefire", Negated: true}, {Kind: Phrase, Text: "peace talks"}}},
		{"ﬁre ﬂood ½", []Clause{w("fire"), w("flood"), w("½")}},
		// Typographic quotes and apostrophes (a phone's or a Mac's smart
		// punctuation) are the straight ones.
		{"“peace talks” O’Brien -„ceasefire“ Sana‘a", []Clause{{Kind: Phrase, Text: "peace talks"}, w("O'Brien"),
			{Kind: Phrase, Text: "ceasefire", Negated: true}, w("Sana'a")}},
		{`"United  States" "united states" united states -"united states"`, []Clause{{Kind: Phrase, Text: "United  States"}, w("united"), w("states"),
			{Kind: Phrase, Text: "united states", Negated: true}}},
		{"peace Peace PEACE talks peace", []Clause{w("peace"), w("talks")}},
		{"astan* astan* topic:Syria topic:syria context:Syria", []Clause{{Kind: Prefix, Text: "astan"},
			{Kind: Field, Field: "topic", Text: "Syria"}, {Kind: Field, Field: "context", Text: "Syria"}}},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			got, err := Parse(tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Clauses, tc.want) {
				t.Errorf("Parse(%q) =\n %+v\nwant\n %+v", tc.q, got.Clauses, tc.want)
			}
		})
	}
}

// distinctWords returns n different words.
func distinctWords(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "w%d ", i)
	}
	return b.String()
}

func TestParse_Errors(t *testing.T) {
	tests := []struct{ q, want string }{
		{strings.Repeat("a", MaxQueryBytes+1), "at most 512"},
		{distinctWords(MaxTerms + 1), "more than 32"},
		// A phrase counts its words: one of many copies of a common word
		// walked its list once a word.
		{`"` + strings.Repeat("states ", MaxTerms+1) + `"`, "more than 32"},
		{`"` + distinctWords(20) + `" ` + distinctWords(13), "more than 32"},
		// Words as the analyser splits them: hyphens count.
		{`"` + strings.Repeat("states-", MaxTerms+1) + `"`, "more than 32"},
		{strings.Repeat("states-", MaxTerms) + "x", "more than 32"},
		{strings.Repeat("\ufb2c", 100), "once composed"}, // 300 bytes that compose to 600
		{"caf\xe9", "not valid UTF-8"},
		{"ab*", "at least 3 characters"},
		{"text:brexit", `"text:" is no field`},
		{"brexit Date:2019", "from and to"},
		{`tags:"peace talks"`, "context:"},
	}
	for _, tc := range tests {
		_, err := Parse(tc.q)
		var ie *InvalidError
		if !errors.As(err, &ie) || ie.Param != "q" || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%.20q) = %v, want an InvalidError for q containing %q", tc.q, err, tc.want)
		}
	}
	// Other words with a colon are words; a name and a colon before a
	// space, a word too.
	for _, q := range []string{"re:invent", "brexit: deal", "text: brexit", "10:30"} {
		if _, err := Parse(q); err != nil {
			t.Errorf("Parse(%q): %v", q, err)
		}
	}
}

// FuzzParse checks that no input makes Parse panic, and that what it
// accepts stays within the limits.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"peace talks", `"a b`, `-x topic:"y" astan*`, "*a*", "/.*/", "\x00\xff", `""""`, "-", "a:b:c", strings.Repeat(`"`, 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		p, err := Parse(q)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrInvalid", q, err)
			}
			return
		}
		if len(p.Clauses) > MaxTerms || !utf8.ValidString(q) || len(q) > MaxQueryBytes {
			t.Fatalf("Parse(%q) accepted input beyond the limits", q)
		}
		for _, c := range p.Clauses {
			if c.Text == "" || strings.ContainsAny(c.Text, "\x00\n\t") {
				t.Fatalf("Parse(%q) gave clause %+v", q, c)
			}
			if c.Kind == Prefix && utf8.RuneCountInString(c.Text) < MinPrefixLen {
				t.Fatalf("Parse(%q) gave a short prefix %+v", q, c)
			}
		}
	})
}

func TestNewHistogram(t *testing.T) {
	d := func(s string) time.Time { t, _ := time.Parse("2006-01-02", s); return t }
	tests := []struct {
		from, to string
		unit     Unit
		buckets  int
	}{
		{"2019-03-01", "2019-03-31", Day, 31},
		{"2019-01-15", "2019-12-31", Month, 12},
		{"2002-07-01", "2026-03-28", Year, 25},
	}
	for _, tc := range tests {
		h := NewHistogram(d(tc.from), d(tc.to))
		if h.Unit != tc.unit || len(h.Buckets()) != tc.buckets {
			t.Errorf("%s..%s: unit %s with %d buckets, want %s with %d", tc.from, tc.to, h.Unit, len(h.Buckets()), tc.unit, tc.buckets)
		}
	}
}
