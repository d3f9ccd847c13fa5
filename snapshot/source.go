package snapshot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	bindex "github.com/blevesearch/bleve_index_api"
	"github.com/rs/zerolog"

	"github.com/newsdesk/newsdesk"
)

// FollowInterval is how often a Source looks for snapshots the index made
// by itself (background merges and persistence), by default.
const FollowInterval = 200 * time.Millisecond

// Reader is what a Source follows: an index that hands out readers of its
// current state; *index.Index implements it.
type Reader interface {
	Reader() (bindex.IndexReader, error)
}

// Config configures a Source.
type Config struct {
	// Follow is how often the Source refreshes its snapshot by itself;
	// zero means FollowInterval, negative never (tests).
	Follow time.Duration
	// Logger receives refresh errors. The zero value logs nothing.
	Logger zerolog.Logger
	// Warm are the fields whose long posting lists (CacheMinDF postings
	// or more) are decoded in the background as soon as a segment is
	// loaded, rather than by the first request that reads each: at ten
	// times the corpus, those first reads were the slowest 1% of related
	// lists (40-50 ns a posting, a few milliseconds a long list).
	Warm []string
}

// Source hands out the current snapshot of one index. It is safe for
// concurrent use. It does not own the index: close the Source, then the
// index.
type Source struct {
	idx    Reader
	cfg    Config
	tables tables
	cur    atomic.Pointer[Snapshot]
	shut   atomic.Bool            // set by Close
	mu     sync.Mutex             // serialises refreshes; guards what follows
	cache  map[uint64]*segColumns // columns by segment id, of the current snapshot's segments
	epoch  uint64
	closed bool
	stop   chan struct{}
	done   chan struct{}
	// warming counts the background warms (Config.Warm) under way; warmed
	// is closed when the count falls to 0 (a new one each time it leaves
	// 0). Guarded by warmMu. Not a WaitGroup: Warmed may wait while a
	// refresh starts another warm.
	warmMu  sync.Mutex
	warming int
	warmed  chan struct{}
	// held counts the Holds in force: while above 0, follow leaves the
	// snapshot as it is.
	held atomic.Int32
}

// Hold stops the Source's own refreshes until the function it returns is
// called: a writer of several batches that make one change (a bulk
// update, written 2,000 updates at a time) shows them together, by its
// own Refresh, rather than a part every FollowInterval. Refresh itself
// is not held.
func (s *Source) Hold() (release func()) {
	// Under Refresh's lock: a refresh of follow's under way ends before
	// the holder writes, and one after sees the hold (followRefresh).
	s.mu.Lock()
	s.held.Add(1)
	s.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { s.held.Add(-1) }) }
}

// Errors of a Source.
var (
	// ErrClosed is returned by Refresh after Close.
	ErrClosed = errors.New("snapshot: source closed")
)

// Open loads the current snapshot of idx (the columns of all its
// segments) and returns a Source serving it, which then follows the
// index every cfg.Follow until Close.
func Open(ctx context.Context, idx Reader, cfg Config) (*Source, error) {
	if cfg.Follow == 0 {
		cfg.Follow = FollowInterval
	}
	s := &Source{idx: idx, cfg: cfg, tables: newTables(), cache: map[uint64]*segColumns{},
		stop: make(chan struct{}), done: make(chan struct{})}
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	if cfg.Follow > 0 {
		go s.follow()
	} else {
		close(s.done)
	}
	return s, nil
}

// follow refreshes the snapshot every cfg.Follow, so that segments the
// index merges or persists by itself are loaded here, not on a request.
func (s *Source) follow() {
	defer close(s.done)
	t := time.NewTicker(s.cfg.Follow)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if err := s.followRefresh(context.Background()); err != nil && !errors.Is(err, ErrClosed) {
				s.cfg.Logger.Warn().Err(err).Msg("refresh index snapshot")
			}
		}
	}
}

// followRefresh is follow's Refresh: none while a Hold is in force,
// checked under Refresh's lock, which Hold takes too (checked before it,
// a Hold taken between the check and the refresh let a refresh show the
// first batches of a bulk update alone).
func (s *Source) followRefresh(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held.Load() > 0 {
		return nil
	}
	return s.refresh(ctx)
}

