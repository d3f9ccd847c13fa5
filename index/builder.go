package index

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/document"
	bmapping "github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/util"
	bindex "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
	zapv17 "github.com/blevesearch/zapx/v17"
	"github.com/rs/zerolog"
)

// Defaults for BuildConfig.
const (
	// DefaultBatchSize is the documents per segment a worker builds.
	// Measured on the 114k-event corpus with two workers, under the
	// indexer's memory cap: 2,000 took less CPU than 5,000 or 10,000
	// (bigger segments' term maps and the documents waiting for them
	// meant more collection), though each segment's term dictionaries
	// are built again by the merge.
	DefaultBatchSize = 2000
)

// BuildConfig configures a Builder.
type BuildConfig struct {
	// Mapping is the index mapping; required. It is stored in the new
	// generation (Bleve's internal "_mapping"), and documents given to
	// Add are mapped with it unless Converter is set.
	Mapping bmapping.IndexMapping
	// Converter, if not nil, makes for each worker the function that turns
	// the values given to Add into analysed documents, with a length
	// (AverageLength averages the lengths of the documents published). Each
	// function is called from one goroutine only. Nil means Mapping maps
	// each value, as Bleve would, with length 0.
	Converter func() Convert
	// Workers is how many segments are built at once. Zero means
	// GOMAXPROCS.
	Workers int
	// BatchSize is the documents per segment. Zero means DefaultBatchSize.
	BatchSize int
	// Logger receives debug lines about the build. The zero value logs
	// nothing.
	Logger zerolog.Logger
	// Now gives the time used to name the generation. Nil means time.Now.
	Now func() time.Time
}

// Convert turns the value v given to Builder.Add for id into its analysed
// document, ready for a segment (its _id field added, its fields
// analysed), and the length the build averages.
type Convert func(id string, v any) (doc bindex.Document, length int, err error)

// Builder writes a new generation of the index. Add documents, then
// Publish to make it current, or Abort to throw it away. A Builder holds
// the directory's build lock from NewBuilder until Publish or Abort.
//
// The documents go in batches to workers, each of which analyses its
// batch and writes it as a segment file. While there are many, runs of
// MergeFanIn adjacent segments are merged into one in the background
// (see MaxFinalFanIn), and Publish
// merges what is left into the generation's one segment, leaving out the
// documents replaced or deleted meanwhile, and writes Bleve's root file
// beside it. The generation is a Bleve (scorch) index like any other, in
// the layout of Bleve's own offline builder.
//
// Add and Delete are not safe for concurrent use; Added may be called from
// any goroutine.
type Builder struct {
	dir    *Dir
	cfg    BuildConfig
	name   string
	path   string
	unlock func()

	// Documents are numbered as added, across segments: a segment holds a
	// run of numbers, and a merge of adjacent segments the union of their
	// runs, replaced copies included (they are left out by the last merge
	// only, so numbers never move). loc holds each id's current number.
	loc     *idMap
	dropped *roaring.Bitmap // the numbers replaced or deleted
	seq     uint32          // the number the next document gets
	chunk   []pending
	fresh   int // of chunk
	work    chan batch
	wg      sync.WaitGroup
	added   atomic.Int64

	mu      sync.Mutex // guards parts and lengths
	parts   []*part    // the segments, in document order
	lengths []lengthRun
	wake    chan struct{} // tells the merger a segment is ready
	big     bool          // the build has had more than MaxFinalFanIn parts: merge in the background
	merger  sync.WaitGroup

	journalOffset int64             // how much of the journal the build replayed
	journalMark   string            // the journal's mark there, taken as it was replayed
	clearJournal  bool              // Publish clears the journal (ClearJournalOnPublish)
	keepFrom      int64             // of the journal cleared, the updates kept from there
	streamSeq     *uint64           // how much of the update stream it replayed, if it did
	streamDrop    *uint64           // how much of the update stream it dropped, if it did
	streamID      string            // which update stream streamSeq counts in, if known
	internal      map[string][]byte // Bleve internal data to store in the generation

	errOnce  sync.Once
	err      error
	failed   chan struct{}
	done     bool // no more Add
	finished bool // workers done
	// ended: Publish or Abort ran, and released the lock and the
	// temporary files. Not done: a build that failed in AverageLength is
	// done but still needs Abort's cleanup.
	ended  bool
	finErr error // of finish
}

