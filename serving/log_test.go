package serving

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/index"
)

// memLog is a Log in memory: Append adds an entry and nothing more, as a
// stream does; the test applies entries as a replica's follower would.
type memLog struct {
	mu      sync.Mutex
	entries []Entry
}

func (l *memLog) Holds(string) (int64, error) { return 0, nil }

func (l *memLog) CatchUp(_ context.Context, from int64, write func([]index.Update) error) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.entries {
		if e.Pos > from {
			if err := write(e.Updates); err != nil {
				return from, err
			}
			from = e.Pos
		}
	}
	return from, nil
}

func (l *memLog) Append(_ context.Context, updates []index.Update) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := Entry{Pos: int64(len(l.entries) + 1), Updates: updates}
	l.entries = append(l.entries, e)
	return e.Pos, nil
}

func (l *memLog) since(pos int64) []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Entry(nil), l.entries[pos:]...)
}

func logUpsert(id, text string) index.Update {
	return index.Update{Upsert: &newsdesk.Event{ID: id, Date: id[:10], Text: text}}
}

func text(t *testing.T, srv *Server, id string) string {
	t.Helper()
	e, err := srv.Engine().Event(context.Background(), id)
	if errors.Is(err, newsdesk.ErrNotFound) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return e.Text
}

// TestLog follows a Server with a Log through what a replica does: a
// generation is loaded caught up with the log; Update appends and waits
// until the entry is applied, or answers ErrJournaled past ApplyWait;
// Apply leaves out the entries the generation holds already; a new
// generation is caught up before it is swapped in.
func TestLog(t *testing.T) {
	ctx := context.Background()
	d, _ := index.NewDir(t.TempDir())
	publish(t, d, "first", false)
	log := &memLog{}
	log.Append(ctx, []index.Update{logUpsert("2021-01-01/one", "One.")})
	log.Append(ctx, []index.Update{logUpsert("2021-01-01/one", "One, replaced."), logUpsert("2021-01-02/two", "Two.")})
	srv := New(Config{Dir: d, Grace: 10 * time.Millisecond, Log: log, ApplyWait: 100 * time.Millisecond})
	t.Cleanup(func() { srv.Close() })
	if _, err := srv.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if i := srv.Info(); i.Applied != 2 || i.Events != 202 {
		t.Fatalf("loaded %+v, want applied 2, 202 events", i)
	}
	if got := text(t, srv, "2021-01-01/one"); got != "One, replaced." {
		t.Errorf("one = %q after the catch-up, want the last upsert", got)
	}

	// Update answers once the follower applied its entry.
	type answer struct {
		results []string
		err     error
	}
	done := make(chan answer, 1)
	go func() {
		r, err := srv.Update(ctx, []index.Update{logUpsert("2021-01-03/three", "Three."), {Delete: "2021-01-02/two"}})
		done <- answer{r, err}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for len(log.since(2)) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	select {
	case a := <-done:
		t.Fatalf("Update answered %v, %v before its entry was applied", a.results, a.err)
	default:
	}
	if err := srv.Apply(ctx, log.since(2), 3); err != nil {
		t.Fatal(err)
	}
	a := <-done
	if a.err != nil || len(a.results) != 2 || a.results[0] != Created || a.results[1] != Deleted {
		t.Fatalf("Update = %v, %v", a.results, a.err)
	}
	if text(t, srv, "2021-01-03/three") != "Three." || text(t, srv, "2021-01-02/two") != "" {
		t.Error("the applied entry is not what is served")
	}

	// Nobody applies: ErrJournaled after ApplyWait, the entry in the log.
	if _, err := srv.Update(ctx, []index.Update{logUpsert("2021-01-04/four", "Four.")}); !errors.Is(err, ErrJournaled) {
		t.Fatalf("Update with no follower: %v, want ErrJournaled", err)
	}
	if err := srv.Apply(ctx, log.since(3), 4); err != nil {
		t.Fatal(err)
	}

	// Entries the server holds are left out: an old one applied again
	// would bring "One." back.
	if err := srv.Apply(ctx, []Entry{{Pos: 1, Updates: []index.Update{logUpsert("2021-01-01/one", "One.")}}}, 1); err != nil {
		t.Fatal(err)
	}
	if got := text(t, srv, "2021-01-01/one"); got != "One, replaced." || srv.Info().Applied != 4 {
		t.Errorf("after an old entry: one = %q, applied %d", got, srv.Info().Applied)
	}

	// A new generation is caught up with the whole log before the swap.
	second := publish(t, d, "second", false)
	if _, err := srv.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if i := srv.Info(); i.Generation != second || i.Applied != 4 || i.Events != 203 {
		t.Errorf("after the swap %+v, want %s, applied 4, 203 events", i, second)
	}
	if text(t, srv, "2021-01-04/four") != "Four." {
		t.Error("the new generation lacks the last entry")
	}
}
