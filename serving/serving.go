// Package serving keeps searchd's index current without downtime: it
// opens a working copy of the published generation (index.OpenWorking),
// applies the journaled updates it lacks, and serves a search engine over
// its snapshots (package snapshot); when the index directory's CURRENT
// pointer moves (a rebuild, a rollback), it opens and checks the new
// generation while the old one keeps answering, swaps the engine
// atomically, and closes the old generation once requests begun on it
// are done. A generation that fails its checks is not swapped in: the old
// one goes on serving and the failure is reported. Bulk updates (Update)
// are journaled, applied to the working copy and made visible before
// they are answered.
package serving

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/entities"
	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/mappings"
	"github.com/newsdesk/newsdesk/search"
	"github.com/newsdesk/newsdesk/snapshot"
)

// Config configures a Server.
type Config struct {
	// Dir is the index directory; required.
	Dir *index.Dir
	// Grace is how long an old generation stays open after a swap, for
	// requests that began on it; zero means 30 s (longer than a request's
	// deadline and the server's write timeout).
	Grace time.Duration
	// Logger receives swap reports. The zero value logs nothing.
	Logger zerolog.Logger
	// MinFree is the disk space, in bytes, that must stay free in Dir's
	// filesystem: updates that would leave less are refused, and Health
	// reports the shortfall. Zero means DefaultMinFree.
	MinFree uint64
	// OnIndexError, if not nil, is called with each error Bleve reports
	// from its background work on the served index (see Health).
	OnIndexError func(generation string, err error)
	// OnSwap, if not nil, is called after each attempt to load a
	// generation, with its name and nil or the reason it was refused.
	OnSwap func(generation string, err error)
	// Log, if not nil, replaces the directory's journal: the updates of
	// each generation come from it (a replica's update stream), and
	// Update appends to it (see Log).
	Log Log
	// ApplyWait bounds how long Update waits, with a Log, for the updates
	// it appended to be applied here; zero means 2 s.
	ApplyWait time.Duration
}

// Server holds the served generation. It is safe for concurrent use.
type Server struct {
	cfg     Config
	current atomic.Pointer[served]
	mu      sync.Mutex // serialises loads
	failed  atomic.Pointer[refusal]
	closed  atomic.Bool
	closing chan struct{}       // closed by Close: old generations close at once
	wg      sync.WaitGroup      // old generations waiting to close
	retired map[string]*retired // guarded by mu: old generations in their grace period
	// write writes updates to a working copy: write, except in tests
	// that make it fail.
	write func(*index.Index, *mappings.Docs, []index.Update) error
	// moved is closed, and replaced, when a generation is swapped in and
	// when Apply moves the served position (see waitApplied).
	movedMu sync.Mutex
	moved   chan struct{}
}

// retired is a generation swapped out and not closed yet. A rollback to it
// takes it back rather than opening it again (its files are locked by
// this very process until it is closed).
type retired struct {
	served *served
	keep   chan struct{} // closed to keep it open
}

// refusal is a generation that failed its checks ("" when CURRENT could
// not be read), and the state of its files then (stamp).
type refusal struct {
	generation, reason string
	stamp              string
}

// stamp describes the files of the generation name (of CURRENT for ""):
// their paths, sizes and times. Watch tries a refused generation again
// once its stamp changes, in case its cause was fixed in place (a copy
// that was not finished, a file restored): it waited for another
// generation, or to be asked, and /readyz said 503 meanwhile. A
// generation refused for good (another mapping) is not opened again and
// again: each try holds the server's lock for an open, which bulk
// updates wait for.
func (s *Server) stamp(name string) string {
	root := s.cfg.Dir.GenerationPath(name)
	if name == "" {
		root = filepath.Join(s.cfg.Dir.Path(), "CURRENT")
	}
	var b strings.Builder
	_ = filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n", path, err)
			return nil
		}
		if info, err := e.Info(); err == nil {
			fmt.Fprintf(&b, "%s %d %d\n", path, info.Size(), info.ModTime().UnixNano())
		}
		return nil
	})
	return b.String()
}

