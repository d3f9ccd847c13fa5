package index

import (
	"context"
	"encoding/binary"

	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	bindex "github.com/blevesearch/bleve_index_api"
)

// DayRangeQuery matches the documents of c dated from day lo to day hi
// (see DayNumber), both inclusive, with score 0. Its searcher reads the
// dates from c and needs no setup: skipping ahead to a document checks
// dates forward from it, so one query checks each date at most once.
// Materialising the range as a set cost up to 0.3 ms per query on the
// 114k corpus; matching per-day terms opens one posting list per day.
// c must describe the snapshot the query runs on.
func DayRangeQuery(c *Columns, lo, hi int32) *DayRange {
	return &DayRange{cols: c, lo: lo, hi: hi}
}

// DayRange is the query DayRangeQuery returns.
type DayRange struct {
	cols   *Columns
	lo, hi int32
}

// Searcher implements bleve's query.Query.
func (q *DayRange) Searcher(context.Context, bindex.IndexReader, mapping.IndexMapping, search.SearcherOptions) (search.Searcher, error) {
	from, to := q.cols.DayBounds(q.lo, q.hi)
	return &dayRangeSearcher{q: q, next: from, from: from, to: to}, nil
}

type dayRangeSearcher struct {
	q        *DayRange
	next     uint64 // the first document number not yet checked
	from, to uint64 // the band of numbers that can be in range
}

// seek returns the first document at or after n dated in the range.
func (s *dayRangeSearcher) seek(n uint64) (uint64, bool) {
	day, live := s.q.cols.Day, s.q.cols.Live
	n = max(n, s.from)
	for ; n < s.to && n < uint64(len(day)); n++ {
		if d := day[n]; live[n] && d >= s.q.lo && d <= s.q.hi {
			return n, true
		}
	}
	return n, false
}

func (s *dayRangeSearcher) at(ctx *search.SearchContext, n uint64) (*search.DocumentMatch, error) {
	n, ok := s.seek(n)
	s.next = n + 1
	if !ok {
		return nil, nil
	}
	dm := ctx.DocumentMatchPool.Get()
	dm.IndexInternalID = binary.BigEndian.AppendUint64(dm.IndexInternalID[:0], n)
	dm.Score = 0
	return dm, nil
}

func (s *dayRangeSearcher) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	return s.at(ctx, s.next)
}

func (s *dayRangeSearcher) Advance(ctx *search.SearchContext, id bindex.IndexInternalID) (*search.DocumentMatch, error) {
	return s.at(ctx, max(DocNum(id), s.next))
}

func (s *dayRangeSearcher) Close() error               { return nil }
func (s *dayRangeSearcher) Weight() float64            { return 0 }
func (s *dayRangeSearcher) SetQueryNorm(float64)       {}
func (s *dayRangeSearcher) Count() uint64              { return uint64(len(s.q.cols.Day)) }
func (s *dayRangeSearcher) Min() int                   { return 0 }
func (s *dayRangeSearcher) Size() int                  { return 64 }
func (s *dayRangeSearcher) DocumentMatchPoolSize() int { return 1 }
