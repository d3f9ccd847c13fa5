package index

import (
	"fmt"
	"testing"
)

// TestNextRun checks the background merger's choice of segments: runs of
// MergeFanIn ready workers' segments once the build has had more than
// MaxFinalFanIn, and merged ones again only while there are more than
// that.
func TestNextRun(t *testing.T) {
	// parts makes n parts of a level, ready or not.
	parts := func(groups ...[3]int) []*part {
		var out []*part
		for _, g := range groups {
			for range g[0] {
				out = append(out, &part{first: uint32(len(out)), level: g[1], ready: g[2] == 1})
			}
		}
		return out
	}
	tests := []struct {
		name  string
		parts []*part
		big   bool
		first int // index of the run's first part; -1: no run
		level int
	}{
		{"few parts: all merged at the end", parts([3]int{MaxFinalFanIn, 0, 1}), false, -1, 0},
		{"many parts: the first run", parts([3]int{MaxFinalFanIn + 1, 0, 1}), false, 0, 0},
		{"once big, workers' parts go on being merged", parts([3]int{1, 1, 1}, [3]int{MergeFanIn, 0, 1}), true, 1, 0},
		{"a run being merged is skipped", parts([3]int{MergeFanIn, 0, 0}, [3]int{MergeFanIn, 0, 1}), true, MergeFanIn, 0},
		{"a run not ready is not merged", parts([3]int{MergeFanIn - 1, 0, 1}, [3]int{1, 0, 0}), true, -1, 0},
		{"mixed levels are not a run", parts([3]int{MergeFanIn - 1, 0, 1}, [3]int{1, 1, 1}, [3]int{MergeFanIn - 1, 0, 1}), true, -1, 0},
		{"merged parts, few: left for the end", parts([3]int{MaxFinalFanIn, 1, 1}), true, -1, 0},
		{"merged parts, many: merged again", parts([3]int{MaxFinalFanIn + 1, 1, 1}), true, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			big := tt.big
			run := nextRun(tt.parts, &big)
			if got := len(tt.parts) > MaxFinalFanIn || tt.big; big != got {
				t.Errorf("big = %v, want %v", big, got)
			}
			if tt.first < 0 {
				if run != nil {
					t.Fatalf("run of %d from part %d, want none", len(run), run[0].first)
				}
				return
			}
			if len(run) != MergeFanIn {
				t.Fatalf("run of %d parts, want %d", len(run), MergeFanIn)
			}
			for i, p := range run {
				if want := uint32(tt.first + i); p.first != want || p.level != tt.level || p.ready {
					t.Errorf("run[%d] = %s, want part %d of level %d, marked not ready", i, describe(p), want, tt.level)
				}
			}
		})
	}
}

func describe(p *part) string {
	return fmt.Sprintf("part %d of level %d (ready %v)", p.first, p.level, p.ready)
}
