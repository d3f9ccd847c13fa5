package newsdesk

import (
	"errors"
	"strings"
	"testing"
)

func TestSlug(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"accents dropped", "A Russian Tupolev collides over Überlingen", "a-russian-tupolev-collides-over-uberlingen"},
		{"apostrophe and comma become hyphens", "At least 43,000 displaced by Wednesday's quake", "at-least-43-000-displaced-by-wednesday-s-quake"},
		{"dashes vanish", "In the Army–Navy Game, 21–17", "in-the-armynavy-game-2117"},
		{"leading and trailing punctuation", "  (Reuters) ...", "reuters"},
		{"cut without trailing hyphen", strings.Repeat("abcdefg ", 20), strings.TrimRight(strings.Repeat("abcdefg-", 16), "-")},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Slug(tc.text); got != tc.want {
				t.Errorf("Slug(%q) = %q, want %q", tc.text, got, tc.want)
			}
			if got := Slug(tc.text); len(got) > MaxSlugLen {
				t.Errorf("Slug(%q) has %d characters, more than %d", tc.text, len(got), MaxSlugLen)
			}
			// The ids the readers make follow the scheme Validate checks.
			e := Event{ID: NewID("2017-01-23", tc.text), Date: "2017-01-23", Text: tc.text + "."}
			if err := e.Validate(); (err == nil) != (tc.want != "") {
				t.Errorf("Validate() of the id %q = %v", e.ID, err)
			}
		})
	}
	if got, want := NewID("2017-01-23", "Peace talks in Astana."), "2017-01-23/peace-talks-in-astana"; got != want {
		t.Errorf("NewID = %q, want %q", got, want)
	}
}

func TestEventValidate(t *testing.T) {
	good := Event{ID: "2017-01-23/x", Date: "2017-01-23", Text: "x"}
	tests := []struct {
		name   string
		mutate func(e *Event)
		want   string // "" means valid
	}{
		{"valid", func(e *Event) {}, ""},
		{"missing id", func(e *Event) { e.ID = " " }, "missing id"},
		{"missing text", func(e *Event) { e.Text = "" }, "missing text"},
		{"bad date format", func(e *Event) { e.Date = "23/01/2017" }, "not a real YYYY-MM-DD day"},
		{"impossible date", func(e *Event) { e.Date = "2017-02-30" }, "not a real YYYY-MM-DD day"},
		{"zero time is not a date", func(e *Event) { e.Date, e.ID = "0001-01-01", "0001-01-01/x" }, "0001-01-01 is outside the accepted range 1800-01-01 to 2199-12-31"},
		{"sentinel year", func(e *Event) { e.Date, e.ID = "9999-12-31", "9999-12-31/x" }, "outside the accepted range"},
		{"day before the range", func(e *Event) { e.Date, e.ID = "1799-12-31", "1799-12-31/x" }, "outside the accepted range"},
		{"first day of the range", func(e *Event) { e.Date, e.ID = MinDate, MinDate+"/x" }, ""},
		{"last day of the range", func(e *Event) { e.Date, e.ID = MaxDate, MaxDate+"/x" }, ""},
		{"day after the range", func(e *Event) { e.Date, e.ID = "2200-01-01", "2200-01-01/x" }, "outside the accepted range"},
		{"id with slug of digits and hyphens", func(e *Event) { e.ID = "2017-01-23/2-1-win-" }, ""},
		{"id of the longest slug", func(e *Event) { e.ID = "2017-01-23/" + strings.Repeat("a", MaxSlugLen) }, ""},
		{"id without a slash", func(e *Event) { e.ID = "peace-talks" }, "has no slash"},
		{"id of another date", func(e *Event) { e.ID = "2017-01-24/x" }, "does not start with the event's date 2017-01-23"},
		{"id with an empty slug", func(e *Event) { e.ID = "2017-01-23/" }, "empty slug"},
		{"id with a slug too long", func(e *Event) { e.ID = "2017-01-23/" + strings.Repeat("a", 200000) }, "slug of 200000 characters, more than 128"},
		{"id climbing up", func(e *Event) { e.ID = "../../etc/passwd" }, "does not start with the event's date"},
		{"id with dots", func(e *Event) { e.ID = "2017-01-23/../x" }, "not '.'"},
		{"id with a second slash", func(e *Event) { e.ID = "2017-01-23/x/related" }, "not '/'"},
		{"id with upper case", func(e *Event) { e.ID = "2017-01-23/Peace" }, "not 'P'"},
		{"id with a leading hyphen", func(e *Event) { e.ID = "2017-01-23/-x" }, "not '-' (byte 12 of the id)"},
		{"id with a space", func(e *Event) { e.ID = "2017-01-23/a b" }, "not ' '"},
		{"id with non-ASCII", func(e *Event) { e.ID = "2017-01-23/café" }, "not 'é'"},
		{"invalid UTF-8 in context", func(e *Event) { e.Context = []string{"ok", "bad\xff"} }, "context[1] is not valid UTF-8"},
		{"invalid UTF-8 in source", func(e *Event) { e.Sources = []Source{{Name: "\xfe"}} }, "sources[0].name"},
		// A longer tag could never be a filter's value.
		{"the longest topic", func(e *Event) { e.Topic = strings.Repeat("t", MaxTagBytes) }, ""},
		{"a topic too long", func(e *Event) { e.Topic = strings.Repeat("t", 5000) }, "topic is 5000 bytes, more than 256"},
		{"a category too long", func(e *Event) { e.Category = strings.Repeat("c", 257) }, "category is 257 bytes"},
		{"a context tag too long", func(e *Event) { e.Context = []string{"ok", strings.Repeat("c", 300)} }, "context[1] is 300 bytes"},
		{"the most context tags", func(e *Event) { e.Context = make([]string, MaxTags) }, ""},
		{"too many context tags", func(e *Event) { e.Context = make([]string, 300) }, "300 context tags, more than 50"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := good
			tc.mutate(&e)
			err := e.Validate()
			if err == nil {
				err = e.CheckTags()
			}
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalidEvent) {
				t.Fatalf("Validate() = %v, want an ErrInvalidEvent containing %q", err, tc.want)
			}
		})
	}
}