// served is one open generation: its working copy, the snapshots of it
// and the engine over them.
type served struct {
	idx    *index.Index
	docs   *mappings.Docs // how updates become documents
	src    *snapshot.Source
	engine *search.Engine
	// applied is how much of the journal idx holds, in bytes, or with a
	// Log its position; written with Server.mu held.
	applied atomic.Int64
	// epoch is the journal's epoch (index.Dir.JournalEpoch) applied is an
	// offset of; written with Server.mu held.
	epoch int64
	// shown is the position searches read: applied, once its updates are
	// refreshed into src (show). Position and Info report it, and answers
	// are tagged with it (ETag), so it never runs ahead of what a search
	// reads; written with Server.mu held, read atomically.
	shown atomic.Int64
	// shownAt is shown with the epoch it is an offset of, stored at once:
	// Position tags answers with both, since an offset recurs, with other
	// updates, once the journal is cleared (a -drop-updates build, then a
	// rollback to the generation: the same name and update_seq, other
	// events, and a stale 304).
	shownAt atomic.Pointer[mark]
	// openedEpoch is the journal's epoch when the copy was opened: the
	// copy holds updates of that journal (see Load's rollback). Set at
	// open, before the copy is served.
	openedEpoch int64
	// written counts the updates written to the copy as it opened (the
	// journal's or the Log's beyond what the generation's build holds),
	// which make its position this process's (see Position).
	written int
}

// show refreshes sv's snapshot with what its working copy holds, then
// moves the position searches read to applied.
// hold keeps sv's snapshot as it is, but for show, until release is
// called: the updates of one request, written to the working copy in
// batches, appear together when shown.
func (sv *served) hold() (release func()) {
	if sv.src == nil {
		return func() {}
	}
	return sv.src.Hold()
}

