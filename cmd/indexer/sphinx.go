package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/build"
	"github.com/newsdesk/newsdesk/cli"
	"github.com/newsdesk/newsdesk/ingest"
)

// sphinxIndexer is Debian sphinxsearch's indexer, by absolute path: ours
// has the same name, and must never run in its place.
const sphinxIndexer = "/usr/bin/indexer"

// sphinxConf is the configuration bench gives Sphinx's indexer, the one
// the peer harness (../shared/bench/peers/sphinx_peer.py) uses: a TSV pipe
// source with the fields topic, text and context, the date and id as
// attributes, English stemming, a Latin-1 charset table (Sphinx 2.2 has
// no non_cjk alias). The pipe is this program's "tsv" command, so Sphinx
// reads the same events from the same files as the build.
const sphinxConf = `source events
{
    type = tsvpipe
    tsvpipe_command = %s
    tsvpipe_field = topic
    tsvpipe_field = text
    tsvpipe_field = context
    tsvpipe_attr_uint = date
    tsvpipe_attr_string = eid
}

index events
{
    source = events
    path = %s/events
    docinfo = extern
    morphology = stem_en
    charset_table = 0..9, A..Z->a..z, _, a..z, U+C0..U+D6->U+E0..U+F6, U+D8..U+DE->U+F8..U+FE, U+DF..U+F6, U+F8..U+FF
    min_word_len = 1
}

indexer
{
    mem_limit = 512M
}
`

// childRun is one timed run of a program.
type childRun struct {
	Seconds    float64 `json:"seconds"`
	PeakRSSMiB float64 `json:"peak_rss_mib"`
}

// runChild runs name with args, keeping its stdout in out, and returns
// its wall time and peak RSS (of it and the children it waited for, as
// the kernel reports it). A failure's error holds the end of its output.
func runChild(ctx context.Context, out *strings.Builder, name string, args ...string) (childRun, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var errs strings.Builder
	cmd.Stdout, cmd.Stderr = out, &errs
	start := time.Now()
	err := cmd.Run()
	secs := time.Since(start).Seconds()
	if err != nil {
		return childRun{}, fmt.Errorf("%s %s: %w\n%s\n%s", name, strings.Join(args, " "), err, tail(out.String(), 1000), tail(errs.String(), 2000))
	}
	r := childRun{Seconds: round(secs)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.PeakRSSMiB = round(float64(ru.Maxrss) / 1024) // Linux reports KiB
	}
	return r, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// ensureSphinx installs Debian's sphinxsearch when its indexer is missing.
func ensureSphinx(ctx context.Context, stderr io.Writer) error {
	if _, err := os.Stat(sphinxIndexer); err == nil {
		return nil
	}
	fmt.Fprintln(stderr, "bench: installing Debian's sphinxsearch for "+sphinxIndexer)
	install := func() error {
		cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "-q", "sphinxsearch")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = stderr, stderr
		return cmd.Run()
	}
	if err := install(); err != nil {
		// A fresh machine's package lists may be missing or stale.
		update := exec.CommandContext(ctx, "apt-get", "update", "-q")
		update.Stdout, update.Stderr = stderr, stderr
		if uerr := update.Run(); uerr != nil {
			return fmt.Errorf("install sphinxsearch: apt-get update: %w", uerr)
		}
		if err := install(); err != nil {
			return fmt.Errorf("install sphinxsearch: %w", err)
		}
	}
	if _, err := os.Stat(sphinxIndexer); err != nil {
		return fmt.Errorf("install sphinxsearch: %w", err)
	}
	return nil
}

// sphinxRun runs Sphinx's indexer over files once, into a new directory
// under scratch, fed by this program's "tsv" command.
func sphinxRun(ctx context.Context, scratch string, files []string) (childRun, error) {
	self, err := os.Executable()
	if err != nil {
		return childRun{}, fmt.Errorf("sphinx: %w", err)
	}
	dir, err := os.MkdirTemp(scratch, "sphinx-")
	if err != nil {
		return childRun{}, fmt.Errorf("sphinx: %w", err)
	}
	defer os.RemoveAll(dir)
	feed := []string{quoteArg(self), "tsv"}
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			return childRun{}, fmt.Errorf("sphinx: %w", err)
		}
		feed = append(feed, quoteArg(abs))
	}
	conf := filepath.Join(dir, "sphinx.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(sphinxConf, strings.Join(feed, " "), dir)), 0o644); err != nil {
		return childRun{}, fmt.Errorf("sphinx: %w", err)
	}
	var out strings.Builder
	return runChild(ctx, &out, sphinxIndexer, "--config", conf, "--all", "--quiet")
}

// quoteArg quotes s for the shell Sphinx runs its pipe command with.
func quoteArg(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// runTSV is the "tsv" command: FILEs' events as Sphinx's tsvpipe source
// reads them, on stdout. Duplicates are written as read (Sphinx keeps
// every row); bad records are skipped.
func runTSV(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("indexer tsv", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: indexer tsv FILE...")
		fmt.Fprintln(fs.Output(), "Writes FILEs' events as tab-separated rows for Sphinx's tsvpipe source (id, topic, text, context, date, event id).")
	}
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return cli.Usagef("tsv: no input files")
	}
	files, err := build.Expand(fs.Args()) // a directory of portal pages, as build takes it
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(stdout, 1<<16)
	s := &tsvSink{w: w}
	for _, f := range files {
		if err := ingest.ReadFile(f, s, nil); err != nil {
			return err
		}
	}
	return w.Flush()
}

type tsvSink struct {
	w *bufio.Writer
	n int
}

// tsvClean makes s one TSV cell, as the peer harness does.
var tsvClean = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ", `\`, " ")

func (s *tsvSink) Event(e newsdesk.Event) error {
	s.n++
	date := strings.ReplaceAll(e.Date, "-", "")
	_, err := fmt.Fprintf(s.w, "%d\t%s\t%s\t%s\t%s\t%s\n", s.n, tsvClean.Replace(e.Topic), tsvClean.Replace(e.Text),
		tsvClean.Replace(strings.Join(e.Context, " ; ")), date, tsvClean.Replace(e.ID))
	return err
}

func (s *tsvSink) Problem(ingest.Problem) {}