type pending struct {
	id string
	v  any
}

type batch struct {
	part  *part
	items []pending
	fresh int // items whose id no earlier batch had: what Added counts
}

// part is a segment file of the build: documents first to first+count-1.
type part struct {
	first, count uint32
	level        int    // 0: written by a worker; n: a merge of level n-1 parts
	path         string // once ready
	ready        bool   // written, and not being merged
}

// lengthRun is the lengths of documents first, first+1, ...
type lengthRun struct {
	first   uint32
	lengths []int32
}

// Background merging. zap's merge compares each term of every segment it
// merges with the current one of all the others, so its cost grows with
// the number of segments times their terms: merging the 572 segments of
// ten times the corpus at once took most of a 270 s build. And each
// merge writes its documents again (their ids' dictionary, 140 MB at ten
// times the corpus, above all), so each level of merges costs about as
// much as the first. Once a build has had more than MaxFinalFanIn
// segments, the background merger merges runs of MergeFanIn adjacent
// segments written by workers into one as they are ready; it merges the
// merged ones again only while there are more than MaxFinalFanIn
// segments, so that the end merges at most about that many. Ten times the
// corpus (572 segments) is merged twice, not three times as by 16 at
// every level: 94-103 s against 103-107 s, and 7% less CPU. A smaller
// build, such as the real corpus (57 segments), is merged once, at the
// end, which measured 3 s of CPU less than merging it by 16 first.
const (
	MergeFanIn    = 24
	MaxFinalFanIn = 64
)

// segPlugin writes the segments: zap v17, the format Bleve writes by default.
var segPlugin = &zapv17.ZapPlugin{}

// NewBuilder starts a new generation in d's tmp directory. It fails with
// ErrLocked if another build is running, and removes what crashed builds
// left behind.
func (d *Dir) NewBuilder(cfg BuildConfig) (_ *Builder, err error) {
	if cfg.Mapping == nil {
		return nil, errors.New("new builder: no mapping")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	unlock, err := d.lock()
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			unlock()
		}
	}()
	if err := d.cleanTmp(); err != nil {
		return nil, err
	}
	name := newGenerationName(cfg.Now())
	path := filepath.Join(d.path, tmpDir, name)
	if err := os.MkdirAll(filepath.Join(path, partsDir), 0o755); err != nil {
		return nil, fmt.Errorf("create generation %s: %w", name, err)
	}
	b := &Builder{
		dir: d, cfg: cfg, name: name, path: path, unlock: unlock,
		loc:     newIDMap(),
		dropped: roaring.New(),
		work:    make(chan batch, cfg.Workers),
		wake:    make(chan struct{}, 1),
		failed:  make(chan struct{}),
	}
	b.merger.Add(1)
	go b.mergeLoop()
	for range cfg.Workers {
		convert := mapped(cfg.Mapping)
		if cfg.Converter != nil {
			convert = cfg.Converter()
		}
		b.wg.Add(1)
		go b.worker(convert)
	}
	cfg.Logger.Debug().Str("generation", name).Int("workers", cfg.Workers).Int("batch_size", cfg.BatchSize).Msg("build started")
	return b, nil
}

// partsDir holds the workers' segments inside a generation being built.
const partsDir = "parts"

// mapped returns the Convert that maps values with m, as Bleve's index
// does: its document path, for any mapping and any value.
func mapped(m bmapping.IndexMapping) Convert {
	return func(id string, v any) (bindex.Document, int, error) {
		doc := document.NewDocument(id)
		if err := m.MapDocument(doc, v); err != nil {
			return nil, 0, err
		}
		doc.AddIDField()
		for _, f := range doc.Fields {
			if f.Options().IsIndexed() {
				f.Analyze()
			}
		}
		return doc, 0, nil
	}
}

