package replica

import (
	"context"
	"errors"
	"time"

	"github.com/newsdesk/newsdesk/cluster"
	"github.com/newsdesk/newsdesk/serving"
)

// Timing of the follower.
const (
	// tick is how often the replica reads the stream's state (for the
	// lag) and the pointer (besides watching it), and retries what failed.
	tick = time.Second
	// retryRefused is how long a generation whose download was refused
	// waits before it is tried again, should the pointer stay on it.
	retryRefused = 30 * time.Second
	// applyBatch is how many updates from the stream are applied at once,
	// at most, when they come faster than one at a time.
	applyBatch = 1000
)

// Run connects to NATS (retrying until it can), serves the generation the
// pointer names (downloaded unless the cache holds it) caught up with the
// update stream, then follows the pointer and the stream until ctx ends;
// what fails meanwhile is logged, reported by Ready and tried again. The
// caller closes the server once Run returned.
func (r *Replica) Run(ctx context.Context) {
	conn := r.connect(ctx)
	if conn == nil {
		return
	}
	defer conn.Close()
	f := &follower{r: r, conn: conn, ptrs: make(chan cluster.Pointer, 1), done: make(chan download, 1),
		msgs: make(chan delivery, 4*applyBatch)}
	go f.watch(ctx)
	f.run(ctx)
}

