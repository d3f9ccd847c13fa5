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
		{"alike, same day", listed{same, 100}, listed{same, 100}, true, "a wire copy"},
		{"alike, within the window", listed{same, 100}, listed{same, 100 + duplicateDays}, true, "filed again days later"},
		{"alike, months apart", listed{same, 100}, listed{same, 200}, false, "a story's recurring event"},
		{"alike, a date unknown", listed{same, snapshot.NoDay}, listed{same, 200}, true, "a draft without a date"},
		{"unlike, same day", listed{same, 100}, listed{other, 100}, false, "another event"},
	} {
		if got := rk.duplicate(c.a, c.b); got != c.want {
			t.Errorf("%s: duplicate = %v, want %v (%s)", c.name, got, c.want, c.cause)
		}
	}
}
