package index

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
	bmapping "github.com/blevesearch/bleve/v2/mapping"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/newsdesk/newsdesk"
)

// Index is an open, read-only generation of the index.
//
// It is safe for concurrent use. Whoever opens it closes it.
type Index struct {
	bleve.Index
	// Generation is the name of the open generation. Immutable.
	Generation string
}

// Open opens d's current generation read-only. It fails with an error
// wrapping newsdesk.ErrNoGeneration when nothing is published, and with
// newsdesk.ErrMappingMismatch when the generation was built with a mapping
// other than m.
func (d *Dir) Open(m bmapping.IndexMapping) (*Index, error) {
	name, err := d.Current()
	if err != nil {
		return nil, err
	}
	return d.OpenGeneration(name, m)
}

// OpenGeneration opens the named published generation read-only; see Open.
func (d *Dir) OpenGeneration(name string, m bmapping.IndexMapping) (*Index, error) {
	idx, err := openChecked(d.GenerationPath(name), m, readOnly)
	if err != nil {
		return nil, fmt.Errorf("open generation %s: %w", name, err)
	}
	return &Index{Index: idx, Generation: name}, nil
}

// OpenServing opens d's current generation for a server: writable, so
// that the server can Compact it (and, later, apply updates). Only one
// process may hold a generation open this way; a read-only Open by another
// process waits up to a second for it and then fails.
func (d *Dir) OpenServing(m bmapping.IndexMapping) (*Index, error) {
	name, err := d.Current()
	if err != nil {
		return nil, err
	}
	return d.OpenGenerationServing(name, m)
}

// OpenGenerationServing opens the named generation as OpenServing does.
func (d *Dir) OpenGenerationServing(name string, m bmapping.IndexMapping) (*Index, error) {
	idx, err := openChecked(d.GenerationPath(name), m, readWrite)
	if err != nil {
		return nil, fmt.Errorf("open generation %s: %w", name, err)
	}
	return &Index{Index: idx, Generation: name}, nil
}

// Compact merges the index's segments into one. A build leaves a
// generation in a couple of dozen segments (merging them inside the build
// would cost it a third more time); searching one segment is about three
// times faster. Searches go on during Compact and see the merged segment
// once it is done. The index must have been opened with OpenServing.
func (x *Index) Compact(ctx context.Context) error {
	s, err := x.scorch()
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	if err := s.ForceMerge(ctx, &mergeplan.SingleSegmentMergePlanOptions); err != nil {
		return fmt.Errorf("compact generation %s: %w", x.Generation, err)
	}
	return nil
}

// Segments returns how many document numbers the index's first segment
// spans and how many segments follow it. After Compact there is one
// segment; each batch written since (a bulk update) adds one.
func (x *Index) Segments() (first uint64, rest int, err error) {
	snap, done, err := x.snapshot()
	if err != nil {
		return 0, 0, err
	}
	defer done()
	segs := snap.Segments()
	if len(segs) == 0 {
		return 0, 0, nil
	}
	return segs[0].Count(), len(segs) - 1, nil
}

// Kept returns how many document numbers, from the first, keep their
// documents when a batch updating or deleting ids is written: scorch drops
// a segment whose every live document the batch replaces or deletes, and
// the documents of the segments after it move down.
func (x *Index) Kept(ids []string) (uint64, error) {
	snap, done, err := x.snapshot()
	if err != nil {
		return 0, err
	}
	defer done()
	var offset uint64
	for _, seg := range snap.Segments() {
		live := seg.DocNumbersLive()
		hit, err := seg.DocNumbers(ids)
		if err != nil {
			return 0, fmt.Errorf("index %s: %w", x.Generation, err)
		}
		if n := live.GetCardinality(); n > 0 && live.AndCardinality(hit) == n {
			return offset, nil
		}
		offset += seg.Count()
	}
	return offset, nil
}

// MergeTail merges the segments after the first (written by updates since
// Compact) into one, leaving the first segment alone. Scorch keeps the
// segments it does not merge in place and appends the merged one, so the
// documents of the first segment keep their numbers: a search engine whose
// columns are cut to them (Columns.Truncate) stays right during the merge.
// Segments still in memory are left for a later merge.
func (x *Index) MergeTail(ctx context.Context) error {
	snap, done, err := x.snapshot()
	if err != nil {
		return err
	}
	segs := snap.Segments()
	var firstLive int64
	if len(segs) > 0 {
		firstLive = segs[0].LiveSize()
	}
	done()
	if len(segs) < 3 || firstLive < 2 {
		return nil // nothing to merge, or no first segment to keep apart
	}
	s, err := x.scorch()
	if err != nil {
		return err
	}
	// A segment can be merged when its live size is under half of
	// MaxSegmentSize: the first one just cannot, the others (each smaller
	// than it) can, all in one task.
	o := mergeplan.SingleSegmentMergePlanOptions
	o.MaxSegmentSize = 2 * firstLive
	o.SegmentsPerMergeTask = max(len(segs), 2)
	if err := s.ForceMerge(ctx, &o); err != nil {
		return fmt.Errorf("merge update segments of %s: %w", x.Generation, err)
	}
	return nil
}

// Reader opens a reader over the index's current snapshot: what it reads
// does not change under it, whatever is written meanwhile. Close it.
func (x *Index) Reader() (bindex.IndexReader, error) {
	adv, err := x.Advanced()
	if err != nil {
		return nil, err
	}
	return adv.Reader()
}

// snapshot returns the index's current scorch snapshot and the function
// that releases it.
func (x *Index) snapshot() (*scorch.IndexSnapshot, func(), error) {
	r, err := x.Reader()
	if err != nil {
		return nil, nil, err
	}
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		r.Close()
		return nil, nil, fmt.Errorf("index %s: reader is %T, not a scorch snapshot", x.Generation, r)
	}
	return snap, func() { _ = r.Close() }, nil
}

// scorch returns the index's scorch implementation.
func (x *Index) scorch() (*scorch.Scorch, error) {
	adv, err := x.Advanced()
	if err != nil {
		return nil, err
	}
	s, ok := adv.(*scorch.Scorch)
	if !ok {
		return nil, fmt.Errorf("index %s is %T, not scorch", x.Generation, adv)
	}
	return s, nil
}

var (
	readOnly = map[string]interface{}{"read_only": true, "bolt_timeout": "1s"}
	// readWrite keeps Bleve from merging segments in the background: a
	// merge renumbers documents, and the search engine's columns are
	// indexed by document number. Segments are merged only by Compact,
	// after which the engine is reloaded. (No segment is small enough to
	// be merged: MaxSegmentSize 1.)
	readWrite = map[string]interface{}{"bolt_timeout": "1s",
		"scorchMergePlanOptions": map[string]interface{}{"MaxSegmentSize": 1}}
)

func openChecked(path string, m bmapping.IndexMapping, config map[string]interface{}) (_ bleve.Index, err error) {
	idx, err := bleve.OpenUsing(path, config)
	if err != nil {
		if strings.Contains(err.Error(), "timeout") {
			return nil, fmt.Errorf("%w (another process, such as a running searchd, holds it open for writing)", err)
		}
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = idx.Close()
		}
	}()
	stored, err := json.Marshal(idx.Mapping())
	if err != nil {
		return nil, fmt.Errorf("read stored mapping: %w", err)
	}
	want, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode mapping: %w", err)
	}
	if !bytes.Equal(stored, want) {
		return nil, fmt.Errorf("%w: rebuild the index with this version (indexer build)", newsdesk.ErrMappingMismatch)
	}
	return idx, nil
}