func TestEventMerge(t *testing.T) {
	earlier := Event{ID: "d/x", Date: "2017-01-23", Category: "Politics and elections", Topic: "Old topic",
		Context: []string{"Syrian Civil War"}, Text: "x",
		Sources: []Source{{Name: "Reuters", URL: "https://reuters.example/a"}, {Name: "BBC"}}}
	later := Event{ID: "d/x", Date: "2017-01-23", Topic: "Syrian peace process", Text: "x",
		Sources: []Source{{Name: "reuters"}, {Name: "AP", URL: "https://ap.example/b"}}}
	later.Merge(&earlier)
	if later.Topic != "Syrian peace process" {
		t.Errorf("topic = %q, want the later record's", later.Topic)
	}
	if later.Category != "Politics and elections" || len(later.Context) != 1 {
		t.Errorf("category %q, context %v: want the earlier record's, as the later one had none", later.Category, later.Context)
	}
	if later.Sources[0].URL != "https://reuters.example/a" || later.Sources[1].URL != "https://ap.example/b" || len(later.Sources) != 2 {
		t.Errorf("sources = %+v, want the later list with Reuters' URL from the earlier record", later.Sources)
	}
}

// TestClip: a value quoted back is cut at a character's start, with "…"
// when it was cut.
func TestClip(t *testing.T) {
	for _, tc := range []struct {
		s      string
		n      int
		cut    string
		quoted string
	}{
		{"short", 10, "short", "short"},
		{"exactly10!", 10, "exactly10!", "exactly10!"},
		{"eleven char", 10, "eleven cha", "eleven cha…"},
		{"ab€cd", 3, "ab", "ab…"}, // € is 3 bytes: not cut through
		{"€", 0, "", "…"},
	} {
		if got := CutAt(tc.s, tc.n); got != tc.cut {
			t.Errorf("CutAt(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.cut)
		}
		if got := Clip(tc.s, tc.n); got != tc.quoted {
			t.Errorf("Clip(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.quoted)
		}
	}
}
