// Package build runs a full index build: it reads input files with ingest,
// resolves duplicate ids, indexes the events into a new generation with
// index.Builder, writes the bad-input report and publishes the generation.
// cmd/indexer and searchd's bootstrap both use it.
package build

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	bmapping "github.com/blevesearch/bleve/v2/mapping"
	bindex "github.com/blevesearch/bleve_index_api"
	"github.com/rs/zerolog"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/entities"
	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/ingest"
	"github.com/newsdesk/newsdesk/mappings"
)

// ErrRefused is a build refused before it began (too little disk space
// for its inputs): nothing was published.
var ErrRefused = errors.New("build refused, nothing published")

// Config configures Run.
type Config struct {
	// Dir is the index directory to publish into; required.
	Dir *index.Dir
	// Files are the input files, read in order; required.
	Files []string
	// Mapping is the index mapping. Nil means mappings.New().
	Mapping bmapping.IndexMapping
	// Workers and BatchSize tune indexing; zero means index's defaults.
	Workers, BatchSize int
	// ReportPath is where bad records are written, one JSON object per
	// line. Empty means DIR/reports/GENERATION.bad.jsonl.
	ReportPath string
	// OnProgress, if not nil, is called every ProgressEvery while the
	// build runs, and once at the end.
	OnProgress func(Progress)
	// ProgressEvery is the interval of OnProgress calls; zero means 200ms.
	ProgressEvery time.Duration
	// Logger receives the build's log lines. The zero value logs nothing.
	Logger zerolog.Logger
	// DropUpdates builds from Files alone: the directory's journal of
	// incremental updates is not replayed, and is cleared just before the
	// new generation is published (a build that fails keeps it). By
	// default the journal is replayed after the files (see index.Journal).
	DropUpdates bool
	// Updates, if not nil, is the log of incremental updates replayed
	// after the files in place of the directory's journal (which is then
	// neither replayed nor cleared): the update stream of replicas
	// (indexer build -nats). The generation records how much of it it
	// holds (index.Dir.StreamSeq). With DropUpdates, the log's updates
	// are left out instead, and the caller drops them from the log once
	// the generation is published (cluster.Conn.DropThrough).
	Updates UpdateLog
}

// UpdateLog is an ordered log of incremental updates kept outside the
// index directory: the update stream replicas share (package cluster).
type UpdateLog interface {
	// Replay calls fn with each message of the log, in order, up to the
	// log's end when Replay began, and returns the sequence number of the
	// last: what the generation holds. A message that is not a valid
	// update reaches fn with bad set, for the report; it never stops the
	// replay.
	Replay(ctx context.Context, fn func(seq uint64, updates []index.Update, bad error) error) (uint64, error)
	// Position returns the sequence number of the log's last message. A
	// build that drops the updates holds the log up to there (its
	// replicas apply what comes after); the caller drops those messages
	// once the generation is published, not before: a build that fails
	// leaves the log as it was.
	Position(ctx context.Context) (uint64, error)
	// StreamID tells the log from another of the same place: a log made
	// again numbers its messages from the start again. The generation
	// records it beside its position (index.Dir.StreamID).
	StreamID(ctx context.Context) (string, error)
}

// Progress is a snapshot of a running build.
type Progress struct {
	BytesRead, BytesTotal int64 // of the input files as stored (compressed or not)
	Read                  int64 // good records read
	Indexed               int64 // documents indexed so far
	Bad                   int64 // bad records reported
	Elapsed               time.Duration
	Done                  bool // the last call, once the build has ended
}

// Fraction estimates how much of the build is done, from 0 to 1: the
// share of input bytes read, scaled by the share of read events already
// indexed, so that it does not reach 1 while the last batches index.
func (p Progress) Fraction() float64 {
	if p.Done {
		return 1
	}
	if p.BytesTotal <= 0 || p.Read <= 0 {
		return 0
	}
	f := float64(p.BytesRead) / float64(p.BytesTotal) * min(1, float64(p.Indexed)/float64(p.Read))
	return min(f, 0.999)
}

// ETA estimates the time left from the elapsed time and Fraction.
func (p Progress) ETA() time.Duration {
	f := p.Fraction()
	if f <= 0 || f >= 1 {
		return 0
	}
	return time.Duration(float64(p.Elapsed) * (1 - f) / f)
}