// Generation returns the name the new generation will be published under.
func (b *Builder) Generation() string { return b.name }

// Added returns how many documents have been indexed so far, each id
// counted once.
func (b *Builder) Added() int64 { return b.added.Load() }

// SetJournalOffset records how much of the directory's journal (bytes)
// the build replayed; the published generation remembers it, so that a
// server swapping it in applies the updates journaled since. Call it as
// the replay ends: it takes the journal's mark there (JournalOffset),
// before the merge's minutes, in which the journal could be replaced.
func (b *Builder) SetJournalOffset(offset int64) {
	b.journalOffset, b.journalMark = offset, ""
	if offset > 0 {
		b.journalMark = b.dir.Journal().mark(offset)
	}
}

// ClearJournalOnPublish makes Publish clear the directory's journal of
// its first keep bytes (a build that drops the updates journaled before
// it began; those acknowledged while it ran are kept, and applied to the
// new generation) once the new generation is written and checked, just
// before it becomes current: a build that fails keeps the journal, whose
// updates searchd has acknowledged and may still serve from, and a
// server swapping the new generation in does not apply the dropped
// updates to it.
func (b *Builder) ClearJournalOnPublish(keep int64) { b.clearJournal, b.keepFrom = true, keep }

// SetInternal stores val under key in the generation's Bleve internal
// data (readers get it with IndexReader.GetInternal): what the build
// learnt of the whole corpus, such as average field lengths.
func (b *Builder) SetInternal(key string, val []byte) {
	if b.internal == nil {
		b.internal = map[string][]byte{}
	}
	b.internal[key] = val
}

// Delete removes id from the build, whenever it was added; an Add after
// it brings the id back.
func (b *Builder) Delete(id string) {
	if n, ok := b.loc.get(id); ok {
		b.dropped.Add(n)
		b.loc.remove(id)
	}
}

// Add queues a value for indexing under id (see BuildConfig.Converter).
// When the same id is added more than once, the last value added wins.
// Add blocks while the workers are busy, and returns the first indexing
// error once one has happened.
func (b *Builder) Add(id string, v any) error {
	if b.done {
		return errors.New("add: build already finished")
	}
	if n, dup := b.loc.get(id); dup {
		b.dropped.Add(n)
	} else {
		b.fresh++
	}
	b.loc.set(id, b.seq)
	b.seq++
	b.chunk = append(b.chunk, pending{id, v})
	if len(b.chunk) >= b.cfg.BatchSize {
		return b.flush()
	}
	return b.failure()
}

// flush hands the current batch to a worker; it becomes the next segment.
func (b *Builder) flush() error {
	if len(b.chunk) == 0 {
		return b.failure()
	}
	p := &part{first: b.seq - uint32(len(b.chunk)), count: uint32(len(b.chunk))}
	b.mu.Lock()
	b.parts = append(b.parts, p)
	b.mu.Unlock()
	select {
	case b.work <- batch{part: p, items: b.chunk, fresh: b.fresh}:
	case <-b.failed:
	}
	b.chunk, b.fresh = make([]pending, 0, b.cfg.BatchSize), 0
	return b.failure()
}

func (b *Builder) worker(convert Convert) {
	defer b.wg.Done()
	for job := range b.work {
		if b.failure() != nil {
			continue // drain
		}
		if err := b.build(convert, job); err != nil {
			b.fail(err)
		}
	}
}

// build converts a batch and writes it as the segment file of its part.
func (b *Builder) build(convert Convert, job batch) error {
	docs := make([]bindex.Document, len(job.items))
	lengths := make([]int32, len(job.items))
	for i, p := range job.items {
		doc, n, err := convert(p.id, p.v)
		if err != nil {
			return fmt.Errorf("index %s: %w", p.id, err)
		}
		docs[i], lengths[i] = doc, int32(n)
	}
	seg, _, err := segPlugin.New(docs)
	if err != nil {
		return fmt.Errorf("build segment: %w", err)
	}
	path := filepath.Join(b.path, partsDir, fmt.Sprintf("%08x.zap", job.part.first))
	err = seg.(segment.UnpersistedSegment).Persist(path)
	if cerr := seg.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write segment: %w", err)
	}
	b.mu.Lock()
	job.part.path, job.part.ready = path, true
	b.lengths = append(b.lengths, lengthRun{first: job.part.first, lengths: lengths})
	b.mu.Unlock()
	b.added.Add(int64(job.fresh))
	select {
	case b.wake <- struct{}{}:
	default:
	}
	return nil
}

