package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
	bmapping "github.com/blevesearch/bleve/v2/mapping"
	"github.com/rs/zerolog"
)

// Defaults for BuildConfig.
const (
	// DefaultBatchSize is the documents per Bleve batch. Measured on the
	// 114k-event corpus with two workers: 2,000 beat 1,000 (more merging)
	// and 5,000 (bigger in-memory segments, more GC).
	DefaultBatchSize = 2000
)

// BuildConfig configures a Builder.
type BuildConfig struct {
	// Mapping is the index mapping; required.
	Mapping bmapping.IndexMapping
	// Workers is how many batches are mapped, analysed and turned into
	// segments at once. Zero means GOMAXPROCS.
	Workers int
	// BatchSize is the documents per batch. Zero means DefaultBatchSize.
	BatchSize int
	// Logger receives debug lines about the build. The zero value logs
	// nothing.
	Logger zerolog.Logger
	// Now gives the time used to name the generation. Nil means time.Now.
	Now func() time.Time
}

// Builder writes a new generation of the index. Add documents, then
// Publish to make it current, or Abort to throw it away. A Builder holds
// the directory's build lock from NewBuilder until Publish or Abort.
//
// Add is not safe for concurrent use; Added may be called from any
// goroutine.
type Builder struct {
	dir    *Dir
	cfg    BuildConfig
	name   string
	path   string
	idx    bleve.Index
	unlock func()

	seen  map[string]struct{}
	late  []pending // later copies of ids already handed to a worker, in order
	chunk []pending
	work  chan []pending
	wg    sync.WaitGroup
	added atomic.Int64

	journalOffset int64             // how much of the journal the build replayed
	streamSeq     *uint64           // how much of the update stream it replayed, if it did
	internal      map[string][]byte // Bleve internal data to store in the generation

	errOnce sync.Once
	err     error
	failed  chan struct{}
	done    bool
}

type pending struct {
	id  string
	doc any // nil: delete id
}

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
	idx, err := bleve.NewUsing(path, cfg.Mapping, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("create generation %s: %w", name, err)
	}
	b := &Builder{
		dir: d, cfg: cfg, name: name, path: path, idx: idx, unlock: unlock,
		seen:   make(map[string]struct{}, 1<<17),
		work:   make(chan []pending, cfg.Workers),
		failed: make(chan struct{}),
	}
	for range cfg.Workers {
		b.wg.Add(1)
		go b.worker()
	}
	cfg.Logger.Debug().Str("generation", name).Int("workers", cfg.Workers).Int("batch_size", cfg.BatchSize).Msg("build started")
	return b, nil
}

// Generation returns the name the new generation will be published under.
func (b *Builder) Generation() string { return b.name }

// Added returns how many documents have been indexed so far.
func (b *Builder) Added() int64 { return b.added.Load() }

// SetJournalOffset records how much of the directory's journal (bytes)
// the build replayed; the published generation remembers it, so that a
// server swapping it in applies the updates journaled since.
func (b *Builder) SetJournalOffset(offset int64) { b.journalOffset = offset }

// SetInternal stores val under key in the generation's Bleve internal
// data (readers get it with IndexReader.GetInternal): what the build
// learnt of the whole corpus, such as average field lengths.
func (b *Builder) SetInternal(key string, val []byte) {
	if b.internal == nil {
		b.internal = map[string][]byte{}
	}
	b.internal[key] = val
}

// Delete removes id from the build, whenever it was added: the document
// is deleted after all workers finish, in order with later copies, so an
// Add after a Delete brings it back.
func (b *Builder) Delete(id string) {
	if _, seen := b.seen[id]; !seen {
		return
	}
	b.late = append(b.late, pending{id: id})
}

// Add queues a document for indexing. When the same id is added more than
// once, the last document added wins. Add blocks while the workers are
// busy, and returns the first indexing error once one has happened.
func (b *Builder) Add(id string, doc any) error {
	if b.done {
		return errors.New("add: build already finished")
	}
	if _, dup := b.seen[id]; dup {
		// An earlier copy may be in a batch another worker is indexing
		// right now; re-indexing this one after all workers finish makes
		// the last copy win whatever the workers' order.
		b.late = append(b.late, pending{id, doc})
		return nil
	}
	b.seen[id] = struct{}{}
	b.chunk = append(b.chunk, pending{id, doc})
	if len(b.chunk) >= b.cfg.BatchSize {
		return b.flush()
	}
	return b.failure()
}

func (b *Builder) flush() error {
	if len(b.chunk) == 0 {
		return b.failure()
	}
	select {
	case b.work <- b.chunk:
	case <-b.failed:
	}
	b.chunk = make([]pending, 0, b.cfg.BatchSize)
	return b.failure()
}

func (b *Builder) worker() {
	defer b.wg.Done()
	for chunk := range b.work {
		if b.failure() != nil {
			continue // drain
		}
		if err := b.index(chunk); err != nil {
			b.fail(err)
		}
	}
}

