package replica

import (
	"testing"
	"time"
)

func TestLag(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	type known struct {
		seq uint64
		ms  int
	}
	tests := []struct {
		name     string
		known    []known
		applied  uint64
		now      int
		wantLast uint64
		wantLag  time.Duration
	}{
		{"nothing known", nil, 0, 500, 0, 0},
		{"caught up", []known{{5, 0}}, 5, 500, 5, 0},
		{"ahead of what is known (swapped in a newer generation)", []known{{5, 0}}, 7, 500, 5, 0},
		{"one message behind since it was learnt", []known{{5, 0}, {6, 200}}, 5, 700, 6, 500 * time.Millisecond},
		{"behind since the oldest unapplied", []known{{5, 0}, {6, 200}, {9, 900}}, 5, 1000, 9, 800 * time.Millisecond},
		{"the applied part forgotten", []known{{5, 0}, {6, 200}, {9, 900}}, 6, 1000, 9, 100 * time.Millisecond},
		{"notes close together merge, the older time kept", []known{{5, 0}, {6, 200}, {7, 250}}, 6, 300, 7, 100 * time.Millisecond},
		{"an older seq learnt late changes nothing", []known{{9, 0}, {4, 500}}, 4, 600, 9, 600 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var l lag
			for _, k := range tc.known {
				l.known(k.seq, at(k.ms))
			}
			last, d := l.behind(tc.applied, at(tc.now))
			if last != tc.wantLast || d != tc.wantLag {
				t.Errorf("behind(%d) = %d, %v; want %d, %v", tc.applied, last, d, tc.wantLast, tc.wantLag)
			}
		})
	}
}
