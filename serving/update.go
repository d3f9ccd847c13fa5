package serving

import (
	"context"
	"fmt"

	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/mappings"
	"github.com/newsdesk/newsdesk/search"
)

// Results of one update.
const (
	Created  = "created"
	Updated  = "updated"
	Deleted  = "deleted"
	NotFound = "not_found"
)

// Update applies updates to the served generation in one batch, records
// them in the directory's journal (so that rebuilds keep them), and swaps
// in an engine that sees them; it returns the result of each update, in
// order. When it returns, every applied update is searchable.
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
	results := make([]string, len(updates))
	exists := map[string]bool{}
	known := func(id string) (bool, error) {
		if e, ok := exists[id]; ok {
			return e, nil
		}
		d, err := cur.idx.Document(id)
		if err != nil {
			return false, err
		}
		return d != nil, nil
	}
	batch := cur.idx.NewBatch()
	var applied []index.Update
	for i, u := range updates {
		id := u.ID()
		had, err := known(id)
		if err != nil {
			return nil, fmt.Errorf("serving: update %s: %w", id, err)
		}
		if u.Upsert != nil {
			doc, err := mappings.NewDoc(u.Upsert)
			if err != nil {
				return nil, fmt.Errorf("serving: update %s: %w", id, err)
			}
			if err := batch.Index(id, doc); err != nil {
				return nil, fmt.Errorf("serving: update %s: %w", id, err)
			}
			results[i], exists[id] = Created, true
			if had {
				results[i] = Updated
			}
			applied = append(applied, u)
			continue
		}
		if !had {
			results[i] = NotFound
			continue
		}
		batch.Delete(id)
		results[i], exists[id] = Deleted, false
		applied = append(applied, u)
	}
	if len(applied) == 0 {
		return results, nil
	}
	if err := cur.idx.Batch(batch); err != nil {
		return nil, fmt.Errorf("serving: apply updates: %w", err)
	}
	// Journal before answering: an update the caller is told about
	// survives every rebuild.
	if err := s.cfg.Dir.Journal().Append(applied); err != nil {
		return nil, err
	}
	e, err := search.New(ctx, cur.idx, mappings.New())
	if err != nil {
		return nil, fmt.Errorf("serving: reload after updates: %w", err)
	}
	s.current.Store(&served{idx: cur.idx, engine: e})
	s.cfg.Logger.Info().Int("applied", len(applied)).Int("updates", len(updates)).Str("generation", cur.idx.Generation).Msg("updates applied")
	return results, nil
}