// mergeLoop merges runs of MergeFanIn adjacent ready segments of a level
// into one of the next level, as they become ready, until the workers
// are done (finish closes wake) or the build fails.
func (b *Builder) mergeLoop() {
	defer b.merger.Done()
	for range b.wake {
		for b.failure() == nil {
			run := b.nextRun()
			if run == nil {
				break
			}
			if err := b.mergeRun(run); err != nil {
				b.fail(err)
			}
		}
	}
}

// nextRun returns the first run of MergeFanIn adjacent ready parts of one
// level, marked not ready (being merged), or nil when there is none or
// when the parts are few enough to be merged at the end. Merged parts are
// merged again only while there are more than MaxFinalFanIn parts.
func (b *Builder) nextRun() []*part {
	b.mu.Lock()
	defer b.mu.Unlock()
	return nextRun(b.parts, &b.big)
}

// nextRun is Builder.nextRun over parts; big records that they were once
// more than MaxFinalFanIn.
func nextRun(parts []*part, big *bool) []*part {
	if len(parts) > MaxFinalFanIn {
		*big = true
	}
	if !*big {
		return nil
	}
	for i := 0; i+MergeFanIn <= len(parts); i++ {
		run := parts[i : i+MergeFanIn]
		ok := run[0].level == 0 || len(parts) > MaxFinalFanIn
		for _, p := range run {
			if !ok || !p.ready || p.level != run[0].level {
				ok = false
				break
			}
		}
		if ok {
			for _, p := range run {
				p.ready = false
			}
			return slices.Clone(run)
		}
	}
	return nil
}

// mergeRun merges run into one part, every document kept, and puts it in
// their place.
func (b *Builder) mergeRun(run []*part) error {
	first := run[0].first
	var count uint32
	for _, p := range run {
		count += p.count
	}
	path := filepath.Join(b.path, partsDir, fmt.Sprintf("%08x-%d.zap", first, run[0].level+1))
	if err := mergeFiles(run, nil, path, b.failed); err != nil {
		return err
	}
	merged := &part{first: first, count: count, level: run[0].level + 1, path: path, ready: true}
	b.mu.Lock()
	i := slices.Index(b.parts, run[0])
	b.parts = slices.Replace(b.parts, i, i+len(run), merged)
	b.mu.Unlock()
	for _, p := range run {
		if err := os.Remove(p.path); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
	}
	return nil
}

// releaseInterval is how often a merge drops the pages it has read of its
// segments from the resident set (releasePages).
var releaseInterval = 200 * time.Millisecond

// mergeFiles merges the segment files of parts into one at path, leaving
// out the documents of drops (by part, numbered within it; nil: none).
// zap stops merging when closeCh closes.
func mergeFiles(parts []*part, drops []*roaring.Bitmap, path string, closeCh chan struct{}) (err error) {
	segs := make([]segment.Segment, 0, len(parts))
	defer func() {
		for _, s := range segs {
			if cerr := s.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("merge: %w", cerr)
			}
		}
	}()
	for _, p := range parts {
		seg, err := segPlugin.Open(p.path)
		if err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		segs = append(segs, seg)
	}
	if drops == nil {
		drops = make([]*roaring.Bitmap, len(parts))
	}
	stop := releasePages(segs, releaseInterval)
	_, _, err = segPlugin.Merge(segs, drops, path, closeCh, nil)
	stop() // before the deferred Close unmaps the segments
	if err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	return nil
}