// TryAcquire is Acquire for work that may outlive the Source (background
// refreshes of derived data): it returns nil once the Source is closed.
func (s *Source) TryAcquire() *Snapshot {
	for {
		snap := s.cur.Load()
		if snap.acquire() {
			return snap
		}
		if s.shut.Load() {
			return nil
		}
	}
}

// Acquire returns the current snapshot. Release it when done.
func (s *Source) Acquire() *Snapshot {
	for {
		snap := s.cur.Load()
		if snap.acquire() {
			return snap
		}
		if s.shut.Load() {
			panic("snapshot: Acquire after Close")
		}
		// Replaced and released between the load and the acquire: the
		// next load sees its successor.
	}
}

// Refresh makes the index's newest state the current snapshot: it loads
// the columns of segments it has not seen, and publishes the snapshot.
// When Refresh returns, every write the index had acknowledged before the
// call is visible to the next Acquire.
func (s *Source) Refresh(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refresh(ctx)
}

// refresh is Refresh, under s.mu.
func (s *Source) refresh(ctx context.Context) error {
	if s.closed {
		return ErrClosed
	}
	r, err := s.idx.Reader()
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	is, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		r.Close()
		return fmt.Errorf("snapshot: the index reader is %T, not a scorch snapshot", r)
	}
	if cur := s.cur.Load(); cur != nil && sameSegments(cur, is) {
		return is.Close()
	}
	next, cache, err := s.build(ctx, is, s.cache)
	if err != nil {
		is.Close()
		return err
	}
	s.cache = cache
	s.epoch++
	next.Epoch = s.epoch
	next.own = true
	next.refs.Store(1) // the Source's own reference
	if old := s.cur.Swap(next); old != nil {
		old.Release()
	}
	s.warm(next)
	return nil
}