// Summary reports a finished build. Its JSON form is the indexer's
// one-line summary.
type Summary struct {
	Indexed         int     `json:"indexed"`    // distinct events in the new generation
	Read            int     `json:"read"`       // good records read, duplicates included
	Bad             int     `json:"bad"`        // bad records, all in the report
	Duplicates      int     `json:"duplicates"` // records whose id an earlier record had
	Updates         int     `json:"updates"`    // journal updates replayed after the files
	Files           int     `json:"files"`
	Seconds         float64 `json:"seconds"`
	EventsPerSecond float64 `json:"events_per_second"`
	Generation      string  `json:"generation"`
	Previous        string  `json:"previous,omitempty"`
	Report          string  `json:"report"`
	// JournalRepaired, when set, says what torn tail was cut from the
	// journal before it was replayed, and where the bytes were kept.
	JournalRepaired *index.Repaired `json:"journal_repaired,omitempty"`
	// StreamSeq is the last message of Config.Updates the generation
	// holds; 0 without it.
	StreamSeq uint64 `json:"stream_seq,omitempty"`
}

// Run builds and publishes a new generation from cfg.Files. Bad records
// never stop it: they are counted and written to the report, and the good
// events are indexed and published. An I/O or index error stops it with
// nothing published; the summary then still says how far it got.
func Run(ctx context.Context, cfg Config) (sum Summary, err error) {
	start := time.Now()
	if cfg.Dir == nil || len(cfg.Files) == 0 {
		return sum, errors.New("build: no index directory or no input files")
	}
	if cfg.Mapping == nil {
		cfg.Mapping = mappings.New()
	}
	files, err := Expand(cfg.Files)
	if err != nil {
		return sum, err
	}
	cfg.Files = files
	// The report is created (emptied) before the inputs are read: one
	// that is an input would be lost, read as nothing.
	var report os.FileInfo
	if cfg.ReportPath != "" {
		report, _ = os.Stat(cfg.ReportPath)
	}
	var total, need int64
	for _, f := range cfg.Files {
		st, err := os.Stat(f)
		if err != nil {
			return sum, fmt.Errorf("input: %w", err)
		}
		if report != nil && os.SameFile(st, report) {
			return sum, fmt.Errorf("the report file %s is the input %s: writing the report would erase it; choose another -report", cfg.ReportPath, f)
		}
		total += st.Size()
		need += st.Size() * spaceFactor(f)
	}
	if err := cfg.Dir.CheckSpace(uint64(need + buildReserve)); err != nil {
		return sum, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	defer func() {
		if err != nil && errors.Is(err, syscall.ENOSPC) && !errors.Is(err, newsdesk.ErrNoSpace) {
			err = fmt.Errorf("%w (ENOSPC): %w", newsdesk.ErrNoSpace, err)
		}
	}()
	ents, err := entities.New()
	if err != nil {
		return sum, err
	}
	docs, err := mappings.NewDocs(ents)
	if err != nil {
		return sum, err
	}
	b, err := cfg.Dir.NewBuilder(index.BuildConfig{
		Mapping: cfg.Mapping, Workers: cfg.Workers, BatchSize: cfg.BatchSize, Logger: cfg.Logger,
		Converter: converter(docs),
	})
	if err != nil {
		return sum, err
	}
	defer func() {
		if err != nil {
			_ = b.Abort()
		}
	}()
	// Dropping the updates drops those journaled before the build began
	// (under the directory's lock: no other build clears meanwhile); the
	// ones acknowledged while it runs are kept for the new generation.
	var dropBefore int64
	var dropThrough uint64
	var streamID string
	if cfg.Updates != nil {
		if streamID, err = cfg.Updates.StreamID(ctx); err != nil {
			return sum, err
		}
	}
	if cfg.DropUpdates && cfg.Updates != nil {
		// The stream's messages up to its last now are dropped; those
		// published while the build runs are kept: the generation notes
		// this position, and replicas apply what follows it.
		if dropThrough, err = cfg.Updates.Position(ctx); err != nil {
			return sum, err
		}
	}
	if cfg.DropUpdates && cfg.Updates == nil {
		j := cfg.Dir.Journal()
		if _, err := j.Repair(); err != nil { // a torn tail is no update to keep
			return sum, err
		}
		if dropBefore, err = j.LockedSize(); err != nil {
			return sum, err
		}
	}
	sum.Generation = b.Generation()
	sum.Files = len(cfg.Files)
	sum.Report = cfg.ReportPath
	if sum.Report == "" {
		sum.Report = filepath.Join(cfg.Dir.ReportsPath(), b.Generation()+index.ReportSuffix)
	}
	rep, err := newReport(sum.Report)
	if err != nil {
		return sum, err
	}
	defer func() {
		if cerr := rep.close(); err == nil && cerr != nil {
			err = cerr
		}
	}()

	events, err := newEventStore(cfg.Dir.TmpPath())
	if err != nil {
		return sum, err
	}
	defer events.close()
	s := &sink{ctx: ctx, b: b, rep: rep, events: events, headings: map[string]int{}}
	stop := startProgress(cfg, s, b, total, start)
	var done int64
	for _, f := range cfg.Files {
		err = ingest.ReadFile(f, s, func(n int64) { s.bytes.Store(done + n) })
		if err != nil {
			break
		}
		st, _ := os.Stat(f)
		done += st.Size()
		s.bytes.Store(done)
	}
	switch {
	case err != nil:
	case cfg.Updates != nil && cfg.DropUpdates:
		// The generation holds the log up to its last message when the
		// build began, without its updates; the caller drops them once it
		// is published. Replicas apply those published since.
		sum.StreamSeq = dropThrough
		b.SetStreamSeq(sum.StreamSeq)
		b.SetStreamDrop(dropThrough)
	case cfg.Updates != nil:
		err = s.replayLog(ctx, cfg.Updates, b, &sum)
	case !cfg.DropUpdates:
		err = s.replay(cfg, b, &sum)
	}
	if err == nil && cfg.Updates != nil {
		err = sameStream(ctx, cfg.Updates, streamID)
		b.SetStreamID(streamID)
	}
	if err == nil {
		err = rep.err
	}
	sum.Read, sum.Bad, sum.Duplicates = int(s.read.Load()), int(s.bad.Load()), s.dups
	if err != nil {
		stop()
		return sum, err
	}
	if cfg.DropUpdates && cfg.Updates == nil {
		// Cleared by Publish once nothing else can fail, so that a
		// failed build keeps the updates searchd acknowledged.
		b.ClearJournalOnPublish(dropBefore)
	}
	if err := s.flagHeadingLists(); err != nil {
		stop()
		return sum, err
	}
	avg, err := b.AverageLength()
	if err != nil {
		stop()
		return sum, err
	}
	fl, _ := json.Marshal(newsdesk.FieldLengths{Text: avg})
	b.SetInternal(newsdesk.InternalFieldLengths, fl)
	// The report is complete before the generation is published: a
	// report that cannot be written fails the build, never a build
	// already current.
	if err := rep.close(); err != nil {
		stop()
		return sum, err
	}
	gen, err := b.Publish(ctx)
	stop()
	sum.Seconds = time.Since(start).Seconds()
	if err != nil {
		return sum, err
	}
	sum.Indexed = int(gen.Docs)
	sum.Previous = gen.Previous
	sum.EventsPerSecond = float64(sum.Indexed) / sum.Seconds
	return sum, nil
}

// buildReserve is disk space a build needs besides its estimate.
const buildReserve = 16 << 20

// spaceFactor is the disk space a build takes per byte of the input file
// f, at its peak (the segments written, then merged into one, beside the
// events kept for duplicates): measured on the real corpus, 95 MB of
// index for 14.7 MB of gzip-compressed JSONL, so twice that at the peak,
// and the events about 4 times the compressed input; plain text
// compresses about 4 times.
func spaceFactor(f string) int64 {
	if gz, _ := ingest.IsGzip(f); gz {
		return 18
	}
	return 5
}

// replay applies the directory's journal after the input files: first
// cutting a torn tail a crash left (never blocking the build, and kept
// aside for the operator), then each update in order. An upsert replaces
// the event of its id, as it did in the served index: a field it leaves
// empty stays empty (duplicates among the input files merge instead; see
// sink.Event). An upsert that breaks the rules the readers apply (a
// journal written before they were checked) is a bad record of the
// report, as in an input file, never an event of the generation.
func (s *sink) replay(cfg Config, b *index.Builder, sum *Summary) error {
	j := cfg.Dir.Journal()
	r, err := j.Repair()
	if err != nil {
		return err
	}
	if r.Cut > 0 {
		sum.JournalRepaired = &r
		cfg.Logger.Warn().Str("journal", j.Path()).Int64("cut_bytes", r.Cut).Int64("at", r.At).
			Str("kept_in", r.KeptIn).Str("reason", r.Reason).Msg("torn journal tail cut before replaying it")
	}
	offset, err := j.ReadLinesFrom(0, func(line int, u index.Update) error {
		if u.Upsert == nil {
			sum.Updates++
			return s.remove(u.Delete)
		}
		if err := u.Upsert.Validate(); err != nil { // a bad record, not an update replayed
			s.Problem(ingest.Problem{File: j.Path(), Line: line, Excerpt: u.Upsert.ID,
				Reason: "upsert: " + strings.TrimPrefix(err.Error(), newsdesk.ErrInvalidEvent.Error()+": ")})
			return nil
		}
		sum.Updates++
		return s.replace(*u.Upsert)
	})
	b.SetJournalOffset(offset)
	return err
}

// sameStream fails when log is no longer the one whose ID was id: made
// again while the build read it, the position the build holds is of the
// old one.
func sameStream(ctx context.Context, log UpdateLog, id string) error {
	now, err := log.StreamID(ctx)
	if err != nil {
		return err
	}
	if now != id {
		return fmt.Errorf("the update stream was made again while the build read it (created %s, now %s): build again", id, now)
	}
	return nil
}

// replayLog applies the updates of log after the input files, as replay
// does the journal's: an upsert replaces the event of its id. A message
// that is not a valid update, or an upsert that breaks the readers' rules,
// is a bad record of the report (its line the message's sequence number),
// never a reason to stop.
func (s *sink) replayLog(ctx context.Context, log UpdateLog, b *index.Builder, sum *Summary) error {
	const file = "update stream"
	seq, err := log.Replay(ctx, func(seq uint64, updates []index.Update, bad error) error {
		if bad != nil {
			s.Problem(ingest.Problem{File: file, Line: int(seq), Reason: "message skipped: " + bad.Error()})
			return nil
		}
		for _, u := range updates {
			if u.Upsert == nil {
				sum.Updates++
				if err := s.remove(u.Delete); err != nil {
					return err
				}
				continue
			}
			if err := u.Upsert.Validate(); err != nil { // a bad record, not an update replayed
				s.Problem(ingest.Problem{File: file, Line: int(seq), Excerpt: u.Upsert.ID,
					Reason: "upsert: " + strings.TrimPrefix(err.Error(), newsdesk.ErrInvalidEvent.Error()+": ")})
				continue
			}
			sum.Updates++
			if err := s.replace(*u.Upsert); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("replay the update stream: %w", err)
	}
	sum.StreamSeq = seq
	b.SetStreamSeq(seq)
	return nil
}

// inputExts are the file name endings a directory's files are read for,
// compressed (.gz after them) or not: not every .gz, which may be anything
// (notes.txt.gz, a backup's .tar.gz).
var inputExts = []string{".jsonl", ".ndjson", ".json", ".wiki", ".wikitext", ".md", ".markdown"}

// Expand replaces each directory among paths by its input files (by name
// ending, in name order, README files left out), so that a directory of
// portal pages can be passed whole, as in a container without a shell.
func Expand(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("input: %w", err)
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("input: %w", err)
		}
		n := len(out)
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || strings.HasPrefix(strings.ToUpper(name), "README") {
				continue
			}
			base := strings.TrimSuffix(strings.ToLower(name), ".gz")
			for _, ext := range inputExts {
				if strings.HasSuffix(base, ext) {
					out = append(out, filepath.Join(p, name))
					break
				}
			}
		}
		if len(out) == n {
			return nil, fmt.Errorf("input directory %s has no .jsonl, .wiki or .md file", p)
		}
	}
	return out, nil
}