func (b *Builder) fail(err error) {
	b.errOnce.Do(func() {
		b.err = err
		close(b.failed)
	})
}

func (b *Builder) failure() error {
	select {
	case <-b.failed:
		return b.err
	default:
		return nil
	}
}

// finish flushes the last batch and waits for the workers and the
// background merger. It may be called more than once.
func (b *Builder) finish() error {
	if b.finished {
		return b.finErr
	}
	b.done, b.finished = true, true
	err := b.flush()
	close(b.work)
	b.wg.Wait()
	close(b.wake)
	b.merger.Wait()
	if err == nil {
		err = b.failure()
	}
	b.finErr = err
	return err
}

// AverageLength waits for the documents added so far to be indexed, and
// returns the average length (see BuildConfig.Converter) of those the
// generation will hold. No Add may follow it.
func (b *Builder) AverageLength() (float64, error) {
	if err := b.finish(); err != nil {
		return 0, err
	}
	var sum int64
	for _, r := range b.lengths {
		for i, n := range r.lengths {
			if !b.dropped.Contains(r.first + uint32(i)) {
				sum += int64(n)
			}
		}
	}
	if b.loc.len() == 0 {
		return 0, nil
	}
	return float64(sum) / float64(b.loc.len()), nil
}

// Generation describes a published generation.
type Generation struct {
	Name     string `json:"generation"`
	Docs     uint64 `json:"docs"`
	Previous string `json:"previous,omitempty"`
}

// Publish finishes the build and makes it the current generation: it
// waits for indexing, merges the segments into one, writes and syncs the
// new index, checks that it opens with every document, moves it into
// generations/ and points CURRENT at it. Generations other than the new
// and the previous one are removed. On error nothing is published and the
// build is thrown away.
func (b *Builder) Publish(ctx context.Context) (gen Generation, err error) {
	if b.ended {
		return Generation{}, errors.New("build generation " + b.name + ": the build has ended")
	}
	b.ended = true
	defer b.unlock()
	defer func() {
		if err != nil {
			_ = os.RemoveAll(b.path)
		}
	}()
	if err := b.finish(); err != nil {
		return Generation{}, fmt.Errorf("build generation %s: %w", b.name, err)
	}
	want := uint64(b.loc.len())
	if want == 0 {
		return Generation{}, ErrEmptyBuild
	}
	if err := b.merge(ctx); err != nil {
		return Generation{}, fmt.Errorf("build generation %s: %w", b.name, err)
	}
	if err := b.writeRoot(); err != nil {
		return Generation{}, fmt.Errorf("build generation %s: %w", b.name, err)
	}
	if err := ctx.Err(); err != nil {
		return Generation{}, fmt.Errorf("publish generation %s: %w", b.name, err)
	}
	if err := b.dir.writeJournalOffset(b.path, b.journalOffset, b.journalMark); err != nil {
		return Generation{}, err
	}
	// The generation names the one it follows, for a rollback (Dir.Rollback):
	// names sort by the clock, which may have stepped back since.
	previous, known := b.dir.previous()
	if previous != "" || !known {
		// Unknown is written too, empty: a rollback then says so rather
		// than guess by name what the build would not.
		if err := writeDurably(filepath.Join(b.path, previousFile), previous+"\n"); err != nil {
			return Generation{}, err
		}
	}
	if b.streamSeq != nil {
		if err := writeOffset(filepath.Join(b.path, streamSeqFile), int64(*b.streamSeq)); err != nil {
			return Generation{}, err
		}
	}
	if b.streamID != "" {
		if err := writeDurably(filepath.Join(b.path, streamIDFile), b.streamID+"\n"); err != nil {
			return Generation{}, err
		}
	}
	if b.streamDrop != nil {
		if err := writeOffset(filepath.Join(b.path, streamDropFile), int64(*b.streamDrop)); err != nil {
			return Generation{}, err
		}
	}
	if err := syncTree(b.path); err != nil {
		return Generation{}, fmt.Errorf("sync new generation: %w", err)
	}
	if err := check(b.path, b.cfg.Mapping, want); err != nil {
		return Generation{}, fmt.Errorf("check new generation %s: %w", b.name, err)
	}
	final := b.dir.GenerationPath(b.name)
	if err := os.Rename(b.path, final); err != nil {
		return Generation{}, fmt.Errorf("move new generation into place: %w", err)
	}
	// Until CURRENT names it, the generation moved into place is thrown
	// away on error too.
	defer func() {
		if err != nil {
			_ = os.RemoveAll(final)
		}
	}()
	if err := syncDir(filepath.Dir(final)); err != nil {
		return Generation{}, err
	}
	// The pointer is written before the journal is cleared, and moved
	// after: a build that cannot publish (a full disk) keeps the
	// journal's acknowledged updates.
	commit, err := b.dir.prepareCurrent(b.name)
	if err != nil {
		return Generation{}, err
	}
	if b.clearJournal {
		if err := b.dir.ClearJournal(b.keepFrom); err != nil {
			return Generation{}, fmt.Errorf("publish generation %s: clear the journal: %w", b.name, err)
		}
	}
	if cerr := commit(); errors.Is(cerr, errPointerUnsynced) {
		// Published: servers see it and swap it in.
		b.cfg.Logger.Warn().Err(cerr).Str("generation", b.name).Msg("generation published, but a power cut could bring back the previous one")
	} else if cerr != nil {
		return Generation{}, cerr
	}
	keep := []string{b.name}
	if previous != "" {
		keep = append(keep, previous)
	}
	if !known {
		b.cfg.Logger.Warn().Str("generation", b.name).
			Msg("CURRENT named no generation there before this one: no old generation removed (which one servers serve is unknown)")
	} else if err := b.dir.prune(keep...); err != nil {
		b.cfg.Logger.Warn().Err(err).Msg("could not remove old generations")
	}
	b.cfg.Logger.Debug().Str("generation", b.name).Uint64("docs", want).Msg("generation published")
	return Generation{Name: b.name, Docs: want, Previous: previous}, nil
}

