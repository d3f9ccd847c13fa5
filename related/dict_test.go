package related

import (
	"slices"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/entities"
)

func TestDict_Find(t *testing.T) {
	ents, err := entities.New()
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"", "estonia relat russia", "syria", "2006", "civil syria war", "singl", "a b c d e f g h i", "myanmar", "peac process syria"}
	events := []uint8{0, 2, 1, 2, 2, 1, 2, 1, 2}
	d := makeDict(keys, events, ents)
	tests := []struct {
		text string // normalised words, space-separated
		want []string
	}{
		{"relat estonia russia sour", []string{"estonia relat russia"}},
		{"russia estonia relat", []string{"estonia relat russia"}},
		{"estonia russia diplomat relat", nil},                             // not in a row
		{"estonia estonia relat russia", []string{"estonia relat russia"}}, // a repeated word ends a window, the next starts clean
		{"syria civil war", []string{"syria", "civil syria war"}},          // a place names itself
		{"singl event", nil},                  // carried by one event: not a story yet
		{"2006 elect", nil},                   // years are never tags
		{"myanmar coup", []string{"myanmar"}}, // a place, whatever its events
		{"a b c d e f g h i", nil},            // longer than maxDictWords
		{"syria peac process syria", []string{"syria", "peac process syria"}},
		{"", nil},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			if got := d.find(strings.Fields(tc.text)); !slices.Equal(got, tc.want) {
				t.Errorf("find(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}
