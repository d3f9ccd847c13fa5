package index

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/blevesearch/bleve/v2/index/scorch"

	"github.com/newsdesk/newsdesk"
)

// Bleve reports the errors of a scorch index's background work (the
// persister that writes new segments to disk, the merger) only to a
// callback it looks up by name, at open, in a process-wide registry, and
// retries at once: on a full disk its persister failed about 11,000
// times a second, on one core. The callbacks registered here route each
// report to the working copy it concerns, which records it (Fault) and
// makes the failing goroutine wait before its retry, longer each time, up
// to maxBackoff; a round of progress clears the fault.
//
// The registries are package-level because Bleve's are: they are written
// once, before the first working copy opens.
const callbackName = "newsdesk-working-copy"

const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 5 * time.Second
)

var (
	registerOnce sync.Once
	faultsByPath sync.Map // scorch path → *faults
	faultsByIdx  sync.Map // *scorch.Scorch → *faults
)

func registerCallbacks() {
	registerOnce.Do(func() {
		scorch.RegistryAsyncErrorCallbacks[callbackName] = func(err error, path string) {
			if f, ok := faultsByPath.Load(path); ok {
				f.(*faults).failed(err)
			}
		}
		scorch.RegistryEventCallbacks[callbackName] = func(e scorch.Event) bool {
			f, ok := faultsByIdx.Load(e.Scorch)
			if !ok {
				return true
			}
			switch e.Kind {
			case scorch.EventKindPersisterProgress:
				f.(*faults).progressed(persisterSource)
			case scorch.EventKindMergerProgress:
				f.(*faults).progressed(mergerSource)
			case scorch.EventKindCloseStart:
				f.(*faults).close()
			}
			return true
		}
	})
}

// Sources of background errors, as scorch names them.
const (
	persisterSource = "persister"
	mergerSource    = "merger"
)

// faults tracks the background errors of one working copy.
type faults struct {
	mu      sync.Mutex
	last    map[string]error // by source; guarded by mu
	backoff time.Duration    // guarded by mu
	count   atomic.Uint64
	onError func(error)
	closing chan struct{}
	once    sync.Once
}

func newFaults(onError func(error)) *faults {
	return &faults{last: map[string]error{}, onError: onError, closing: make(chan struct{})}
}

// failed records err and waits before Bleve's retry.
func (f *faults) failed(err error) {
	f.count.Add(1)
	source := "background"
	var se *scorch.ScorchError
	if errors.As(err, &se) {
		source = se.Source
	}
	f.mu.Lock()
	f.last[source] = err
	f.backoff = min(max(2*f.backoff, minBackoff), maxBackoff)
	wait := f.backoff
	f.mu.Unlock()
	if f.onError != nil {
		f.onError(err)
	}
	select {
	case <-time.After(wait):
	case <-f.closing:
	}
}

// progressed clears the fault of source after a round of its work.
func (f *faults) progressed(source string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.last[source] != nil {
		delete(f.last, source)
		f.backoff = 0
	}
}

func (f *faults) close() { f.once.Do(func() { close(f.closing) }) }

// err returns the latest uncleared failure, or nil.
func (f *faults) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, source := range []string{persisterSource, mergerSource, "introducer", "background"} {
		if err := f.last[source]; err != nil {
			if errors.Is(err, syscall.ENOSPC) || isNoSpace(err) {
				return fmt.Errorf("%w: Bleve's %s cannot write: %v", newsdesk.ErrNoSpace, source, err)
			}
			return fmt.Errorf("Bleve's %s fails: %w", source, err)
		}
	}
	return nil
}

// Fault returns the error of the working copy's latest failed background
// write (Bleve's persister or merger) while it has not succeeded since,
// or nil. Searches and updates go on meanwhile, from memory: an update is
// durable once journaled. A full disk gives an error wrapping
// newsdesk.ErrNoSpace.
func (x *Index) Fault() error {
	if x.faults == nil {
		return nil
	}
	return x.faults.err()
}

// BackgroundErrors returns how many background errors Bleve reported for
// the working copy.
func (x *Index) BackgroundErrors() uint64 {
	if x.faults == nil {
		return 0
	}
	return x.faults.count.Load()
}