func (sv *served) show(ctx context.Context) error {
	pos := sv.applied.Load()
	// Not the request's context: a client that hangs up must not leave
	// updates applied but invisible.
	if err := sv.src.Refresh(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	sv.setShown(pos, true)
	sv.engine.CatchUp()
	return nil
}

// mark is a position shown: the journal's epoch and the offset into it
// (or, with a Log, epoch 0 and the stream's position), and whether this
// process wrote updates of its own into the copy up to it.
type mark struct {
	epoch, seq int64
	wrote      bool
}

// setShown moves the position searches read to pos (of sv's epoch);
// wrote says updates were written to the copy for it. A position moved
// by messages that change nothing (a stream message skipped) is still
// the generation's own if the one before was.
func (sv *served) setShown(pos int64, wrote bool) {
	if prev := sv.shownAt.Load(); prev != nil && prev.wrote {
		wrote = true
	}
	sv.shownAt.Store(&mark{sv.epoch, pos, wrote})
	sv.shown.Store(pos)
}

// close closes what open opened.
func (sv *served) close() error {
	err := sv.src.Close()
	if cerr := sv.idx.Close(); err == nil {
		err = cerr
	}
	return err
}

// DefaultMinFree is the default Config.MinFree: room for Bleve to write
// and merge update segments, and for the journal.
const DefaultMinFree = 64 << 20

// Health returns why the served index cannot take updates or keep them
// on disk right now, or nil: Bleve failing to write it in the background
// (see index.Index.Fault), or less free disk space than Config.MinFree.
// Searches are answered meanwhile. Errors about disk space wrap
// newsdesk.ErrNoSpace.
func (s *Server) Health() error {
	if cur := s.current.Load(); cur != nil {
		if err := cur.idx.Fault(); err != nil {
			return fmt.Errorf("generation %s: %w", cur.idx.Generation, err)
		}
	}
	return s.cfg.Dir.CheckSpace(s.cfg.MinFree)
}

// Errors of a Server.
var (
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("serving: closed")
	// errNoGeneration: an update before the index is open (searchd
	// listens while it builds or opens one). Unavailable, so the client is
	// told to retry (503), as indexer push does.
	errNoGeneration = fmt.Errorf("serving: update: no generation served yet: %w", newsdesk.ErrUnavailable)
)

// New returns a server that serves nothing yet; call Load.
func New(cfg Config) *Server {
	if cfg.Grace <= 0 {
		cfg.Grace = 30 * time.Second
	}
	if cfg.MinFree == 0 {
		cfg.MinFree = DefaultMinFree
	}
	if cfg.ApplyWait <= 0 {
		cfg.ApplyWait = 2 * time.Second
	}
	return &Server{cfg: cfg, closing: make(chan struct{}), retired: map[string]*retired{}, write: write, moved: make(chan struct{})}
}

// Engine returns the engine of the served generation, or nil when none
// is loaded yet.
func (s *Server) Engine() *search.Engine {
	if c := s.current.Load(); c != nil {
		return c.engine
	}
	return nil
}

// Generation returns the name of the served generation, or "".
func (s *Server) Generation() string {
	if c := s.current.Load(); c != nil {
		return c.idx.Generation
	}
	return ""
}

// Position returns the served generation's name (with the journal's
// epoch, once a -drop-updates build cleared it: offsets recur in the new
// journal) and how far the journal of updates is applied to it (Info's
// Applied), or "" and 0 while nothing is served: what the answers of the
// read endpoints depend on. It reads
// two atomics. A searcher taken after the call serves that position or a
// later one, since the position moves only once its updates are shown.
func (s *Server) Position() (string, int64) {
	c := s.current.Load()
	if c == nil {
		return "", 0
	}
	m := c.shownAt.Load()
	if m == nil {
		return c.idx.Generation, c.shown.Load()
	}
	gen := c.idx.Generation
	if m.epoch != 0 {
		gen += fmt.Sprintf(" epoch %d", m.epoch)
	}
	if m.wrote {
		// Updates this process applied: Bleve numbers a batch's events in
		// no set order, and equal scores are ordered by number, so another
		// process at this position (a restart, a replica) may order ties
		// apart; its answers must not confirm this one's (an ETag).
		gen += fmt.Sprintf(" process %d", processStart)
	}
	return gen, m.seq
}

// processStart identifies this process in Position.
var processStart = time.Now().UnixNano()

// Served reports the served generation for metrics: its name, events and
// Bleve's statistics; ok is false while nothing is served.
func (s *Server) Served() (string, uint64, map[string]interface{}, bool) {
	c := s.current.Load()
	if c == nil {
		return "", 0, nil, false
	}
	n, _ := c.idx.DocCount()
	return c.idx.Generation, n, c.idx.StatsMap(), true
}

// Applied returns Info's Applied, for metrics: how far the updates are
// applied to the served index; ok is false while nothing is served.
func (s *Server) Applied() (int64, bool) {
	c := s.current.Load()
	if c == nil {
		return 0, false
	}
	return c.shown.Load(), true
}

// Info describes what a Server serves, for GET /v1/info.
type Info struct {
	// Generation is the served generation's name; "" while none is.
	Generation string
	// Events is the number of events it holds, updates included.
	Events uint64
	// FirstDate and LastDate are its events' first and last dates
	// (YYYY-MM-DD); "" while nothing is served.
	FirstDate, LastDate string
	// DiskBytes is the size of the served working copy's files.
	DiskBytes int64
	// Applied is how far the index directory's journal of updates is
	// applied to the served index: its length in bytes up to the last
	// update applied. The journal only grows (until a build with
	// -drop-updates clears it), so two servers of one directory serving
	// one generation with the same Applied serve the same events, and the
	// one with the larger Applied has more updates. With a Log, it is the
	// Log's position, with the same meaning for servers of one Log.
	Applied int64
}

// Info returns what the server serves now. It reads the index's files'
// sizes, and takes no lock an update holds.
func (s *Server) Info() Info {
	c := s.current.Load()
	if c == nil {
		return Info{}
	}
	i := Info{Generation: c.idx.Generation, Applied: c.shown.Load()}
	i.Events, _ = c.idx.DocCount()
	if lo, hi := c.engine.DateRange(); !lo.IsZero() {
		i.FirstDate, i.LastDate = lo.Format(newsdesk.DateLayout), hi.Format(newsdesk.DateLayout)
	}
	i.DiskBytes, _ = c.idx.DiskBytes()
	return i
}

// Failed returns the reason the last generation published was refused,
// or "" when the served generation is the published one.
func (s *Server) Failed() string {
	if f := s.failed.Load(); f != nil {
		return f.reason
	}
	return ""
}

// Result tells what a Load did.
type Result struct {
	Generation string `json:"generation"` // served after the load
	Previous   string `json:"previous,omitempty"`
	Swapped    bool   `json:"swapped"`
	TookMS     int64  `json:"took_ms"`
}

// Load serves the generation CURRENT names, if it is not served already:
// it opens a working copy of it, loads an engine over it, checks that
// it answers, and swaps it in. On error the served generation is kept.
func (s *Server) Load(ctx context.Context) (Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return Result{}, ErrClosed
	}
	start := time.Now()
	old := s.current.Load()
	res := Result{}
	if old != nil {
		res.Generation, res.Previous = old.idx.Generation, old.idx.Generation
	}
	name, err := s.cfg.Dir.Current()
	if err != nil {
		return res, s.refuse("", err)
	}
	if old != nil && old.idx.Generation == name {
		s.failed.Store(nil)
		return res, nil
	}
	var next *served
	r, ok := s.retired[name] // back to a generation still open: a rollback
	if ok && s.cfg.Log == nil && r.served.openedEpoch != s.cfg.Dir.JournalEpoch() {
		// The journal was cleared since the copy was opened (a build with
		// -drop-updates): its working copy holds updates since dropped,
		// and its offset points into the journal cleared. A fresh copy of
		// the generation applies the journal since the clear. (Its own
		// epoch, not the one it applied last: an update between the
		// build's publication and the swap moves that one to the new
		// journal's, with the dropped updates still in the copy.)
		delete(s.retired, name)
		close(r.keep)
		s.retire(r.served, false)
		ok = false
	}
	if ok {
		delete(s.retired, name)
		close(r.keep)
		next = r.served
		if err := s.replay(ctx, next); err != nil {
			// Not served: it closes after the grace period, as retired.
			s.retire(next, false)
			return res, s.refuse(name, err)
		}
	} else if next, err = s.open(ctx, name); err != nil {
		return res, s.refuse(name, err)
	}
	s.current.Store(next)
	s.failed.Store(nil)
	s.positionMoved()
	res.Generation, res.Swapped, res.TookMS = name, true, time.Since(start).Milliseconds()
	docs, _ := next.idx.DocCount()
	s.cfg.Logger.Info().Str("generation", name).Str("previous", res.Previous).Uint64("events", docs).
		Int64("took_ms", res.TookMS).Msg("generation swapped in")
	if s.cfg.OnSwap != nil {
		s.cfg.OnSwap(name, nil)
	}
	if old != nil {
		s.retire(old, true)
	}
	return res, nil
}

