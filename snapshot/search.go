package snapshot

import (
	"context"
	"fmt"

	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	bquery "github.com/blevesearch/bleve/v2/search/query"
	bindex "github.com/blevesearch/bleve_index_api"
)

// Searcher returns q's Bleve searcher over the snapshot, scoring with the
// model m names (BM25 for newsdesk's mapping) as a Bleve index search
// would, and the context to run it with. Close the searcher.
func (s *Snapshot) Searcher(ctx context.Context, q bquery.Query, m mapping.IndexMapping, opts search.SearcherOptions) (search.Searcher, context.Context, error) {
	model := bindex.DefaultScoringModel
	if im, ok := m.(*mapping.IndexMappingImpl); ok && im.ScoringModel != "" {
		model = im.ScoringModel
	}
	ctx = context.WithValue(ctx, search.GetScoringModelCallbackKey,
		search.GetScoringModelCallbackFn(func() string { return model }))
	ctx = search.ContextWithTermSearchersCounter(ctx)
	ctx = WithSnapshot(ctx, s)
	sr, err := q.Searcher(ctx, s.r, m, opts)
	if err != nil {
		return nil, nil, err
	}
	return sr, ctx, nil
}

// VisitMatches calls fn with the number of every document q matches, in
// order, without scoring them, and returns how many it visited.
func (s *Snapshot) VisitMatches(ctx context.Context, q bquery.Query, m mapping.IndexMapping, fn func(doc uint64)) (uint64, error) {
	sr, _, err := s.Searcher(ctx, q, m, search.SearcherOptions{Score: "none"})
	if err != nil {
		return 0, fmt.Errorf("visit matches: %w", err)
	}
	defer sr.Close()
	sctx := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(sr.DocumentMatchPoolSize(), 0)}
	var n uint64
	for {
		dm, err := sr.Next(sctx)
		if err != nil {
			return n, fmt.Errorf("visit matches: %w", err)
		}
		if dm == nil {
			return n, nil
		}
		n++
		if n%8192 == 0 {
			if err := ctx.Err(); err != nil {
				return n, err
			}
		}
		fn(DocNum(dm.IndexInternalID))
		sctx.DocumentMatchPool.Put(dm)
	}
}

// AnyMatch reports whether q matches any document (deleted ones left
// out), reading no further than the first.
func (s *Snapshot) AnyMatch(ctx context.Context, q bquery.Query, m mapping.IndexMapping) (bool, error) {
	sr, _, err := s.Searcher(ctx, q, m, search.SearcherOptions{Score: "none"})
	if err != nil {
		return false, fmt.Errorf("any match: %w", err)
	}
	defer sr.Close()
	sctx := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(sr.DocumentMatchPoolSize(), 0)}
	dm, err := sr.Next(sctx)
	if err != nil {
		return false, fmt.Errorf("any match: %w", err)
	}
	return dm != nil, nil
}