// Warmed waits until the background warms of the segments loaded so far
// (Config.Warm) are done, or ctx ends.
func (s *Source) Warmed(ctx context.Context) error {
	s.warmMu.Lock()
	if s.warming == 0 {
		s.warmMu.Unlock()
		return nil
	}
	done := s.warmed
	s.warmMu.Unlock()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// warmStarted and warmEnded count a warm in and out.
func (s *Source) warmStarted() {
	s.warmMu.Lock()
	defer s.warmMu.Unlock()
	if s.warming == 0 {
		s.warmed = make(chan struct{})
	}
	s.warming++
}

func (s *Source) warmEnded() {
	s.warmMu.Lock()
	defer s.warmMu.Unlock()
	if s.warming--; s.warming == 0 {
		close(s.warmed)
	}
}

// warm decodes, in the background, the long lists of the Config.Warm
// fields in the segments of snap that no earlier warm took. Call with
// s.mu held.
func (s *Source) warm(snap *Snapshot) {
	if len(s.cfg.Warm) == 0 {
		return
	}
	var todo []int
	for i := range snap.segs {
		if snap.segs[i].cols.warmed.CompareAndSwap(false, true) {
			todo = append(todo, i)
		}
	}
	if len(todo) == 0 || !snap.acquire() {
		return
	}
	s.warmStarted()
	go func() {
		defer s.warmEnded()
		defer snap.Release() // keeps the segments open meanwhile
		start, postings := time.Now(), 0
		for _, i := range todo {
			sg := &snap.segs[i]
			n, err := sg.cols.lists.warm(sg.ss.Segment(), s.cfg.Warm, s.stop)
			postings += n
			if err != nil {
				s.cfg.Logger.Warn().Err(err).Msg("warm posting lists")
				return
			}
		}
		// The warm of a generation's segments is worth a line; those of the
		// small segments updates make are not.
		ev := s.cfg.Logger.Debug()
		if took := time.Since(start); took >= 100*time.Millisecond {
			ev = s.cfg.Logger.Info()
		}
		ev.Int("segments", len(todo)).Int("postings", postings).
			Int64("took_ms", time.Since(start).Milliseconds()).Msg("posting lists warmed")
	}()
}

// build makes the snapshot of reader is, with the columns of its segments
// from cache or loaded, and returns it with the cache of its segments.
func (s *Source) build(ctx context.Context, is *scorch.IndexSnapshot, cache map[uint64]*segColumns) (*Snapshot, map[uint64]*segColumns, error) {
	segs := is.Segments()
	next := &Snapshot{r: is, src: s, segs: make([]seg, 0, len(segs))}
	dead := map[*roaring.Bitmap][]uint64{} // the current snapshot's, reused while a segment's deletions stay the same
	if cur := s.cur.Load(); cur != nil {
		for _, sg := range cur.segs {
			if sg.deleted != nil {
				dead[sg.deleted] = sg.dead
			}
		}
	}
	kept := make(map[uint64]*segColumns, len(segs))
	for _, ss := range segs {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		c := cache[ss.Id()]
		if c == nil {
			var err error
			if c, err = loadColumns(ss, s.tables); err != nil {
				return nil, nil, fmt.Errorf("snapshot: %w", err)
			}
		}
		kept[ss.Id()] = c
		n := ss.Segment().Count()
		sg := seg{start: next.size, end: next.size + n, cols: c, deleted: ss.Deleted(), ss: ss}
		if sg.deleted != nil {
			var ok bool
			if sg.dead, ok = dead[sg.deleted]; !ok {
				sg.dead = deadBits(sg.deleted, n)
			}
		}
		next.segs = append(next.segs, sg)
		next.size += n
		next.docs += ss.Count()
	}
	if len(next.segs) > 0 {
		next.first = next.segs[0]
	}
	next.Categories = s.tables.category.values()
	next.Topics = s.tables.topic.values()
	next.Contexts = s.tables.context.values()
	next.Keys = s.tables.key.values()
	if b, err := is.GetInternal([]byte(newsdesk.InternalFieldLengths)); err == nil && len(b) > 0 {
		_ = json.Unmarshal(b, &next.Lengths) // a generation without them ranks as it did
	}
	return next, kept, nil
}

// sameSegments reports whether is holds exactly the segments of cur, in
// the same state (no document deleted since).
func sameSegments(cur *Snapshot, is *scorch.IndexSnapshot) bool {
	segs := is.Segments()
	if len(segs) != len(cur.r.Segments()) {
		return false
	}
	for i, ss := range cur.r.Segments() {
		if segs[i] != ss {
			return false
		}
	}
	return true
}

// snapCtxKey carries the snapshot a search runs on, for the queries of
// this package that read columns.
type snapCtxKey struct{}

// WithSnapshot returns a context that tells this package's queries which
// snapshot the reader Bleve hands them belongs to.
func WithSnapshot(ctx context.Context, s *Snapshot) context.Context {
	return context.WithValue(ctx, snapCtxKey{}, s)
}

// snapshotOf returns, acquired, the snapshot whose reader is r: the one
// the search runs on, or the current one, or else one built for r
// (loading the columns of segments not in the cache).
func (s *Source) snapshotOf(ctx context.Context, r bindex.IndexReader) (*Snapshot, error) {
	if snap, ok := ctx.Value(snapCtxKey{}).(*Snapshot); ok && snap.src == s && bindex.IndexReader(snap.r) == r && snap.acquire() {
		return snap, nil
	}
	if cur := s.Acquire(); bindex.IndexReader(cur.r) == r {
		return cur, nil
	} else {
		cur.Release()
	}
	is, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return nil, fmt.Errorf("snapshot: the index reader is %T, not a scorch snapshot", r)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	snap, _, err := s.build(ctx, is, s.cache)
	if err != nil {
		return nil, err
	}
	snap.refs.Store(1)
	return snap, nil
}

// Close stops following the index and releases the Source's reference to
// its snapshot; snapshots still acquired stay readable until released.
// It does not close the index.
func (s *Source) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.shut.Store(true)
	close(s.stop)
	s.mu.Unlock()
	<-s.done
	_ = s.Warmed(context.Background()) // no warm starts after close
	if cur := s.cur.Load(); cur != nil {
		cur.Release()
	}
	return nil
}
