package serving

import (
	"context"
	"errors"
	"fmt"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/index"
)

// Log is an ordered log of updates kept outside the index directory, which
// a Server applies on top of each generation in place of the directory's
// journal: the update stream replicas share (package replica). Positions
// are the log's sequence numbers: the server's Info.Applied is the
// position it has applied up to.
type Log interface {
	// Holds returns the position up to which the named generation, as
	// published, holds the log's updates.
	Holds(generation string) (int64, error)
	// CatchUp calls write with the log's updates after position from, in
	// order, in batches, up to the log's end when it began, and returns
	// the position reached. It skips what is not a valid update.
	CatchUp(ctx context.Context, from int64, write func([]index.Update) error) (int64, error)
	// Append makes updates durable in the log and returns the position of
	// the last; the server has them once it applied the log that far
	// (Apply).
	Append(ctx context.Context, updates []index.Update) (int64, error)
}

// Entry is one position of a Log and its updates, in order.
type Entry struct {
	Pos     int64
	Updates []index.Update
}

// Apply writes to the served generation the updates of the entries past
// its position, in order, in one batch, shows them, and moves its
// position to through (the position of the last entry, or past it when
// the log's entries after the last were skipped). Entries the served
// generation holds already (it was swapped in caught up further) are left
// out, so a Log's reader can hand every entry it reads to Apply. Should
// writing fail, the working copy is replaced by a fresh one, caught up
// from the Log.
func (s *Server) Apply(ctx context.Context, entries []Entry, through int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return ErrClosed
	}
	cur := s.current.Load()
	if cur == nil {
		return errors.New("serving: apply: no generation served")
	}
	defer cur.hold()() // written in batches, shown at once
	from := cur.applied.Load()
	if through <= from {
		return nil
	}
	var updates []index.Update
	for _, e := range entries {
		if e.Pos > from {
			updates = append(updates, e.Updates...)
		}
	}
	if len(updates) > 0 {
		if err := s.write(cur.idx, cur.docs, updates); err != nil {
			s.cfg.Logger.Error().Err(err).Str("generation", cur.idx.Generation).Msg("updates not written to the working copy; reopening it")
			if rerr := s.reopen(ctx, cur); rerr != nil {
				return fmt.Errorf("serving: apply: %w; reopening the working copy: %v", err, rerr)
			}
			s.positionMoved()
			return nil
		}
	}
	shownAll := cur.shown.Load() == from // an earlier batch's show did not fail
	cur.applied.Store(through)
	// Once shown: a caller that sees the position sees the updates.
	if len(updates) > 0 || !shownAll {
		if err := cur.show(ctx); err != nil {
			return fmt.Errorf("serving: show updates: %w", err)
		}
	} else {
		cur.setShown(through, false) // nothing written: messages skipped
	}
	s.positionMoved()
	return nil
}

// catchUp writes the Log's updates after sv's position to sv's working
// copy (not served yet, or served with s.mu held) and moves its position.
func (s *Server) catchUp(ctx context.Context, sv *served) error {
	from := sv.applied.Load()
	n := 0
	pos, err := s.cfg.Log.CatchUp(ctx, from, func(updates []index.Update) error {
		n += len(updates)
		return s.write(sv.idx, sv.docs, updates)
	})
	if err != nil {
		return fmt.Errorf("catch up with the update log from %d: %w", from, err)
	}
	if pos > from {
		sv.applied.Store(pos)
	}
	sv.written += n
	if n > 0 {
		s.cfg.Logger.Info().Int("updates", n).Int64("from", from).Int64("to", pos).Str("generation", sv.idx.Generation).Msg("generation caught up with the update log")
	}
	return nil
}

// updateLog is Update with a Log: the updates are appended to the Log,
// then Update waits until this server has applied the Log that far, so
// that the caller reads its writes here. Other servers of the Log apply
// them as they read it.
func (s *Server) updateLog(ctx context.Context, updates []index.Update) ([]string, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("%w: %w", ErrClosed, newsdesk.ErrUnavailable)
	}
	cur := s.current.Load()
	if cur == nil {
		return nil, errNoGeneration
	}
	// The results are this server's view; the deletes of ids unknown here
	// go to the Log all the same, for servers that are ahead.
	results, _, err := plan(cur.idx, cur.docs, updates)
	if err != nil {
		return results, err
	}
	if err := s.cfg.Dir.CheckSpace(s.cfg.MinFree); err != nil {
		return nil, fmt.Errorf("serving: update refused, nothing applied: %w", err)
	}
	pos, err := s.cfg.Log.Append(ctx, updates)
	if err != nil {
		return nil, fmt.Errorf("serving: update: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, s.cfg.ApplyWait)
	defer cancel()
	if err := s.waitApplied(wctx, pos); err != nil {
		return results, fmt.Errorf("%w: the update log holds them (position %d), this server has applied it up to %d after %v",
			ErrJournaled, pos, s.Info().Applied, s.cfg.ApplyWait)
	}
	return results, nil
}

// positionMoved wakes the waiters of waitApplied.
func (s *Server) positionMoved() {
	s.movedMu.Lock()
	close(s.moved)
	s.moved = make(chan struct{})
	s.movedMu.Unlock()
}

// waitApplied waits until the served generation's position is pos or
// more.
func (s *Server) waitApplied(ctx context.Context, pos int64) error {
	for {
		s.movedMu.Lock()
		moved := s.moved
		s.movedMu.Unlock()
		if cur := s.current.Load(); cur != nil && cur.shown.Load() >= pos {
			return nil
		}
		select {
		case <-moved:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
