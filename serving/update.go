package serving

import (
	"context"
	"fmt"

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

// Update applies updates to the served generation in one batch and
// records them in the directory's journal (so that restarts and rebuilds
// keep them); it returns the result of each update, in order. When it
// returns, every applied update is visible to the next search.
//
// The batch is journaled (and synced) first, then written to the working
// copy, whose new small segment is all the engine loads: a one-event
// update costs milliseconds. Bleve merges the update segments in the
// background; the engine loads each merged segment before it serves it.
func (s *Server) Update(ctx context.Context, updates []index.Update) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return nil, ErrClosed
	}
	cur := s.current.Load()
	if cur == nil {
		return nil, fmt.Errorf("serving: update: no generation served")
	}
	results, applied, err := plan(cur.idx, updates)
	if err != nil || len(applied) == 0 {
		return results, err
	}
	// Journal before applying: an update the caller is told about
	// survives every restart and rebuild.
	j := s.cfg.Dir.Journal()
	if err := j.Append(applied); err != nil {
		return nil, err
	}
	if err := write(cur.idx, applied); err != nil {
		return nil, err
	}
	cur.applied = j.Size()
	// Not the request's context: a client that hangs up must not leave
	// the update applied but invisible.
	if err := cur.src.Refresh(context.WithoutCancel(ctx)); err != nil {
		return nil, fmt.Errorf("serving: show updates: %w", err)
	}
	s.cfg.Logger.Debug().Int("applied", len(applied)).Int("updates", len(updates)).Str("generation", cur.idx.Generation).Msg("updates applied")
	return results, nil
}

// plan returns the result each update will have on idx, and the updates
// that change something (a delete of an unknown id does not).
func plan(idx *index.Index, updates []index.Update) ([]string, []index.Update, error) {
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

// write applies updates to idx in one batch, in order: of several
// updates of one id, the last wins.
func write(idx *index.Index, updates []index.Update) error {
	batch := idx.NewBatch()
	for _, u := range updates {
		if u.Upsert == nil {
			batch.Delete(u.Delete)
			continue
		}
		doc, err := mappings.NewDoc(u.Upsert)
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
	return nil
}

// replay applies to sv the journal's updates it does not hold yet (those
// journaled while its generation was being built, or by another server)
// and shows them.
func (s *Server) replay(ctx context.Context, sv *served) error {
	n, _, err := s.replayInto(sv)
	if err != nil || n == 0 {
		return err
	}
	return sv.src.Refresh(context.WithoutCancel(ctx))
}

// replayInto writes to sv's working copy the journal's updates past
// sv.applied, and returns how many it wrote.
func (s *Server) replayInto(sv *served) (int, int64, error) {
	var updates []index.Update
	j := s.cfg.Dir.Journal()
	offset, err := j.ReadFrom(sv.applied, func(u index.Update) error {
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
	if err := write(sv.idx, updates); err != nil {
		return 0, offset, err
	}
	sv.applied = offset
	s.cfg.Logger.Info().Int("updates", len(updates)).Str("generation", sv.idx.Generation).Msg("journaled updates applied to the generation")
	return len(updates), offset, nil
}
