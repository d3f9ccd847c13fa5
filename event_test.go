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
		{"bad date format", func(e *Event) { e.Date = "23/01/2017" }, "not YYYY-MM-DD"},
		{"impossible date", func(e *Event) { e.Date = "2017-02-30" }, "not YYYY-MM-DD"},
		{"invalid UTF-8 in context", func(e *Event) { e.Context = []string{"ok", "bad\xff"} }, "context[1] is not valid UTF-8"},
		{"invalid UTF-8 in source", func(e *Event) { e.Sources = []Source{{Name: "\xfe"}} }, "sources[0].name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := good
			tc.mutate(&e)
			err := e.Validate()
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