// Abort throws the build away. It is safe to call after Publish, where it
// does nothing.
func (b *Builder) Abort() error {
	if b.ended {
		return nil
	}
	b.ended = true
	defer b.unlock()
	b.fail(errors.New("build aborted"))
	_ = b.finish()
	return os.RemoveAll(b.path)
}

// Where the generation's files go, as Bleve lays out a scorch index; the
// one segment is numbered as Bleve's offline builder numbers it.
const (
	storeDir      = "store"
	segmentID     = 2
	snapshotEpoch = 3
	indexMeta     = `{"storage":"scorch","index_type":"scorch"}`
)

// merge merges the build's segments into the generation's one segment,
// leaving out the documents dropped (replaced or deleted), and removes
// them. One segment is what servers search fastest, and they then open
// the generation without merging.
func (b *Builder) merge(ctx context.Context) error {
	if err := os.MkdirAll(filepath.Join(b.path, storeDir), 0o755); err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	final := filepath.Join(b.path, storeDir, fmt.Sprintf("%012x.zap", segmentID))
	if len(b.parts) == 1 && b.dropped.IsEmpty() {
		if err := os.Rename(b.parts[0].path, final); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		return os.Remove(filepath.Join(b.path, partsDir))
	}
	drops := make([]*roaring.Bitmap, len(b.parts))
	for i, p := range b.parts {
		d := roaring.New()
		it := b.dropped.Iterator()
		it.AdvanceIfNeeded(p.first)
		for it.HasNext() {
			n := it.Next()
			if n >= p.first+p.count {
				break
			}
			d.Add(n - p.first)
		}
		drops[i] = d
	}
	// zap stops merging when its close channel closes: on cancellation.
	closeCh := make(chan struct{})
	stop := context.AfterFunc(ctx, func() { close(closeCh) })
	defer stop()
	if err := mergeFiles(b.parts, drops, final, closeCh); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("merge: %w", ctx.Err())
		}
		return err
	}
	if err := os.RemoveAll(filepath.Join(b.path, partsDir)); err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	return nil
}