// item is what the build adds to the index.Builder: an event, and
// whether it is flagged a stub whatever its text (see flagHeadingLists).
type item struct {
	e    newsdesk.Event
	stub bool
}

// converter returns the index.Builder's converter of items into
// documents: each worker analyses with its own mappings.Analyser.
func converter(docs *mappings.Docs) func() index.Convert {
	return func() index.Convert {
		a, err := docs.NewAnalyser()
		return func(id string, v any) (bindex.Document, int, error) {
			if err != nil {
				return nil, 0, err
			}
			it := v.(*item)
			doc, n, err := a.Document(&it.e, it.stub)
			if err != nil {
				return nil, 0, fmt.Errorf("map event %s: %w", id, err)
			}
			return doc, n, nil
		}
	}
}

// sink takes the readers' events and problems.
type sink struct {
	ctx    context.Context
	b      *index.Builder
	rep    *report
	events *eventStore // the current event of every id, to merge duplicates
	// headings counts the events whose topic or tags name each heading
	// (by mappings.HeadingKey), and lists holds the ids whose events may
	// be heading lists, in order, some replaced since: what
	// flagHeadingLists needs, kept as the events come.
	headings map[string]int
	lists    []string
	dups     int
	bytes    atomic.Int64
	read     atomic.Int64
	bad      atomic.Int64
}

