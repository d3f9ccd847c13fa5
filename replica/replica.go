// Package replica runs searchd as one of many replicas that follow one
// builder through NATS JetStream (package cluster): it watches the pointer
// to the current generation, downloads each new generation into its local
// cache (an index directory), swaps it in with serving's zero-downtime
// rules, and applies the update stream on top of it, in order, from the
// message the generation records. Bulk updates sent to a replica go to the
// stream, and are answered once this replica applied them
// (serving.Server.Update with a Log). It tracks how far behind the stream
// it is, for /readyz, /v1/info and the metrics.
package replica

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/cluster"
	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/serving"
)

// DefaultMaxLag is the default Config.MaxLag.
const DefaultMaxLag = 10 * time.Second

// Config configures a Replica.
type Config struct {
	// NATS says how to reach the shared state; NATS.URL is required.
	NATS cluster.Config
	// Serving configures the server; Serving.Dir, the local cache of
	// generations, is required. Its Log is the replica.
	Serving serving.Config
	// MaxLag is how long the replica may know of stream messages it has
	// not applied before it says it is not ready; zero means
	// DefaultMaxLag.
	MaxLag time.Duration
	// AppendTimeout bounds the publication of a bulk request's updates;
	// zero means 4 s.
	AppendTimeout time.Duration
	// Logger receives the replica's reports. The zero value logs nothing.
	Logger zerolog.Logger
	// OnInvalid, if not nil, is called for each stream message skipped as
	// not a valid update.
	OnInvalid func()
	// OnDownload, if not nil, is called after each download of a
	// generation, with nil or the reason it was refused.
	OnDownload func(generation string, err error)
}

// Replica follows the shared state and serves it. It is safe for
// concurrent use.
type Replica struct {
	cfg  Config
	srv  *serving.Server
	conn atomic.Pointer[cluster.Conn] // set once connected
	lag  lag

	mu        sync.Mutex
	phase     string          // what the replica is doing while it serves nothing
	published cluster.Pointer // the pointer, as last seen
	refused   *refusal        // the last generation whose download failed
	invalid   atomic.Uint64
	// skippedThrough is the highest position of a message skipped as
	// invalid: each is counted once (skip).
	skippedThrough atomic.Uint64

	// live is the update stream's ID as last read (cluster.StreamState).
	live atomic.Pointer[string]
	// streamOf is the stream ID of each generation loaded that records
	// none (built before generations did): the stream as it was when the
	// generation was first loaded. held is the stream the position the
	// last Holds returned is of ("" when unknown); servedStream the one
	// the served copy's position is of. With mu held.
	streamOf     map[string]string
	held         string
	servedStream string
}

type refusal struct {
	generation, reason string
	at                 time.Time
}

// New returns a replica serving from cfg.Serving.Dir; Run starts it.
func New(cfg Config) *Replica {
	if cfg.MaxLag <= 0 {
		cfg.MaxLag = DefaultMaxLag
	}
	if cfg.AppendTimeout <= 0 {
		cfg.AppendTimeout = 4 * time.Second
	}
	r := &Replica{cfg: cfg, phase: "connecting to NATS"}
	cfg.Serving.Log = r
	r.srv = serving.New(cfg.Serving)
	return r
}

// Server returns the server the replica feeds.
func (r *Replica) Server() *serving.Server { return r.srv }

// Status says how far the replica follows the shared state.
type Status struct {
	// Published is the generation the pointer names, as last seen.
	Published string
	// Applied is the last stream message the served index holds; Last the
	// stream's last message, as last heard.
	Applied, Last uint64
	// Lag is how long the replica has known of the oldest message it has
	// not applied; 0 when it has applied every message it knows of.
	Lag time.Duration
	// Connected says whether the connection to NATS is up.
	Connected bool
	// Invalid counts the stream messages skipped as not valid updates.
	Invalid uint64
}

// Status returns the replica's status now.
func (r *Replica) Status() Status {
	applied := uint64(max(r.srv.Info().Applied, 0))
	last, lag := r.lag.behind(applied, time.Now())
	r.mu.Lock()
	published := r.published.Generation
	r.mu.Unlock()
	conn := r.conn.Load()
	return Status{Published: published, Applied: applied, Last: max(last, applied), Lag: lag,
		Connected: conn != nil && conn.Connected(), Invalid: r.invalid.Load()}
}

// Ready returns why the replica should not be sent requests, or nil: it
// serves no generation yet (saying what it is doing), the newest
// generation published was refused, or it is more than MaxLag behind the
// stream. The server's own reasons (serving.Server.Failed, Health) are
// the caller's to add.
func (r *Replica) Ready() error {
	if r.srv.Generation() == "" {
		r.mu.Lock()
		defer r.mu.Unlock()
		return errors.New(r.phase)
	}
	r.mu.Lock()
	f, published := r.refused, r.published.Generation
	r.mu.Unlock()
	if f != nil && f.generation == published && published != r.srv.Generation() {
		return fmt.Errorf("generation %s refused: %s; still serving %s", f.generation, f.reason, r.srv.Generation())
	}
	// Cut off from NATS, it serves what it has and stays ready (the
	// README's promise): the lag it knew of would otherwise take it out
	// for the whole outage, while it can apply nothing.
	if st := r.Status(); st.Connected && st.Lag > r.cfg.MaxLag {
		return fmt.Errorf("%d update messages behind the stream (applied %d of %d) for %s, more than the %s allowed (-max-lag)",
			st.Last-st.Applied, st.Applied, st.Last, st.Lag.Round(100*time.Millisecond), r.cfg.MaxLag)
	}
	return nil
}

func (r *Replica) setPhase(format string, args ...any) {
	r.mu.Lock()
	r.phase = fmt.Sprintf(format, args...)
	r.mu.Unlock()
}

// Holds returns the stream message the named generation holds updates up
// to (serving.Log): 0, the stream's start, when the generation's position
// is of another stream than the one there now (deleted and made again
// since it was built), whose messages all came after it.
func (r *Replica) Holds(generation string) (int64, error) {
	seq, ok, err := r.cfg.Serving.Dir.StreamSeq(generation)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("generation %s holds no update stream position: it was not built with indexer build -nats", generation)
	}
	id, err := r.cfg.Serving.Dir.StreamID(generation)
	if err != nil {
		return 0, err
	}
	live := r.liveStream()
	r.mu.Lock()
	defer r.mu.Unlock()
	if id == "" {
		// Recorded once known: taken as "" for good, a generation first
		// loaded before the stream's state was read would keep the old
		// stream's position after the stream was made again (a review's
		// finding).
		if r.streamOf == nil {
			r.streamOf = map[string]string{}
		}
		if r.streamOf[generation] == "" && live != "" {
			r.streamOf[generation] = live
		}
		id = r.streamOf[generation]
	}
	r.held = id
	if id != "" && live != "" && id != live {
		r.held = live
		r.cfg.Logger.Warn().Str("generation", generation).Str("built_from", id).Str("stream", live).
			Msg("the update stream was made again since the generation was built: applying the new one from its start")
		return 0, nil
	}
	return int64(seq), nil
}

// liveStream returns the update stream's ID as last read, or "".
func (r *Replica) liveStream() string {
	if p := r.live.Load(); p != nil {
		return *p
	}
	return ""
}

// sawStream notes the update stream's state as read.
func (r *Replica) sawStream(st cluster.StreamState) {
	if st.ID != "" && st.ID != r.liveStream() {
		r.live.Store(&st.ID)
	}
}

// catchUpBatch is how many updates a catch-up writes to the index at once.
const catchUpBatch = 1000

// CatchUp writes the stream's updates after message from, up to the
// stream's last message, to a generation being opened (serving.Log).
func (r *Replica) CatchUp(ctx context.Context, from int64, write func([]index.Update) error) (int64, error) {
	conn := r.conn.Load()
	if conn == nil {
		return from, errors.New("not connected to NATS")
	}
	st, err := conn.State(ctx)
	if err != nil {
		return from, err
	}
	r.sawStream(st)
	last := st.Last
	r.lag.known(last, time.Now())
	if last <= uint64(from) {
		return from, nil
	}
	r.setPhase("catching up with the update stream: messages %d to %d", from+1, last)
	var batch []index.Update
	err = conn.Read(ctx, uint64(from), last, func(m cluster.Message) error {
		if m.Bad != nil {
			r.skip(m)
			return nil
		}
		batch = append(batch, m.Updates...)
		if len(batch) < catchUpBatch {
			return nil
		}
		err := write(batch)
		batch = nil
		return err
	})
	if err == nil && len(batch) > 0 {
		err = write(batch)
	}
	if err != nil {
		return from, err
	}
	return int64(last), nil
}

// Append publishes updates to the stream (serving.Log). An error that is
// not about the updates themselves wraps newsdesk.ErrUnavailable: the
// client may retry.
func (r *Replica) Append(ctx context.Context, updates []index.Update) (int64, error) {
	conn := r.conn.Load()
	if conn == nil {
		return 0, fmt.Errorf("%w: not connected to NATS", newsdesk.ErrUnavailable)
	}
	if served, live := r.served(), r.liveStream(); served != "" && live != "" && served != live {
		// Its position would be taken for one of the old stream's, and
		// the update answered before it is applied.
		return 0, fmt.Errorf("%w: the update stream was made again (created %s); this replica is reopening its generation on it", newsdesk.ErrUnavailable, live)
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.AppendTimeout)
	defer cancel()
	seq, err := conn.Append(ctx, updates)
	if err != nil {
		if !errors.Is(err, cluster.ErrTooLarge) {
			err = fmt.Errorf("%w: %w", newsdesk.ErrUnavailable, err)
		}
		return 0, err
	}
	r.lag.known(seq, time.Now())
	return int64(seq), nil
}

// served returns the stream the served copy's position is of, "" when
// unknown.
func (r *Replica) served() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.servedStream
}

// skip counts and logs a stream message that is not a valid update.
func (r *Replica) skip(m cluster.Message) {
	// Once each: a swap's catch-up reads again messages the follower
	// skipped already.
	for {
		seen := r.skippedThrough.Load()
		if m.Seq <= seen {
			return
		}
		if r.skippedThrough.CompareAndSwap(seen, m.Seq) {
			break
		}
	}
	r.invalid.Add(1)
	if r.cfg.OnInvalid != nil {
		r.cfg.OnInvalid()
	}
	r.cfg.Logger.Error().Err(m.Bad).Uint64("seq", m.Seq).Msg("update stream message skipped: not a valid update")
}
