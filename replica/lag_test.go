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

// TestLag_NoticePastTheStream: a notice of a message the stream does not
// hold (its state, read a tick later, ends before it) counts no longer:
// every replica was unready until real messages caught up with it. The
// messages it stood for that the stream holds count from its time.
func TestLag_NoticePastTheStream(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var l lag
	l.known(71, t0)
	l.known(73, t0.Add(500*time.Millisecond)) // no such message
	l.holds(71, t0.Add(600*time.Millisecond)) // too soon to tell: kept
	if last, _ := l.behind(71, t0.Add(700*time.Millisecond)); last != 73 {
		t.Fatalf("last %d a tenth of a second after the notice, want 73 still", last)
	}
	l.holds(71, t0.Add(1600*time.Millisecond))
	if last, d := l.behind(71, t0.Add(20*time.Second)); last != 71 || d != 0 {
		t.Errorf("behind = %d, %v twenty seconds on; want 71, 0: the stream holds no 73", last, d)
	}
	// Behind a real message, from the notice's time.
	var m lag
	m.known(80, t0)
	m.holds(75, t0.Add(2*time.Second)) // 76-80 lost in a crash; 75 is there
	if last, d := m.behind(70, t0.Add(3*time.Second)); last != 75 || d != 3*time.Second {
		t.Errorf("behind = %d, %v; want 75, 3s", last, d)
	}
}
