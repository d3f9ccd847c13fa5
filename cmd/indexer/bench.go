package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
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
	// Runs are the side-by-side runs of bench -sphinx, in order.
	Runs []versusRun `json:"runs,omitempty"`
	// Ratio is the median over Runs of newsdesk's time over Sphinx's.
	Ratio float64 `json:"ratio,omitempty"`
}

// versusRun is one run of each, newsdesk first.
type versusRun struct {
	Newsdesk childRun `json:"newsdesk"`
	Sphinx   childRun `json:"sphinx"`
	Ratio    float64  `json:"ratio"`
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("indexer bench", flag.ContinueOnError)
	dir := fs.String("dir", "", "scratch `directory` for the indexes (default: a new temporary directory, removed afterwards)")
	sphinx := fs.Bool("sphinx", true, "time Sphinx's indexer ("+sphinxIndexer+", Debian's sphinxsearch, installed with apt-get when missing) beside newsdesk's build, each as its own process, alternately")
	runs := fs.Int("runs", 3, "side-by-side runs with -sphinx")
	plain := fs.Bool("plain", false, "time an in-process build, then a plain Bleve loop (default mapping, batches of 1,000)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of an in-process build to `file` (implies -plain=false -sphinx=false)")
	memProfile := fs.String("memprofile", "", "write an allocation profile of an in-process build to `file` (as -cpuprofile)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: indexer bench [flags] FILE...")
		fmt.Fprintln(fs.Output(), "Times full builds of FILEs beside Sphinx's indexer on the same files, or an in-process build (-plain, -cpuprofile); prints JSON.")
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
	if *cpuProfile != "" || *memProfile != "" || *plain {
		return benchInProcess(ctx, scratch, fs.Args(), *plain && *cpuProfile == "" && *memProfile == "", *cpuProfile, *memProfile, stdout, stderr)
	}
	if !*sphinx {
		return cli.Usagef("bench: nothing to time: give -sphinx, -plain or a profile")
	}
	return benchVersus(ctx, scratch, fs.Args(), max(*runs, 1), stdout, stderr)
}

// benchVersus runs newsdesk's build (this program's "build", from files
// to a published generation searchd serves as it is) and Sphinx's indexer
// on the same files, alternately, runs times each, and prints each run
// and the median ratio of their times.
func benchVersus(ctx context.Context, scratch string, files []string, runs int, stdout, stderr io.Writer) error {
	if err := ensureSphinx(ctx, stderr); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	res := benchResult{GOMAXPROCS: runtime.GOMAXPROCS(0)}
	for i := range runs {
		idx := filepath.Join(scratch, fmt.Sprintf("newsdesk-%d", i))
		args := append([]string{"build", "-index", idx, "-progress", "none", "-max-bad", "-1"}, files...)
		var out strings.Builder
		nd, err := runChild(ctx, &out, self, args...)
		if err != nil {
			return fmt.Errorf("bench: newsdesk: %w", err)
		}
		var sum struct {
			Indexed int `json:"indexed"`
		}
		if err := json.Unmarshal([]byte(lastLine(out.String())), &sum); err != nil {
			return fmt.Errorf("bench: newsdesk summary: %w", err)
		}
		if err := os.RemoveAll(idx); err != nil {
			return err
		}
		sp, err := sphinxRun(ctx, scratch, files)
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		r := versusRun{Newsdesk: nd, Sphinx: sp, Ratio: round(nd.Seconds / sp.Seconds)}
		res.Runs = append(res.Runs, r)
		res.Events = sum.Indexed
		fmt.Fprintf(stderr, "run %d: newsdesk %d events in %.2f s, peak RSS %.0f MiB; Sphinx indexer %.2f s, peak RSS %.0f MiB; newsdesk/Sphinx %.2fx\n",
			i+1, sum.Indexed, nd.Seconds, nd.PeakRSSMiB, sp.Seconds, sp.PeakRSSMiB, r.Ratio)
	}
	ratios := make([]float64, len(res.Runs))
	for i, r := range res.Runs {
		ratios[i] = r.Ratio
	}
	slices.Sort(ratios)
	res.Ratio = ratios[len(ratios)/2]
	med := res.Runs[0]
	for _, r := range res.Runs {
		if r.Ratio == res.Ratio {
			med = r
		}
	}
	res.Seconds, res.PeakRSSMiB = med.Newsdesk.Seconds, med.Newsdesk.PeakRSSMiB
	res.EventsPerSecond = round(float64(res.Events) / res.Seconds)
	fmt.Fprintf(stderr, "median of %d runs: newsdesk/Sphinx %.2fx (newsdesk %.2f s, Sphinx %.2f s)\n", runs, res.Ratio, med.Newsdesk.Seconds, med.Sphinx.Seconds)
	out, _ := json.Marshal(res)
	fmt.Fprintln(stdout, string(out))
	return nil
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// benchInProcess times a build in this process, with profiles if asked,
// then the plain Bleve loop if asked.
func benchInProcess(ctx context.Context, scratch string, files []string, plain bool, cpuProfile, memProfile string, stdout, stderr io.Writer) error {
	if cpuProfile != "" {
		pf, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
	}
	if memProfile != "" {
		runtime.MemProfileRate = 64 << 10
	}
	// Ours first, so that the peak RSS read after it is the build's own.
	sum, err := buildIndex(ctx, &buildFlags{index: scratch + "/newsdesk", progress: "none", maxBad: -1},
		files, zerolog.Nop(), stderr)
	if err != nil {
		return fmt.Errorf("bench build: %w", err)
	}
	pprof.StopCPUProfile()
	if memProfile != "" {
		pf, err := os.Create(memProfile)
		if err != nil {
			return err
		}
		err = pprof.Lookup("allocs").WriteTo(pf, 0)
		if cerr := pf.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	res := benchResult{Events: sum.Indexed, Seconds: round(sum.Seconds), EventsPerSecond: round(sum.EventsPerSecond),
		PeakRSSMiB: peakRSSMiB(), GOMAXPROCS: runtime.GOMAXPROCS(0)}
	fmt.Fprintf(stderr, "newsdesk build: %d events in %.2f s (%.0f events/s), peak RSS %.0f MiB\n",
		res.Events, res.Seconds, res.EventsPerSecond, res.PeakRSSMiB)
	if plain {
		n, secs, err := plainLoop(ctx, scratch+"/plain", files)
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
