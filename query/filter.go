package query

import (
	"context"

	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	bquery "github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/searcher"
	bindex "github.com/blevesearch/bleve_index_api"
)

// Accept decides, from a document's internal id, whether a filter keeps it.
type Accept func(id bindex.IndexInternalID) bool

// filtered keeps the matches of a query that accept allows. It filters
// after matching, so it pays off when the query matches far fewer
// documents than the filter would: a date range checked against a
// column of dates costs nanoseconds per match, where Bleve's numeric range
// query unions dozens of posting lists.
type filtered struct {
	inner  bquery.Query
	accept Accept
}

// Filtered returns q restricted to the documents accept allows. The
// result is only meant as a top-level query.
func Filtered(q bquery.Query, accept Accept) bquery.Query {
	return &filtered{inner: q, accept: accept}
}

func (f *filtered) Searcher(ctx context.Context, r bindex.IndexReader, m mapping.IndexMapping, options search.SearcherOptions) (search.Searcher, error) {
	s, err := f.inner.Searcher(ctx, r, m, options)
	if err != nil {
		return nil, err
	}
	return searcher.NewFilteringSearcher(ctx, s, func(_ *search.SearchContext, d *search.DocumentMatch) bool {
		return f.accept(d.IndexInternalID)
	}), nil
}
