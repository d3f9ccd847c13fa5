package snapshot

import (
	"errors"
	"fmt"
	"testing"

	"github.com/newsdesk/newsdesk"
)

// TestMemo: a snapshot makes a key's value once and keeps it, keeps no
// error, holds at most memoEntries, and its successor after a write
// starts with none (what a query matched may have changed).
func TestMemo(t *testing.T) {
	idx, src := open(t, 5)
	s1 := src.Acquire()
	defer s1.Release()
	made := 0
	get := func(s *Snapshot, key string) any {
		t.Helper()
		v, err := s.Memo(key, func() (any, error) { made++; return key + "!", nil })
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := get(s1, "a"); v != "a!" || made != 1 {
		t.Fatalf("first call: %v, made %d times", v, made)
	}
	if v := get(s1, "a"); v != "a!" || made != 1 {
		t.Errorf("second call: %v, made %d times; want it kept", v, made)
	}
	boom := errors.New("boom")
	if _, err := s1.Memo("b", func() (any, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("an error made: %v", err)
	}
	if v := get(s1, "b"); v != "b!" {
		t.Errorf("after an error: %v; want it made again", v)
	}
	for i := range 3 * memoEntries {
		get(s1, fmt.Sprint("k", i))
	}
	if n := len(s1.memo.m); n > memoEntries {
		t.Errorf("%d entries kept, want %d at most", n, memoEntries)
	}
	update(t, idx, src, []newsdesk.Event{event(9, 0)}, nil)
	s2 := src.Acquire()
	defer s2.Release()
	if s2 == s1 {
		t.Fatal("a write made no new snapshot")
	}
	made = 0
	if get(s2, "a"); made != 1 {
		t.Error("a new snapshot has its predecessor's values")
	}
}
