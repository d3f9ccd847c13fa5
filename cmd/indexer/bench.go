package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/rs/zerolog"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/cli"
	"github.com/newsdesk/newsdesk/ingest"
)

// plainBatchSize is the batch size of the plain Bleve loop bench compares with.
const plainBatchSize = 1000

// benchResult is what bench prints as JSON.
type benchResult struct {
	Events          int     `json:"events"`
	Seconds         float64 `json:"seconds"`
	EventsPerSecond float64 `json:"events_per_second"`
	PeakRSSMiB      float64 `json:"peak_rss_mib"`
	PlainSeconds    float64 `json:"plain_seconds,omitempty"`
	PlainEventsPerS float64 `json:"plain_events_per_second,omitempty"`
	SpeedupVsPlain  float64 `json:"speedup_vs_plain,omitempty"`
	PlainBatchSize  int     `json:"plain_batch_size,omitempty"`
	GOMAXPROCS      int     `json:"gomaxprocs"`
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("indexer bench", flag.ContinueOnError)
	dir := fs.String("dir", "", "scratch `directory` for the indexes (default: a new temporary directory, removed afterwards)")
	plain := fs.Bool("plain", true, "also time the plain Bleve loop (default mapping, batches of 1,000)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the newsdesk build to `file`")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: indexer bench [flags] FILE...")
		fmt.Fprintln(fs.Output(), "Times a full build of FILEs, then a plain Bleve loop over the same input; prints JSON.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return cli.Usagef("bench: no input files")
	}
	scratch := *dir
	if scratch == "" {
		tmp, err := os.MkdirTemp("", "newsdesk-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		scratch = tmp
	}
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
	}
	// Ours first, so that the peak RSS read after it is the build's own.
	sum, err := buildIndex(ctx, &buildFlags{index: scratch + "/newsdesk", progress: "none", maxBad: -1},
		fs.Args(), zerolog.Nop(), stderr)
	if err != nil {
		return fmt.Errorf("bench build: %w", err)
	}
	pprof.StopCPUProfile()
	res := benchResult{Events: sum.Indexed, Seconds: round(sum.Seconds), EventsPerSecond: round(sum.EventsPerSecond),
		PeakRSSMiB: peakRSSMiB(), GOMAXPROCS: runtime.GOMAXPROCS(0)}
	fmt.Fprintf(stderr, "newsdesk build: %d events in %.2f s (%.0f events/s), peak RSS %.0f MiB\n",
		res.Events, res.Seconds, res.EventsPerSecond, res.PeakRSSMiB)
	if *plain {
		n, secs, err := plainLoop(ctx, scratch+"/plain", fs.Args())
		if err != nil {
			return fmt.Errorf("bench plain loop: %w", err)
		}
		res.PlainSeconds, res.PlainEventsPerS = round(secs), round(float64(n)/secs)
		res.SpeedupVsPlain = round(secs / sum.Seconds)
		res.PlainBatchSize = plainBatchSize
		fmt.Fprintf(stderr, "plain Bleve loop: %d events in %.2f s (%.0f events/s); newsdesk is %.2fx faster\n",
			n, secs, res.PlainEventsPerS, res.SpeedupVsPlain)
	}
	out, _ := json.Marshal(res)
	fmt.Fprintln(stdout, string(out))
	return nil
}

// plainLoop indexes the files the way a first Bleve program would: the
// default mapping, the Event struct as the document, batches of 1,000. It
// reads with the same readers as the build, so both pay the same parsing.
func plainLoop(ctx context.Context, path string, files []string) (int, float64, error) {
	start := time.Now()
	idx, err := bleve.New(path, bleve.NewIndexMapping())
	if err != nil {
		return 0, 0, err
	}
	s := &plainSink{ctx: ctx, idx: idx, batch: idx.NewBatch()}
	for _, f := range files {
		if err := ingest.ReadFile(f, s, nil); err != nil {
			idx.Close()
			return 0, 0, err
		}
	}
	if err := idx.Batch(s.batch); err != nil {
		idx.Close()
		return 0, 0, err
	}
	if err := idx.Close(); err != nil {
		return 0, 0, err
	}
	return s.n, time.Since(start).Seconds(), nil
}

type plainSink struct {
	ctx   context.Context
	idx   bleve.Index
	batch *bleve.Batch
	n     int
}

func (s *plainSink) Event(e newsdesk.Event) error {
	s.n++
	if err := s.batch.Index(e.ID, e); err != nil {
		return err
	}
	if s.batch.Size() < plainBatchSize {
		return nil
	}
	if err := s.ctx.Err(); err != nil {
		return err
	}
	err := s.idx.Batch(s.batch)
	s.batch.Reset()
	return err
}

func (s *plainSink) Problem(ingest.Problem) {}

func peakRSSMiB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return round(float64(ru.Maxrss) / 1024) // Linux reports KiB
}

func round(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }
