package serving

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"syscall"

	"github.com/rs/zerolog"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/mappings"
)

// Results of one update.
const (
	Created  = "created"
	Updated  = "updated"
	Deleted  = "deleted"
	NotFound = "not_found"
)

// ErrJournaled is wrapped by Update's error when the updates are in the
// journal (durable: every restart and rebuild applies them) but could not
// be made visible to searches now.
var ErrJournaled = errors.New("updates journaled but not applied to the served index")

// Update applies updates to the served generation in one batch and
// records them in the directory's journal (so that restarts and rebuilds
// keep them); it returns the result of each update, in order. When it
// returns without error, every applied update is visible to the next
// search.
//
// The batch is journaled (and synced) first, then written to the working
// copy, whose new small segment is all the engine loads: a one-event
// update costs milliseconds. Bleve merges the update segments in the
// background; the engine loads each merged segment before it serves it.
//
// An error means nothing was applied, except one wrapping ErrJournaled.
// Updates that would leave less than Config.MinFree of disk, or that meet
// a full disk, fail with an error wrapping newsdesk.ErrNoSpace. Should
// writing to the working copy fail after the journal took the updates,
// the copy is discarded and a fresh one opened from the generation and
// the journal; only if that fails too is ErrJournaled returned.
func (s *Server) Update(ctx context.Context, updates []index.Update) ([]string, error) {
	if s.cfg.Log != nil {
		return s.updateLog(ctx, updates)
	}
	if s.current.Load() == nil && !s.closed.Load() {
		// Nothing served yet: answered at once, not after the open that
		// holds the lock (tens of seconds with a long journal).
		return nil, errNoGeneration
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return nil, fmt.Errorf("%w: %w", ErrClosed, newsdesk.ErrUnavailable)
	}
	cur := s.current.Load()
	if cur == nil {
		return nil, errNoGeneration
	}
	// Written in batches, the updates appear at once, when shown.
	defer cur.hold()()
	// Another searchd serving this directory may have journaled updates
	// since this copy's position: they are applied first, so that each
	// update's result is planned on what the directory holds (a delete of
	// an event the other created was answered not_found, and dropped).
	// Not under the journal's lock: what the other appends between this
	// read and this append is applied with these below, and the results
	// said of these may not count it (created for an id it just made);
	// the events served are the same either way.
	if cur.epoch == s.cfg.Dir.JournalEpoch() && s.cfg.Dir.Journal().Size() > cur.applied.Load() {
		n, _, err := s.replayInto(cur)
		if err == nil && n > 0 {
			err = cur.show(ctx)
		}
		if err != nil {
			return nil, fmt.Errorf("serving: update refused, nothing applied: applying other servers' journaled updates: %w", err)
		}
	}
	results, applied, err := plan(cur.idx, cur.docs, updates)
	if err != nil || len(applied) == 0 {
		return results, err
	}
	// Room for the journal lines and the segment Bleve writes from them
	// (measured: about 3 times the JSON), besides what must stay free.
	body, err := json.Marshal(applied)
	if err != nil {
		return nil, fmt.Errorf("serving: update: %w", err)
	}
	if err := s.cfg.Dir.CheckSpace(s.cfg.MinFree + 4*uint64(len(body))); err != nil {
		return nil, fmt.Errorf("serving: update refused, nothing applied: %w", err)
	}
	// Journal before applying: an update the caller is told about
	// survives every restart and rebuild.
	j := s.cfg.Dir.Journal()
	start, end, err := j.AppendAt(applied)
	if err != nil {
		if errors.Is(err, syscall.ENOSPC) {
			err = fmt.Errorf("%w: %w", newsdesk.ErrNoSpace, err)
		}
		return nil, fmt.Errorf("serving: update failed, nothing applied: %w", err)
	}
	// Another searchd serving this directory may have journaled updates
	// since this copy's position: then they are applied with these, from
	// the journal, so that the position (update_seq) says what is served.
	switch {
	case cur.epoch != s.cfg.Dir.JournalEpoch():
		// The journal was cleared under the served generation (a build
		// with -drop-updates, before its swap): its offset means nothing
		// in the new journal, which holds the lines kept from the old one,
		// other servers' since, and these. All are applied from its start
		// (an update applied twice ends the same); applying these alone
		// skipped the others', though the offset said they were served.
		cur.epoch = s.cfg.Dir.JournalEpoch()
		cur.applied.Store(0)
		_, _, err = s.replayInto(cur)
	case start == cur.applied.Load():
		err = s.write(cur.idx, cur.docs, applied)
		if err == nil {
			cur.applied.Store(end)
		}
	default:
		_, _, err = s.replayInto(cur)
	}
	if err != nil {
		s.logger(ctx).Error().Err(err).Str("generation", cur.idx.Generation).Msg("updates journaled but not written to the working copy; reopening it")
		if rerr := s.reopen(ctx, cur); rerr != nil {
			return results, fmt.Errorf("%w: %v; reopening the working copy: %v", ErrJournaled, err, rerr)
		}
		return results, nil
	}
	if err := cur.show(ctx); err != nil {
		// Journaled and written: the caller must not be told that
		// nothing was applied, and a retry would apply them twice.
		return results, fmt.Errorf("%w: show updates: %v", ErrJournaled, err)
	}
	s.logger(ctx).Debug().Int("applied", len(applied)).Int("updates", len(updates)).Str("generation", cur.idx.Generation).Msg("updates applied")
	return results, nil
}

// logger returns the logger of the request ctx belongs to, which names
// its req_id, if it has one; else the server's.
func (s *Server) logger(ctx context.Context) *zerolog.Logger {
	if l := zerolog.Ctx(ctx); l.GetLevel() != zerolog.Disabled {
		return l
	}
	return &s.cfg.Logger
}

