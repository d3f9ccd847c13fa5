package snapshot

import "sync"

// memo holds what requests computed of one snapshot, by key, for the
// next requests on it: a snapshot's events do not change, so neither
// does what a query matches in them. At most memoEntries are kept; past
// that, one is dropped for each added.
type memo struct {
	mu sync.Mutex
	m  map[string]any
}

// memoEntries bounds a snapshot's memo: the search box keeps a query's
// matches there (an event set, one bit an event: 14 KB on the corpus,
// 140 KB at ten times its size).
const memoEntries = 64

// Memo returns the value kept under key for this snapshot, made by make
// the first time (or again after it was dropped). An error is returned,
// not kept. Concurrent first calls may each make it; the one kept is
// whichever finished last.
func (s *Snapshot) Memo(key string, make func() (any, error)) (any, error) {
	s.memo.mu.Lock()
	v, ok := s.memo.m[key]
	s.memo.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := make()
	if err != nil {
		return nil, err
	}
	s.memo.mu.Lock()
	defer s.memo.mu.Unlock()
	if s.memo.m == nil {
		s.memo.m = map[string]any{}
	}
	if len(s.memo.m) >= memoEntries {
		for k := range s.memo.m {
			delete(s.memo.m, k)
			break
		}
	}
	s.memo.m[key] = v
	return v, nil
}