// writeRoot writes what makes the merged segment a Bleve index: its meta
// file, and the scorch root (a Bolt file) naming the segment, its format,
// and the internal data: the mapping, as Bleve stores it, and the
// build's.
func (b *Builder) writeRoot() (err error) {
	if err := os.WriteFile(filepath.Join(b.path, "index_meta.json"), []byte(indexMeta), 0o644); err != nil {
		return fmt.Errorf("write index meta: %w", err)
	}
	mapping, err := util.MarshalJSON(b.cfg.Mapping)
	if err != nil {
		return fmt.Errorf("encode mapping: %w", err)
	}
	path := filepath.Join(b.path, storeDir, "root.bolt")
	db, err := util.OpenBolt(path, 0o600, nil)
	if err != nil {
		return fmt.Errorf("write root: %w", err)
	}
	defer func() {
		if cerr := db.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write root: %w", cerr)
		}
	}()
	writer, err := util.NewFileWriter([]byte(path))
	if err != nil {
		return fmt.Errorf("write root: %w", err)
	}
	stamp, err := b.cfg.Now().MarshalText()
	if err != nil {
		return fmt.Errorf("write root: %w", err)
	}
	version := make([]byte, 4)
	binary.BigEndian.PutUint32(version, segPlugin.Version())
	err = db.Update(func(tx *util.BoltTxImpl) error {
		snaps, err := tx.CreateBucketIfNotExists(util.BoltSnapshotsBucket)
		if err != nil {
			return err
		}
		snap, err := snaps.CreateBucketIfNotExists(boltKey(snapshotEpoch))
		if err != nil {
			return err
		}
		meta, err := snap.CreateBucketIfNotExists(util.BoltMetaDataKey)
		if err != nil {
			return err
		}
		for _, kv := range []struct{ k, v []byte }{
			{util.BoltMetaDataSegmentTypeKey, []byte(segPlugin.Type())},
			{util.BoltMetaDataSegmentVersionKey, version},
			{util.BoltMetaDataFileWriterIDKey, []byte(writer.Id())},
			{util.BoltMetaDataTimeStamp, stamp},
		} {
			if err := meta.Put(kv.k, kv.v, writer); err != nil {
				return err
			}
		}
		internal, err := snap.CreateBucketIfNotExists(util.BoltInternalKey)
		if err != nil {
			return err
		}
		if err := internal.Put(util.MappingInternalKey, mapping, writer); err != nil {
			return err
		}
		for k, v := range b.internal {
			if err := internal.Put([]byte(k), v, writer); err != nil {
				return err
			}
		}
		seg, err := snap.CreateBucketIfNotExists(boltKey(segmentID))
		if err != nil {
			return err
		}
		// Empty field statistics, as Bleve persists a segment's: without
		// them a server's working copy merged the segment away with its
		// first updates, and the search engine's term counts (which keep
		// deleted events) changed under TestUpdate_Stress.
		if err := seg.Put(util.BoltStatsKey, []byte("{}"), writer); err != nil {
			return err
		}
		return seg.Put(util.BoltPathKey, []byte(fmt.Sprintf("%012x.zap", segmentID)), writer)
	})
	if err != nil {
		return fmt.Errorf("write root: %w", err)
	}
	return nil
}

// boltKey encodes a small snapshot epoch or segment id as scorch's keys
// do (an order-preserving varint: one byte, 136+v, up to 109).
func boltKey(v uint64) []byte {
	if v > 109 {
		panic("boltKey: only small values are encoded")
	}
	return []byte{136 + byte(v)}
}

// check opens the index at path read-only and verifies its mapping and
// document count.
func check(path string, m bmapping.IndexMapping, want uint64) error {
	idx, _, err := openChecked(path, readOnly, m)
	if err != nil {
		return err
	}
	defer idx.Close()
	got, err := idx.DocCount()
	if err != nil {
		return fmt.Errorf("count documents: %w", err)
	}
	if got != want {
		return fmt.Errorf("reopened index holds %d documents, want %d", got, want)
	}
	return nil
}