// connect opens the connection, retrying with a growing pause while no
// NATS server answers; nil when ctx ends first.
func (r *Replica) connect(ctx context.Context) *cluster.Conn {
	wait := 250 * time.Millisecond
	for {
		conn, err := cluster.Open(ctx, r.cfg.NATS)
		if err == nil {
			r.conn.Store(conn)
			r.cfg.Logger.Info().Int("replicas", conn.Replicas()).Msg("connected to NATS")
			r.setPhase("waiting for a generation to be published (indexer build -nats)")
			return conn
		}
		r.setPhase("connecting to NATS: %v", err)
		r.cfg.Logger.Warn().Err(err).Dur("retry_in", wait).Msg("cannot reach NATS")
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// follower is the replica's one goroutine that swaps generations and
// applies the stream: serving's Load and Apply are never called at once.
type follower struct {
	r    *Replica
	conn *cluster.Conn
	ptrs chan cluster.Pointer // the latest pointer seen; a newer one replaces an unread one
	msgs chan delivery
	done chan download

	want        cluster.Pointer // the generation to serve
	downloading string          // the generation being downloaded, if any
	stop        func()          // stops following the stream; nil while not following
	epoch       int             // counts the follows: messages of an earlier one are dropped
	loadFailed  time.Time       // when loading the cached generation last failed
	// reopenFailed is when reopening the served generation on a stream
	// made again last failed (checkStream).
	reopenFailed time.Time
	// fetchFails counts the downloads failed in a row (not refused), and
	// nextFetch is when the next may start: after a tick, then twice as
	// long each time, at most retryRefused. A failed download was started
	// again at once, some thousand times a second, while the cache's
	// directory was gone, its disk full or the archive missing.
	fetchFails int
	nextFetch  time.Time
	// refetched is the generation whose cached copy failed to load and
	// was downloaded again: once, since a generation the store holds bad
	// would otherwise be downloaded every few seconds.
	refetched string
}

// delivery is a message from the stream, from the epoch-th follow.
type delivery struct {
	epoch int
	m     cluster.Message
}

type download struct {
	p   cluster.Pointer
	err error
}

// watch feeds f.ptrs from a watch of the pointer, started again whenever
// it ends, and from a read of it every tick, which also reads the
// stream's state.
func (f *follower) watch(ctx context.Context) {
	go func() {
		for ctx.Err() == nil {
			ch, err := f.conn.WatchCurrent(ctx)
			if err == nil {
				for p := range ch {
					f.offer(p)
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(tick):
			}
		}
	}()
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		rctx, cancel := context.WithTimeout(ctx, tick)
		if st, err := f.conn.State(rctx); err == nil {
			now := time.Now()
			f.r.sawStream(st)
			f.r.lag.holds(st.Last, now)
			f.r.lag.known(st.Last, now)
		}
		if p, err := f.conn.Current(rctx); err == nil {
			f.offer(p)
		}
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// offer hands p to the loop, replacing a pointer it has not read yet.
func (f *follower) offer(p cluster.Pointer) {
	for {
		select {
		case f.ptrs <- p:
			return
		default:
		}
		select {
		case old := <-f.ptrs:
			if old.Newer(p) {
				p = old
			}
		default:
		}
	}
}

func (f *follower) run(ctx context.Context) {
	r := f.r
	t := time.NewTicker(tick)
	defer t.Stop()
	defer func() {
		if f.stop != nil {
			f.stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-f.ptrs:
			r.mu.Lock()
			r.published = p
			r.mu.Unlock()
			if !f.want.Newer(p) {
				f.want = p
			}
			f.step(ctx)
		case d := <-f.done:
			f.downloaded(ctx, d)
			f.step(ctx)
		case d := <-f.msgs:
			f.apply(ctx, d)
		case <-t.C:
			f.step(ctx)
		}
	}
}

// step moves the replica towards serving f.want: download it, or load it
// once downloaded; then follow the stream.
func (f *follower) step(ctx context.Context) {
	r := f.r
	if f.want.Generation == "" {
		return
	}
	if f.want.Generation != r.srv.Generation() && f.downloading == "" {
		cached, _ := r.cfg.Serving.Dir.Current()
		switch {
		case cached == f.want.Generation && !f.loadFailed.IsZero() && f.refetched != cached:
			// The cached copy failed to load (a file cut short, a disk
			// error): the store's copy replaces it, once. It was loaded
			// again every 5 s, forever, while the store held a good one.
			f.refetched = cached
			f.r.cfg.Logger.Warn().Str("generation", cached).Msg("the cached copy of the generation failed to load; downloading it again")
			f.fetch(ctx, f.want)
		case cached == f.want.Generation:
			if time.Since(f.loadFailed) > 5*time.Second {
				f.load(ctx)
			}
		case f.refusedRecently(f.want.Generation):
			// Refused: with nothing served (a replica started since), the
			// generation its cache holds serves meanwhile, as a running
			// replica goes on serving its own.
			if r.srv.Generation() == "" && cached != "" && time.Since(f.loadFailed) > 5*time.Second {
				f.load(ctx)
			}
		case time.Now().Before(f.nextFetch):
			// The last download failed: wait, serving meanwhile, when
			// nothing is served, the generation the cache holds, as a
			// refused one's does.
			if r.srv.Generation() == "" && cached != "" && time.Since(f.loadFailed) > 5*time.Second {
				f.load(ctx)
			}
		default:
			f.fetch(ctx, f.want)
		}
	}
	if r.srv.Generation() != "" {
		f.checkStream(ctx)
	}
	if f.stop == nil && r.srv.Generation() != "" && f.onStream() {
		f.follow(ctx)
	}
}

// checkStream reopens the served generation when the update stream is no
// longer the one its position is of: deleted and made again (a NATS server
// whose storage was wiped, nats stream rm), the new stream numbers its
// messages from 1, which the replica took for messages it had applied; it
// served without them, and said it was ready.
func (f *follower) checkStream(ctx context.Context) {
	r := f.r
	live := r.liveStream()
	r.mu.Lock()
	if r.servedStream == "" {
		r.servedStream = live // unknown: taken for the one there
	}
	served := r.servedStream
	r.mu.Unlock()
	if live == "" || served == live {
		return
	}
	if time.Since(f.reopenFailed) < 5*time.Second {
		return // each try copies and opens the generation
	}
	r.cfg.Logger.Warn().Str("generation", r.srv.Generation()).Str("was", served).Str("stream", live).
		Msg("the update stream was made again: reopening the generation and applying the new stream from its start")
	if f.stop != nil {
		f.stop()
		f.stop = nil
	}
	if err := r.srv.Reopen(ctx); err != nil {
		f.reopenFailed = time.Now()
		r.cfg.Logger.Error().Err(err).Msg("reopen the generation on the new update stream; retrying in 5 s")
		return
	}
	f.reopenFailed = time.Time{}
	f.loaded()
}

// onStream reports whether the served copy's position is of the stream
// there (or either is unknown): one of a stream made again is not
// followed, which would apply the new stream's messages past the old
// position, until the copy is reopened (checkStream).
func (f *follower) onStream() bool {
	live := f.r.liveStream()
	served := f.r.served()
	return live == "" || served == "" || live == served
}

// loaded notes, after the served copy was opened, which stream its
// position is of.
func (f *follower) loaded() {
	f.r.mu.Lock()
	f.r.servedStream = f.r.held
	f.r.mu.Unlock()
}

func (f *follower) refusedRecently(generation string) bool {
	f.r.mu.Lock()
	defer f.r.mu.Unlock()
	return f.r.refused != nil && f.r.refused.generation == generation && time.Since(f.r.refused.at) < retryRefused
}

// fetch downloads p into the cache in a goroutine of its own; the loop
// gets the result on f.done.
func (f *follower) fetch(ctx context.Context, p cluster.Pointer) {
	f.downloading = p.Generation
	if f.r.srv.Generation() == "" {
		f.r.setPhase("downloading generation %s (%d bytes)", p.Generation, p.Size)
	}
	f.r.cfg.Logger.Info().Str("generation", p.Generation).Uint64("bytes", p.Size).Msg("downloading generation")
	go func() {
		start := time.Now()
		err := f.conn.Download(ctx, p, f.r.cfg.Serving.Dir)
		if err == nil {
			f.r.cfg.Logger.Info().Str("generation", p.Generation).Int64("took_ms", time.Since(start).Milliseconds()).Msg("generation downloaded")
		}
		f.done <- download{p: p, err: err}
	}()
}

func (f *follower) downloaded(ctx context.Context, d download) {
	r := f.r
	f.downloading = ""
	if r.cfg.OnDownload != nil && ctx.Err() == nil {
		r.cfg.OnDownload(d.p.Generation, d.err)
	}
	// A refusal is for a digest that does not match: the archive is not
	// what was published. Other errors are NATS's, and pass.
	if d.err != nil && !errors.Is(d.err, cluster.ErrDigestMismatch) {
		// NATS failing, the cache's disk full or gone: tried again after
		// a tick, then after twice as long each time.
		f.fetchFails++
		f.nextFetch = time.Now().Add(fetchBackoff(f.fetchFails))
		if ctx.Err() == nil {
			if r.srv.Generation() == "" {
				r.setPhase("downloading generation %s failed: %v; retrying", d.p.Generation, d.err)
			}
			r.cfg.Logger.Warn().Err(d.err).Str("generation", d.p.Generation).Msg("download failed; retrying")
		}
		return
	}
	if d.err != nil {
		r.mu.Lock()
		r.refused = &refusal{generation: d.p.Generation, reason: d.err.Error(), at: time.Now()}
		r.mu.Unlock()
		msg := "generation refused; serving the previous one"
		if r.srv.Generation() == "" {
			r.setPhase("generation %s refused: %v; waiting for another", d.p.Generation, d.err)
			msg = "generation refused; there is no other to serve: waiting for another"
			if cached, _ := r.cfg.Serving.Dir.Current(); cached != "" {
				// step serves it next: said so, not "no other".
				msg = "generation refused; serving the cache's generation meanwhile: " + cached
			}
		}
		r.cfg.Logger.Error().Err(d.err).Str("generation", d.p.Generation).Str("serving", r.srv.Generation()).Msg(msg)
		return
	}
	f.fetchFails, f.nextFetch = 0, time.Time{}
	r.mu.Lock()
	r.refused = nil
	r.mu.Unlock()
	f.load(ctx)
}

// fetchBackoff is how long the n-th failed download in a row waits before
// the next: a tick, doubling, at most retryRefused.
func fetchBackoff(n int) time.Duration {
	wait := tick
	for i := 1; i < n && wait < retryRefused; i++ {
		wait *= 2
	}
	return min(wait, retryRefused)
}

// load serves the cache's current generation, caught up with the stream
// (serving.Server.Load, through the replica's CatchUp).
func (f *follower) load(ctx context.Context) {
	r := f.r
	if r.srv.Generation() == "" {
		r.setPhase("opening the generation")
	}
	res, err := r.srv.Load(ctx)
	if err != nil {
		f.loadFailed = time.Now()
		if r.srv.Generation() == "" {
			r.setPhase("%v; retrying", err)
		}
		return
	}
	f.loadFailed = time.Time{}
	if res.Swapped {
		f.loaded()
	}
}

// follow starts following the stream from the message after the one the
// served generation holds.
func (f *follower) follow(ctx context.Context) {
	from := uint64(max(f.r.srv.Info().Applied, 0))
	epoch := f.epoch + 1
	f.stop = f.conn.Follow(ctx, from, func(m cluster.Message) {
		f.r.lag.known(m.Seq+m.Pending, time.Now())
		select {
		case f.msgs <- delivery{epoch: epoch, m: m}:
		case <-ctx.Done():
		}
	}, func(seq uint64) { f.r.lag.known(seq, time.Now()) })
	f.epoch = epoch
}

// apply applies the message of d, with those queued behind it, to the
// served generation, in one batch.
func (f *follower) apply(ctx context.Context, d delivery) {
	var entries []serving.Entry
	n, through := 0, uint64(0)
	for {
		if d.epoch == f.epoch {
			m := d.m
			if m.Bad != nil {
				f.r.skip(m)
			} else {
				entries = append(entries, serving.Entry{Pos: int64(m.Seq), Updates: m.Updates})
				n += len(m.Updates)
			}
			through = m.Seq
		}
		if n >= applyBatch || len(f.msgs) == 0 {
			break
		}
		d = <-f.msgs
	}
	if through == 0 {
		return // only messages of an earlier follow
	}
	err := f.r.srv.Apply(ctx, entries, int64(through))
	// The lag's notes of what is applied go now, not only when the status
	// is read: a replica nothing polls would keep them all.
	f.r.lag.behind(uint64(max(f.r.srv.Info().Applied, 0)), time.Now())
	if err != nil {
		if errors.Is(err, serving.ErrClosed) || ctx.Err() != nil {
			return
		}
		// Follow again, from what the served generation holds: the
		// messages delivered past it are dropped and read again.
		f.r.cfg.Logger.Error().Err(err).Uint64("seq", through).Msg("updates from the stream not applied; following the stream again")
		f.stop()
		f.stop = nil
	}
}