func (s *sink) Event(e newsdesk.Event) error {
	if n := s.read.Add(1); n%1024 == 0 {
		if err := s.ctx.Err(); err != nil {
			return err
		}
	}
	earlier, dup, err := s.events.get(e.ID)
	if err != nil {
		return err
	}
	if !dup {
		return s.set(e, nil)
	}
	s.dups++
	e.Merge(&earlier)
	return s.set(e, &earlier)
}

// set makes e the event of its id in place of old (nil: none), and
// indexes it.
func (s *sink) set(e newsdesk.Event, old *newsdesk.Event) error {
	if old != nil {
		s.countHeadings(old, -1)
	}
	s.countHeadings(&e, 1)
	if err := s.events.put(&e); err != nil {
		return err
	}
	if mappings.MayBeHeadingList(&e) {
		s.lists = append(s.lists, e.ID)
	}
	return s.b.Add(e.ID, &item{e: e})
}

// remove deletes the event of id, if any.
func (s *sink) remove(id string) error {
	old, ok, err := s.events.get(id)
	if err != nil || !ok {
		return err
	}
	s.countHeadings(&old, -1)
	s.b.Delete(id)
	return s.events.remove(id)
}

func (s *sink) countHeadings(e *newsdesk.Event, d int) {
	for i := -1; i < len(e.Context); i++ {
		tag := e.Topic
		if i >= 0 {
			tag = e.Context[i]
		}
		if tag == "" {
			continue
		}
		k := mappings.HeadingKey(tag)
		if n := s.headings[k] + d; n > 0 {
			s.headings[k] = n
		} else {
			delete(s.headings, k)
		}
	}
}