func (b *Builder) index(chunk []pending) error {
	batch := b.idx.NewBatch()
	for _, p := range chunk {
		if err := batch.Index(p.id, p.doc); err != nil {
			return fmt.Errorf("index %s: %w", p.id, err)
		}
	}
	if err := b.idx.Batch(batch); err != nil {
		return fmt.Errorf("index batch: %w", err)
	}
	b.added.Add(int64(len(chunk)))
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

// finish waits for the workers and indexes the late duplicates.
func (b *Builder) finish() error {
	if b.done {
		return errors.New("build already finished")
	}
	b.done = true
	err := b.flush()
	close(b.work)
	b.wg.Wait()
	if err == nil {
		err = b.failure()
	}
	if err == nil && len(b.late) > 0 {
		batch := b.idx.NewBatch()
		for _, p := range b.late {
			if p.doc == nil {
				batch.Delete(p.id)
				delete(b.seen, p.id)
				continue
			}
			b.seen[p.id] = struct{}{}
			if err := batch.Index(p.id, p.doc); err != nil {
				return fmt.Errorf("index %s: %w", p.id, err)
			}
		}
		if err := b.idx.Batch(batch); err != nil {
			return fmt.Errorf("index late batch: %w", err)
		}
	}
	return err
}

// Generation describes a published generation.
type Generation struct {
	Name     string `json:"generation"`
	Docs     uint64 `json:"docs"`
	Previous string `json:"previous,omitempty"`
}

// Publish finishes the build and makes it the current generation: it
// waits for indexing, closes and syncs the new index, checks that it
// reopens with every document, moves it into generations/ and points
// CURRENT at it. Generations other than the new and the previous one are
// removed. On error nothing is published and the build is thrown away.
func (b *Builder) Publish(ctx context.Context) (gen Generation, err error) {
	defer b.unlock()
	defer func() {
		if err != nil {
			_ = os.RemoveAll(b.path)
		}
	}()
	err = b.finish()
	for k, v := range b.internal {
		if err == nil {
			err = b.idx.SetInternal([]byte(k), v)
		}
	}
	want := uint64(len(b.seen))
	if err == nil {
		var got uint64
		if got, err = b.idx.DocCount(); err == nil && got != want {
			err = fmt.Errorf("index holds %d documents, want %d", got, want)
		}
	}
	if cerr := b.idx.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close new generation: %w", cerr)
	}
	if err != nil {
		return Generation{}, fmt.Errorf("build generation %s: %w", b.name, err)
	}
	if want == 0 {
		return Generation{}, ErrEmptyBuild
	}
	if err := compact(ctx, b.path); err != nil {
		return Generation{}, fmt.Errorf("build generation %s: %w", b.name, err)
	}
	if err := ctx.Err(); err != nil {
		return Generation{}, fmt.Errorf("publish generation %s: %w", b.name, err)
	}
	if err := writeOffset(filepath.Join(b.path, journalOffsetFile), b.journalOffset); err != nil {
		return Generation{}, err
	}
	if b.streamSeq != nil {
		if err := writeOffset(filepath.Join(b.path, streamSeqFile), int64(*b.streamSeq)); err != nil {
			return Generation{}, err
		}
	}
	if err := syncTree(b.path); err != nil {
		return Generation{}, fmt.Errorf("sync new generation: %w", err)
	}
	if err := check(b.path, b.cfg.Mapping, want); err != nil {
		return Generation{}, fmt.Errorf("check new generation %s: %w", b.name, err)
	}
	previous, _ := b.dir.Current()
	final := b.dir.GenerationPath(b.name)
	if err := os.Rename(b.path, final); err != nil {
		return Generation{}, fmt.Errorf("move new generation into place: %w", err)
	}
	if err := syncDir(filepath.Dir(final)); err != nil {
		return Generation{}, err
	}
	if err := b.dir.setCurrent(b.name); err != nil {
		return Generation{}, err
	}
	keep := []string{b.name}
	if previous != "" {
		keep = append(keep, previous)
	}
	if err := b.dir.prune(keep...); err != nil {
		b.cfg.Logger.Warn().Err(err).Msg("could not remove old generations")
	}
	b.cfg.Logger.Debug().Str("generation", b.name).Uint64("docs", want).Msg("generation published")
	return Generation{Name: b.name, Docs: want, Previous: previous}, nil
}

// Abort throws the build away. It is safe to call after Publish, where it
// does nothing.
func (b *Builder) Abort() error {
	if b.done {
		return nil
	}
	defer b.unlock()
	b.fail(errors.New("build aborted"))
	_ = b.finish()
	err := b.idx.Close()
	if rerr := os.RemoveAll(b.path); err == nil {
		err = rerr
	}
	return err
}

// compact merges the closed index at path into one segment, so that
// servers open it as it will be searched: a build leaves a couple of dozen
// segments, and one segment searches about three times faster. (Bleve
// merges only segments already written to disk, hence on the closed
// index.)
func compact(ctx context.Context, path string) (err error) {
	idx, err := bleve.OpenUsing(path, readWrite)
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	defer func() {
		if cerr := idx.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("compact: %w", cerr)
		}
	}()
	adv, err := idx.Advanced()
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	s, ok := adv.(*scorch.Scorch)
	if !ok {
		return fmt.Errorf("compact: the index is %T, not scorch", adv)
	}
	// One merge task for all segments: the default of 10 per task leaves
	// a build of 23 segments in 3.
	o := mergeplan.SingleSegmentMergePlanOptions
	o.SegmentsPerMergeTask = 1 << 16
	if err := s.ForceMerge(ctx, &o); err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	return waitPersisted(ctx, s)
}

// waitPersisted waits until s has written its current snapshot to disk:
// closing the index earlier would leave the merge unrecorded.
func waitPersisted(ctx context.Context, s *scorch.Scorch) error {
	for {
		m := s.StatsMap()
		root, _ := m["CurRootEpoch"].(uint64)
		persisted, _ := m["LastPersistedEpoch"].(uint64)
		if persisted >= root {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
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
