package query

import (
	"context"

	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	bquery "github.com/blevesearch/bleve/v2/search/query"
	bindex "github.com/blevesearch/bleve_index_api"
)

// Interruptible returns q with a searcher that stops, with the context's
// error, soon after the search's context is done: its posting lists check
// the context every InterruptEvery steps.
//
// Bleve's collector looks at the context only once per 1,024 matches, and
// a search that finds few matches but walks many candidates never gets
// there. Measured on the real corpus: a conjunction of 32 two- and
// three-word phrases of common words walked tens of thousands of
// candidates, each checked against the term positions, for 108 ms and
// found none; with one word no event has, relaxed into a disjunction of
// the phrases, 0.5-0.67 s, past a 200 ms deadline. Checking at each step
// of the phrase searchers was not enough: one step of a phrase that
// rarely matches walks all its candidates (up to 66 ms). So the check is
// at the bottom, in every posting list the phrase or prefix reads: the
// longest time past the deadline is then InterruptEvery postings and the
// candidates among them.
func Interruptible(q bquery.Query) bquery.Query { return interruptible{q} }

// InterruptEvery is how many steps of a posting list pass between two
// looks at the context: a step costs tens of nanoseconds, a look a few.
const InterruptEvery = 64

type interruptible struct{ bquery.Query }

func (q interruptible) Searcher(ctx context.Context, i bindex.IndexReader, m mapping.IndexMapping, opts search.SearcherOptions) (search.Searcher, error) {
	// A reader that scores with BM25 must stay a BM25Reader, or the
	// searchers would score without the field lengths.
	if r, ok := i.(bindex.BM25Reader); ok {
		i = interruptBM25Reader{BM25Reader: r, ctx: ctx}
	} else {
		i = interruptReader{IndexReader: i, ctx: ctx}
	}
	return q.Query.Searcher(ctx, i, m, opts)
}

// interruptReader hands out posting lists that check ctx.
type interruptReader struct {
	bindex.IndexReader
	ctx context.Context
}

func (r interruptReader) TermFieldReader(ctx context.Context, term []byte, field string, includeFreq, includeNorm, includeTermVectors bool) (bindex.TermFieldReader, error) {
	tfr, err := r.IndexReader.TermFieldReader(ctx, term, field, includeFreq, includeNorm, includeTermVectors)
	return interruptTerms(r.ctx, tfr, err)
}

// interruptBM25Reader is interruptReader for a BM25Reader (Bleve's scorch
// index, which newsdesk uses).
type interruptBM25Reader struct {
	bindex.BM25Reader
	ctx context.Context
}

func (r interruptBM25Reader) TermFieldReader(ctx context.Context, term []byte, field string, includeFreq, includeNorm, includeTermVectors bool) (bindex.TermFieldReader, error) {
	tfr, err := r.BM25Reader.TermFieldReader(ctx, term, field, includeFreq, includeNorm, includeTermVectors)
	return interruptTerms(r.ctx, tfr, err)
}

// interruptTerms makes a posting list check ctx, the context of the
// search that asked for it.
func interruptTerms(ctx context.Context, tfr bindex.TermFieldReader, err error) (bindex.TermFieldReader, error) {
	if err != nil || tfr == nil {
		return tfr, err
	}
	return &interruptTFR{TermFieldReader: tfr, ctx: ctx, done: ctx.Done()}, nil
}

// interruptTFR is a posting list that returns the context's error once it
// is done, looking every InterruptEvery steps.
type interruptTFR struct {
	bindex.TermFieldReader
	ctx   context.Context
	done  <-chan struct{}
	steps int
}

func (t *interruptTFR) interrupted() error {
	if t.steps++; t.steps%InterruptEvery != 0 {
		return nil
	}
	select {
	case <-t.done:
		return t.ctx.Err()
	default:
		return nil
	}
}

func (t *interruptTFR) Next(pre *bindex.TermFieldDoc) (*bindex.TermFieldDoc, error) {
	if err := t.interrupted(); err != nil {
		return nil, err
	}
	return t.TermFieldReader.Next(pre)
}

func (t *interruptTFR) Advance(id bindex.IndexInternalID, pre *bindex.TermFieldDoc) (*bindex.TermFieldDoc, error) {
	if err := t.interrupted(); err != nil {
		return nil, err
	}
	return t.TermFieldReader.Advance(id, pre)
}

// Optimize passes Bleve's optimizations on to the posting list (scorch
// narrows a phrase's lists to the events holding every word): without
// it, a wrapped phrase would walk each list whole. An optimization that
// replaces the lists ("unadorned", when nothing is scored) reads bitmaps
// at a few nanoseconds an event, past any deadline's concern.
func (t *interruptTFR) Optimize(kind string, octx bindex.OptimizableContext) (bindex.OptimizableContext, error) {
	if o, ok := t.TermFieldReader.(bindex.Optimizable); ok {
		return o.Optimize(kind, octx)
	}
	return nil, nil
}
