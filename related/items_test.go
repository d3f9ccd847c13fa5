package related

import (
	"testing"

	"github.com/newsdesk/newsdesk/snapshot"
)

func TestDuplicate_Window(t *testing.T) {
	rk := &run{w: DefaultWeights}
	words := func(ws ...string) map[string]bool {
		m := map[string]bool{}
		for _, w := range ws {
			m[w] = true
		}
		return m
	}
	same := words("greec", "report", "record", "new", "case")
	other := words("croatia", "report", "flood")
	for _, c := range []struct {
		name  string
		a, b  listed
		want  bool
		cause string
	}{
		{"alike, same day", listed{words: same, day: 100}, listed{words: same, day: 100}, true, "a wire copy"},
		{"alike, within the window", listed{words: same, day: 100}, listed{words: same, day: 100 + duplicateDays}, true, "filed again days later"},
		{"alike, months apart", listed{words: same, day: 100}, listed{words: same, day: 200}, false, "a story's recurring event"},
		{"alike, a date unknown", listed{words: same, day: snapshot.NoDay}, listed{words: same, day: 200}, true, "a draft without a date"},
		{"unlike, same day", listed{words: same, day: 100}, listed{words: other, day: 100}, false, "another event"},
		{"two stubs of the same words, years apart", listed{words: other, day: 100, stub: true}, listed{words: other, day: 2000, stub: true}, true, "a story's heading filed alone"},
		{"a stub and an event of its words, years apart", listed{words: other, day: 100, stub: true}, listed{words: other, day: 2000}, false, "the story's event"},
		{"two stubs of other words", listed{words: same, day: 100, stub: true}, listed{words: other, day: 2000, stub: true}, false, "two stories"},
	} {
		if got := rk.duplicate(c.a, c.b); got != c.want {
			t.Errorf("%s: duplicate = %v, want %v (%s)", c.name, got, c.want, c.cause)
		}
	}
}

// TestSpan: how far apart a reason says two events are, in days, then
// calendar months, then years.
func TestSpan(t *testing.T) {
	for days, want := range map[int]string{0: "0 days", 59: "59 days", 60: "2 months", 401: "13 months", 406: "13 months",
		715: "23 months", 729: "2 years", 730: "2 years", 1100: "3 years"} {
		if got := span(days); got != want {
			t.Errorf("span(%d) = %q, want %q", days, got, want)
		}
	}
}