// flagHeadingLists flags as stubs the events whose text is only a list of
// story headings that other events use as topic or context ("Politics of
// Germany, Bundestag"): known only once every event is read, so they are
// indexed again, flagged.
func (s *sink) flagHeadingLists() error {
	known := make(map[string]bool, len(s.headings))
	for k := range s.headings {
		known[k] = true
	}
	done := map[string]bool{}
	for _, id := range s.lists {
		if done[id] {
			continue
		}
		done[id] = true
		e, ok, err := s.events.get(id)
		if err != nil {
			return err
		}
		if !ok || mappings.IsStub(&e) || !mappings.IsHeadingList(&e, known) {
			continue
		}
		if err := s.b.Add(id, &item{e: e, stub: true}); err != nil {
			return err
		}
	}
	return nil
}

// replace indexes e in place of any event of its id read before: the
// journal's upserts, which replaced the event in the served index.
func (s *sink) replace(e newsdesk.Event) error {
	old, ok, err := s.events.get(e.ID)
	if err != nil {
		return err
	}
	if !ok {
		return s.set(e, nil)
	}
	return s.set(e, &old)
}

func (s *sink) Problem(p ingest.Problem) {
	s.bad.Add(1)
	s.rep.write(p)
}

func startProgress(cfg Config, s *sink, b *index.Builder, total int64, start time.Time) (stop func()) {
	if cfg.OnProgress == nil {
		return func() {}
	}
	every := cfg.ProgressEvery
	if every <= 0 {
		every = 200 * time.Millisecond
	}
	snapshot := func() Progress {
		return Progress{BytesRead: s.bytes.Load(), BytesTotal: total, Read: s.read.Load(),
			Indexed: b.Added(), Bad: s.bad.Load(), Elapsed: time.Since(start)}
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				cfg.OnProgress(snapshot())
			}
		}
	}()
	return func() {
		close(quit)
		wg.Wait()
		last := snapshot()
		last.Done = true
		cfg.OnProgress(last)
	}
}

// report writes bad records as JSON lines.
type report struct {
	f      *os.File
	w      *bufio.Writer
	enc    *json.Encoder
	err    error
	closed bool
}

func newReport(path string) (*report, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create report: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create report: %w", err)
	}
	w := bufio.NewWriter(f)
	return &report{f: f, w: w, enc: json.NewEncoder(w)}, nil
}

func (r *report) write(p ingest.Problem) {
	if r.err == nil {
		if err := r.enc.Encode(p); err != nil {
			r.err = fmt.Errorf("write report: %w", err)
		}
	}
}

// close flushes and closes the report; later calls do nothing.
func (r *report) close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	err := r.w.Flush()
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
