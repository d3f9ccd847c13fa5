package related

import "testing"

func TestAdoptCategory(t *testing.T) {
	rk := &run{w: DefaultWeights}
	for _, c := range []struct {
		name  string
		cat   uint32 // the source's
		v     votes
		want  uint32
		cause string
	}{
		{"a draft, neighbours agree", 0, votes{category: 7, categoryShare: 0.6}, 7, "the most of their weight"},
		{"a draft, at the threshold", 0, votes{category: 7, categoryShare: minCategoryVote}, 7, "at least minCategoryVote"},
		{"a draft, neighbours split", 0, votes{category: 7, categoryShare: minCategoryVote / 2}, 0, "no category is theirs"},
		{"an event's own category", 3, votes{category: 7, categoryShare: 1}, 3, "an event keeps its own"},
		{"no neighbour has one", 0, votes{}, 0, "nothing to adopt"},
	} {
		src := &source{cat: c.cat}
		rk.adoptCategory(src, c.v)
		if src.cat != c.want {
			t.Errorf("%s: category %d, want %d (%s)", c.name, src.cat, c.want, c.cause)
		}
	}
}
