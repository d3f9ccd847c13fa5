package replica

import (
	"sync"
	"time"
)

// lag tracks how long the replica has known of stream messages it has not
// applied. Each time it learns that the stream reaches further (a message
// delivered and the count behind it, the stream's state, its own appends)
// it notes the sequence number and the time; the lag is the age of the
// oldest note past the applied message. Only this machine's clock is read,
// so clocks of other machines do not matter. Notes less than coalesce apart
// are merged, which keeps their number small under a steady flow of
// updates, and overstates the lag by less than that.
type lag struct {
	mu    sync.Mutex
	last  uint64
	notes []note
}

type note struct {
	seq uint64
	at  time.Time
}

const coalesce = 100 * time.Millisecond

// known notes that the stream holds message seq.
func (l *lag) known(seq uint64, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if seq <= l.last {
		return
	}
	l.last = seq
	if n := len(l.notes); n > 0 && now.Sub(l.notes[n-1].at) < coalesce {
		l.notes[n-1].seq = seq
		return
	}
	l.notes = append(l.notes, note{seq: seq, at: now})
}

// holds notes the stream's state, read at now: its last message is last.
// A note past it at least a tick old named messages the stream does not
// hold (a notice of another deployment on the account, a tail a NATS
// crash lost): it is cut to last, keeping its time, so that the messages
// up to last it stood for still count from then. Such a notice made
// every replica unready until real messages caught up with it.
func (l *lag) holds(last uint64, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.notes {
		if l.notes[i].seq > last && now.Sub(l.notes[i].at) >= tick {
			l.notes[i].seq = last
		}
	}
	if l.last > last && (len(l.notes) == 0 || l.notes[len(l.notes)-1].seq <= last) {
		l.last = last
	}
}

// behind returns the stream's last message as known, and how long the
// oldest message past applied has been known.
func (l *lag) behind(applied uint64, now time.Time) (uint64, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := 0
	for i < len(l.notes) && l.notes[i].seq <= applied {
		i++
	}
	l.notes = l.notes[i:]
	if len(l.notes) == 0 {
		return l.last, 0
	}
	return l.last, now.Sub(l.notes[0].at)
}