// reopen replaces the served working copy cur by a fresh one of the same
// generation, which applies the whole journal; cur closes after the grace
// period. Call with s.mu held.
func (s *Server) reopen(ctx context.Context, cur *served) error {
	next, err := s.open(context.WithoutCancel(ctx), cur.idx.Generation)
	if err != nil {
		return err
	}
	s.current.Store(next)
	s.retire(cur, false)
	s.logger(ctx).Info().Str("generation", next.idx.Generation).Msg("working copy reopened")
	return nil
}

// Reopen replaces the served working copy by a fresh one of the same
// generation, caught up from its Log as a swap is (Log.Holds, then
// CatchUp): what a replica does when the update stream it applied was
// made again, so that the copy holds the generation and the new stream's
// updates, not positions of the old one. The copy it replaces closes
// after the grace period.
func (s *Server) Reopen(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return ErrClosed
	}
	cur := s.current.Load()
	if cur == nil {
		return errNoGeneration
	}
	if err := s.reopen(ctx, cur); err != nil {
		return fmt.Errorf("serving: reopen %s: %w", cur.idx.Generation, err)
	}
	if s.cfg.Log != nil {
		// The new log's positions repeat the old one's, with other
		// updates: the epoch, which a Log's positions do not use
		// otherwise, tells them apart in Position, so that an ETag of
		// before matches no answer of after.
		next := s.current.Load()
		next.epoch = cur.epoch + 1
		next.setShown(next.shown.Load(), true)
	}
	s.positionMoved()
	return nil
}

// plan returns the result each update will have on idx, and the updates
// that change something (a delete of an unknown id does not).
func plan(idx *index.Index, docs *mappings.Docs, updates []index.Update) ([]string, []index.Update, error) {
	results := make([]string, len(updates))
	exists := map[string]bool{}
	var applied []index.Update
	for i, u := range updates {
		id := u.ID()
		had, ok := exists[id]
		if !ok {
			d, err := idx.Document(id)
			if err != nil {
				return nil, nil, fmt.Errorf("serving: update %s: %w", id, err)
			}
			had = d != nil
		}
		switch {
		case u.Upsert != nil:
			// Checked before the journal takes it: an update that cannot
			// be indexed would fail every restart and rebuild after.
			if _, err := docs.Doc(u.Upsert); err != nil {
				return nil, nil, fmt.Errorf("serving: update %s: %w", id, err)
			}
			results[i], exists[id] = Created, true
			if had {
				results[i] = Updated
			}
		case had:
			results[i], exists[id] = Deleted, false
		default:
			results[i] = NotFound
			continue
		}
		applied = append(applied, u)
	}
	return results, applied, nil
}

// write applies updates to idx in order, in batches of writeBatch: of
// several updates of one id, the last wins. Its callers hold the
// snapshot (served.hold), so that searches see all or none of them. On an
// error, the batches before it are applied (the callers reopen the
// working copy, which applies the journal again from the generation).
func write(idx *index.Index, docs *mappings.Docs, updates []index.Update) error {
	for len(updates) > 0 {
		n := min(len(updates), writeBatch)
		batch := idx.NewBatch()
		for _, u := range updates[:n] {
			if u.Upsert == nil {
				batch.Delete(u.Delete)
				continue
			}
			doc, err := docs.Doc(u.Upsert)
			if err != nil {
				return fmt.Errorf("serving: update %s: %w", u.ID(), err)
			}
			if err := batch.Index(u.ID(), doc); err != nil {
				return fmt.Errorf("serving: update %s: %w", u.ID(), err)
			}
		}
		if err := idx.Batch(batch); err != nil {
			return fmt.Errorf("serving: apply updates: %w", err)
		}
		updates = updates[n:]
	}
	return nil
}

// writeBatch is how many updates write gives Bleve at once: one batch of
// a 16 MiB bulk of small events (220,000) took 1.5 GiB and 24 s, and as
// much at every start that replayed it.
const writeBatch = 2000

// replay applies to sv the journal's updates it does not hold yet (those
// journaled while its generation was being built, or by another server)
// and shows them; or the Log's, with one.
func (s *Server) replay(ctx context.Context, sv *served) error {
	defer sv.hold()()
	if s.cfg.Log != nil {
		if err := s.catchUp(ctx, sv); err != nil {
			return err
		}
		return sv.show(ctx)
	}
	n, _, err := s.replayInto(sv)
	if err != nil || n == 0 {
		return err
	}
	return sv.show(ctx)
}

// replayInto writes to sv's working copy the journal's updates past
// sv.applied, and returns how many it wrote.
func (s *Server) replayInto(sv *served) (int, int64, error) {
	var updates []index.Update
	j := s.cfg.Dir.Journal()
	offset, err := j.ReadFrom(sv.applied.Load(), func(u index.Update) error {
		// An upsert journaled before dates and ids were checked would make
		// the generation unservable: it is skipped, as a build reports it.
		if u.Upsert != nil {
			if err := u.Upsert.Validate(); err != nil {
				s.cfg.Logger.Warn().Err(err).Str("journal", j.Path()).Str("id", u.Upsert.ID[:min(len(u.Upsert.ID), 160)]).Msg("journaled upsert skipped: not a valid event")
				return nil
			}
		}
		updates = append(updates, u)
		return nil
	})
	if err != nil || len(updates) == 0 {
		return 0, offset, err
	}
	if err := s.write(sv.idx, sv.docs, updates); err != nil {
		return 0, offset, err
	}
	sv.applied.Store(offset)
	s.cfg.Logger.Info().Int("updates", len(updates)).Str("generation", sv.idx.Generation).Msg("journaled updates applied to the generation")
	return len(updates), offset, nil
}