// retire closes old once requests begun on it are done (after the grace
// period). With keep, a rollback may take it back meanwhile (Load). Call
// with s.mu held.
func (s *Server) retire(old *served, keep bool) {
	var r *retired
	var kept <-chan struct{}
	if keep {
		r = &retired{served: old, keep: make(chan struct{})}
		s.retired[old.idx.Generation] = r
		kept = r.keep
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case <-time.After(s.cfg.Grace):
		case <-s.closing:
		case <-kept:
			return // swapped back in
		}
		if r != nil {
			s.mu.Lock()
			mine := s.retired[old.idx.Generation] == r
			if mine {
				delete(s.retired, old.idx.Generation)
			}
			s.mu.Unlock()
			if !mine {
				return // swapped back in while the select chose another case
			}
		}
		if err := old.close(); err != nil {
			s.cfg.Logger.Warn().Err(err).Str("generation", old.idx.Generation).Msg("close old generation")
		}
	}()
}

func (s *Server) refuse(name string, err error) error {
	r := &refusal{generation: name, reason: fmt.Sprintf("generation %s refused: %v", name, err), stamp: s.stamp(name)}
	if name == "" {
		r.reason = fmt.Sprintf("CURRENT cannot be read: %v", err) // not "generation  refused"
	}
	s.failed.Store(r)
	msg := "generation refused; serving the previous one"
	if s.Generation() == "" {
		msg = "generation refused; there is no other to serve" // at a start: it said "the previous one" of none
	}
	if name == "" {
		// No generation was refused: CURRENT could not be read. Not
		// counted as a refused swap either.
		msg = "CURRENT cannot be read; serving the generation served before"
		if s.Generation() == "" {
			msg = "CURRENT cannot be read; there is no generation to serve"
		}
		s.cfg.Logger.Error().Err(err).Str("serving", s.Generation()).Msg(msg)
		return fmt.Errorf("serving: read CURRENT: %w", err)
	}
	s.cfg.Logger.Error().Err(err).Str("generation", name).Str("serving", s.Generation()).Msg(msg)
	if s.cfg.OnSwap != nil {
		s.cfg.OnSwap(name, err)
	}
	return fmt.Errorf("serving: load %s: %w", name, err)
}

