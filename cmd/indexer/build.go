package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	"github.com/rs/zerolog"

	"github.com/newsdesk/newsdesk/build"
	"github.com/newsdesk/newsdesk/cli"
	"github.com/newsdesk/newsdesk/cluster"
	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/progress"
)

// Memory settings for a build. A build allocates fast and briefly:
// letting the heap grow to 4x before collecting, under a soft cap, spares
// most collections. The cap is buildMemoryBase (the segments being built,
// the merge; measured on the real corpus: 320 MiB kept the peak RSS at
// 456 MB, at 15% more CPU than 640 MiB, which let it reach 760 MB) plus
// buildMemoryPerInput bytes per byte of input: the build keeps a few
// hundred bytes per event id, which a fixed cap would leave too little
// room for at ten times the corpus (a cap under the live heap makes the
// collector run without end).
const (
	buildGCPercent      = 400
	buildMemoryBase     = 320 << 20
	buildMemoryPerInput = 2
)

// buildMemoryLimit returns the soft memory cap of a build of files.
func buildMemoryLimit(files []string) int64 {
	var n int64
	for _, f := range files {
		if st, err := os.Stat(f); err == nil && st.Mode().IsRegular() {
			n += st.Size()
		}
	}
	return buildMemoryBase + buildMemoryPerInput*n
}

type buildFlags struct {
	index     string
	maxBad    int
	workers   int
	batchSize int
	report    string
	progress  string
	drop      bool
	// nats, when set, is where the generation is published for replicas,
	// and whose update stream the build replays (package cluster).
	nats         string
	natsReplicas int
	// updates is the connection -nats opened, as the stream to replay.
	updates build.UpdateLog
}

func parseBuildFlags(args []string, stdout io.Writer) (_ *buildFlags, _ []string, err error) {
	fs := flag.NewFlagSet("indexer build", flag.ContinueOnError)
	// A refused value that came from a variable names the variable.
	defer func() { err = cli.FromEnv(fs, args, err) }()
	f := &buildFlags{}
	fs.StringVar(&f.index, "index", "", "index `directory` to publish into")
	fs.IntVar(&f.maxBad, "max-bad", 0, "bad records tolerated before exiting with code 3; -1 means any number (the good events are published either way)")
	fs.IntVar(&f.workers, "workers", 0, "batches indexed at once (0: one per CPU)")
	fs.IntVar(&f.batchSize, "batch-size", index.DefaultBatchSize, "documents per batch")
	fs.StringVar(&f.report, "report", "", "bad-record report `file` (default DIR/reports/GENERATION.bad.jsonl)")
	fs.BoolVar(&f.drop, "drop-updates", false, "build from FILEs alone: do not replay the updates journal (DIR/updates.jsonl) of bulk updates, and clear it once published")
	fs.StringVar(&f.progress, "progress", "auto", "progress display: bar, log, none, or auto (a bar on a terminal, else a log line every 2s)")
	fs.StringVar(&f.nats, "nats", "", "publish the generation to the NATS JetStream at this `URL` (several comma-separated: a cluster) for searchd replicas, replaying its update stream instead of DIR's journal (with -drop-updates: dropping it)")
	fs.IntVar(&f.natsReplicas, "nats-replicas", 0, "with -nats: servers keeping each message of the stream and buckets, when the indexer creates them (0: 3 in a NATS cluster, else 1)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: indexer build -index DIR [flags] FILE...")
		fmt.Fprintln(fs.Output(), "Builds a new index generation from FILEs (.jsonl, .wiki, .md, optionally .gz) and publishes it.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stdout); err != nil {
		return nil, nil, err
	}
	switch {
	case f.index == "":
		return nil, nil, cli.Usagef("build: -index DIR is required (or set NEWSDESK_INDEX)")
	case fs.NArg() == 0:
		return nil, nil, cli.Usagef("build: no input files")
	case f.maxBad < -1:
		return nil, nil, cli.Usagef("build: -max-bad must be -1 (no limit) or more, got %d", f.maxBad)
	case f.batchSize < 1:
		return nil, nil, cli.Usagef("build: -batch-size must be at least 1, got %d", f.batchSize)
	case f.workers < 0:
		return nil, nil, cli.Usagef("build: -workers must be 0 (one per CPU) or more, got %d", f.workers)
	case progress.CheckMode(f.progress) != nil:
		return nil, nil, cli.Usagef("build: %w", progress.CheckMode(f.progress))
	case f.natsReplicas < 0:
		return nil, nil, cli.Usagef("build: -nats-replicas must be 0 (automatic) or more, got %d", f.natsReplicas)
	}
	return f, fs.Args(), nil
}

func runBuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, files, err := parseBuildFlags(args, stdout)
	if err != nil {
		return err
	}
	log := newLogger(stderr)
	var conn *cluster.Conn
	if f.nats != "" {
		if conn, err = cluster.Open(ctx, cluster.Config{URL: f.nats, Replicas: f.natsReplicas, Name: "indexer", Logger: log}); err != nil {
			return &exitError{code: exitFailed, err: fmt.Errorf("build refused, nothing published: %w", err)}
		}
		defer conn.Close()
		f.updates = conn
	}
	sum, err := buildIndex(ctx, f, files, log, stderr)
	if err != nil && !errors.Is(err, build.ErrRefused) && !errors.Is(err, index.ErrEmptyBuild) { // which say nothing was published
		err = fmt.Errorf("build failed, nothing published: %w", err)
	}
	var published *cluster.Pointer
	var pubErr error
	if err == nil && conn != nil {
		var p cluster.Pointer
		if p, pubErr = publish(ctx, conn, f.index, sum.Generation); pubErr == nil {
			published = &p
		}
	}
	var dropErr error
	if published != nil {
		dropErr = purgeDropped(ctx, conn, f.index, sum.Generation, log)
	} else if pubErr != nil && f.drop {
		pubErr = fmt.Errorf("%w; the stream's updates the build dropped are purged once it is published: run indexer publish -index %s -nats URL", pubErr, f.index)
	}
	out := struct {
		build.Summary
		// Published is the pointer replicas follow, when -nats moved it.
		Published *cluster.Pointer `json:"published,omitempty"`
		// Error is why a build that began failed: its generation is
		// then left out, since none was published.
		Error string `json:"error,omitempty"`
	}{Summary: sum, Published: published}
	started := sum.Generation != ""
	if err != nil {
		out.Generation, out.Error = "", err.Error()
	}
	if b, merr := json.Marshal(out); merr == nil && started {
		fmt.Fprintln(stdout, string(b))
	}
	if err != nil {
		return &exitError{code: exitFailed, err: err}
	}
	if pubErr != nil {
		return &exitError{code: exitUnpublished, err: pubErr}
	}
	if dropErr != nil {
		return &exitError{code: exitFailed, err: dropErr}
	}
	if sum.Bad > 0 {
		log.Warn().Int("bad", sum.Bad).Str("report", sum.Report).Msg("bad records skipped; see the report")
	}
	if f.maxBad >= 0 && sum.Bad > f.maxBad {
		return &exitError{code: exitTooBad, err: fmt.Errorf("%d bad records, more than -max-bad %d (the %d good events were published; report: %s)",
			sum.Bad, f.maxBad, sum.Indexed, sum.Report)}
	}
	return nil
}

// publish publishes the generation name of the index directory path to
// NATS, for replicas.
// purgeDropped purges the update stream's messages a published
// generation's build dropped (-drop-updates), if it did. Only once the
// pointer moved: a build that failed, or a generation not published,
// leaves the stream's updates for the replicas that serve them. Nor are
// they purged from a stream made again since the build (NATS's storage
// lost): its messages up to there are other updates, acknowledged since,
// which the purge lost (a review's finding: indexer publish of such a
// generation after a wipe purged the new stream's first updates).
func purgeDropped(ctx context.Context, conn *cluster.Conn, path, name string, log zerolog.Logger) error {
	dir, err := index.ExistingDir(path)
	if err != nil {
		return err
	}
	seq, ok, err := dir.StreamDrop(name)
	if err != nil || !ok {
		return err
	}
	built, err := dir.StreamID(name)
	if err != nil {
		return err
	}
	live, err := conn.StreamID(ctx)
	if err != nil {
		return fmt.Errorf("generation %s is published, but the stream's updates its build dropped, up to %d, are not purged: %w; run indexer publish again", name, seq, err)
	}
	if built != "" && built != live {
		log.Warn().Str("generation", name).Str("built_from", built).Str("stream", live).
			Msg("the update stream was made again since the build: its updates are not the ones the build dropped, and are kept")
		return nil
	}
	if err := conn.DropThrough(ctx, seq); err != nil {
		return fmt.Errorf("generation %s is published, but the stream still holds the updates its build dropped, up to %d: a later build would replay them; run indexer publish again: %w",
			name, seq, err)
	}
	return nil
}

func publish(ctx context.Context, conn *cluster.Conn, path, name string) (cluster.Pointer, error) {
	dir, err := index.NewDir(path)
	if err == nil {
		var p cluster.Pointer
		if p, err = conn.Publish(ctx, dir, name); err == nil {
			return p, nil
		}
	}
	return cluster.Pointer{}, fmt.Errorf("generation %s is built and current in %s, but not published to NATS: %w", name, path, err)
}

// buildIndex runs a build with the process tuned for it and a progress
// display on stderr.
func buildIndex(ctx context.Context, f *buildFlags, files []string, log zerolog.Logger, stderr io.Writer) (build.Summary, error) {
	defer debug.SetGCPercent(debug.SetGCPercent(buildGCPercent))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(buildMemoryLimit(files)))
	dir, err := index.NewDir(f.index)
	if err != nil {
		return build.Summary{}, err
	}
	show, every := progress.New(f.progress, stderr, log)
	return build.Run(ctx, build.Config{
		Dir: dir, Files: files, Workers: f.workers, BatchSize: f.batchSize, ReportPath: f.report,
		OnProgress: show, ProgressEvery: every, Logger: log, DropUpdates: f.drop, Updates: f.updates,
	})
}

func newLogger(w io.Writer) zerolog.Logger {
	if progress.IsTerminal(w) {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(w).Level(zerolog.InfoLevel).With().Timestamp().Logger()
}