// open opens a working copy of a generation, applies the journaled
// updates it lacks, loads an engine over it and checks that it answers.
func (s *Server) open(ctx context.Context, name string) (_ *served, err error) {
	m := mappings.New()
	ents, err := entities.New()
	if err != nil {
		return nil, err
	}
	docs, err := mappings.NewDocs(ents)
	if err != nil {
		return nil, err
	}
	idx, err := s.cfg.Dir.OpenWorking(name, m, func(err error) {
		s.cfg.Logger.Warn().Err(err).Str("generation", name).Msg("index background write failed; retrying")
		if s.cfg.OnIndexError != nil {
			s.cfg.OnIndexError(name, err)
		}
	}, mappings.Older()...)
	if err != nil {
		return nil, err
	}
	sv := &served{idx: idx, docs: docs}
	defer func() {
		if err != nil {
			if sv.src != nil {
				sv.src.Close()
			}
			idx.Close()
		}
	}()
	if s.cfg.Log != nil {
		from, err := s.cfg.Log.Holds(name)
		if err != nil {
			return nil, err
		}
		sv.applied.Store(from)
		if err := s.catchUp(ctx, sv); err != nil {
			return nil, err
		}
	} else {
		sv.epoch = s.cfg.Dir.JournalEpoch()
		from, replaced := s.cfg.Dir.JournalOffset(name)
		if replaced {
			s.cfg.Logger.Warn().Str("generation", name).Str("journal", s.cfg.Dir.Journal().Path()).
				Msg("the journal is not the one the generation was built with (cleared or moved aside since): applying all of it")
		}
		sv.applied.Store(from)
		sv.openedEpoch = sv.epoch
		n, _, err := s.replayInto(sv)
		if err != nil {
			return nil, fmt.Errorf("apply journaled updates: %w", err)
		}
		sv.written += n
	}
	if sv.src, err = snapshot.Open(ctx, idx, snapshot.Config{Logger: s.cfg.Logger, Warm: search.ListFields}); err != nil {
		return nil, err
	}
	sv.setShown(sv.applied.Load(), sv.written > 0)
	// A generation is swapped in with its long lists decoded, so that
	// the first requests on it are as fast as the later ones (0.1 s on
	// the corpus, 1.7 s at ten times its size).
	if err := sv.src.Warmed(ctx); err != nil {
		return nil, err
	}
	if sv.engine, err = search.New(sv.src, m, idx.Legacy); err != nil {
		return nil, err
	}
	// The check: it holds events, and a search over all of them answers.
	n, err := idx.DocCount()
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, errors.New("it holds no event")
	}
	lo, hi := sv.engine.Names().DateRange()
	res, err := sv.engine.Search(ctx, search.Request{From: lo, To: hi, Size: 1})
	if err != nil {
		return nil, fmt.Errorf("check search: %w", err)
	}
	if res.Total != n {
		return nil, fmt.Errorf("check search found %d of its %d events", res.Total, n)
	}
	// Served all the same: only words with İ or ẞ are lost until a
	// rebuild, which the operator is told to run.
	if g, err := index.GarbledTerms(idx.Index, newsdesk.FieldText); err == nil && g > 0 {
		s.cfg.Logger.Warn().Str("generation", name).Int("terms", g).
			Msg("generation built with Bleve's lower-case filter, which garbled its words with İ or ẞ: no query finds them; rebuild it (indexer build)")
	}
	return sv, nil
}

// Watch loads the published generation every interval, and whenever
// signal receives, until ctx ends. Errors are reported by Load.
func (s *Server) Watch(ctx context.Context, interval time.Duration, signal <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		asked := false
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-signal:
			asked = true
		}
		name, err := s.cfg.Dir.Current()
		if err != nil {
			name = "" // as Load refuses it
		}
		if err == nil && name == s.Generation() {
			if s.failed.Load() != nil {
				// Published again (indexer rollback after a refused
				// generation): Load clears the refusal, and /readyz its 503.
				_, _ = s.Load(ctx)
			}
			continue // nothing new
		}
		if f := s.failed.Load(); !asked && f != nil && f.generation == name && s.stamp(name) == f.stamp {
			continue // refused already: wait for another generation, to be asked, or for its files to change
		}
		_, _ = s.Load(ctx)
	}
}

// Close stops serving and closes every generation, waiting for those in
// their grace period.
func (s *Server) Close() error {
	s.mu.Lock()
	if !s.closed.Swap(true) {
		close(s.closing)
	}
	c := s.current.Swap(nil)
	s.mu.Unlock() // the closers of old generations take it
	var err error
	if c != nil {
		err = c.close()
	}
	s.wg.Wait()
	return err
}
