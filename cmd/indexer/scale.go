package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/build"
	"github.com/newsdesk/newsdesk/cli"
	"github.com/newsdesk/newsdesk/ingest"
)

// scaleShiftDays is how far each copy's dates move from the previous
// one's: 25 years, about the span of the real corpus (2002-2026), so ten
// copies from 1902 on stay within the accepted dates (to 2199) and apart.
const scaleShiftDays = 9131

// runScale is the "scale" command: it writes the events of FILEs N times
// to one JSONL file (gzip-compressed when its name ends in .gz), each
// copy's dates shifted by scaleShiftDays more than the previous copy's,
// the first copy's back by 4 shifts (so the real corpus lands between
// 1902 and 2151), and the ids made anew from the shifted date, so that
// every copy's events are distinct: a corpus N times larger with the
// real one's words, stories and duplicates.
func runScale(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("indexer scale", flag.ContinueOnError)
	defer func() { err = cli.FromEnv(fs, args, err) }()
	times := fs.Int("times", 10, "how many copies of the input to write")
	out := fs.String("out", "", "output `file` (.jsonl, or .jsonl.gz to compress)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: indexer scale -times N -out FILE FILE...")
		fmt.Fprintln(fs.Output(), "Writes FILEs' events N times, each copy's dates shifted 25 years from the last and its ids distinct (the scale test's corpus; never commit it).")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	switch {
	case fs.NArg() == 0:
		return cli.Usagef("scale: no input files")
	case *out == "":
		return cli.Usagef("scale: -out FILE is required")
	case *times < 1 || *times > 16:
		return cli.Usagef("scale: -times must be 1 to 16, so that the dates stay within %s to %s", newsdesk.MinDate, newsdesk.MaxDate)
	}
	var events []newsdesk.Event
	keep := &keepSink{events: &events}
	files, err := build.Expand(fs.Args()) // a directory of portal pages, as build takes it
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := ingest.ReadFile(f, keep, nil); err != nil {
			return err
		}
	}
	if err := checkScale(events, *times); err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return fmt.Errorf("scale: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("scale: %w", cerr)
		}
	}()
	var w io.Writer = f
	var gz *gzip.Writer
	if strings.HasSuffix(*out, ".gz") {
		gz = gzip.NewWriter(f)
		w = gz
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	n := 0
	for c := range *times {
		if err := ctx.Err(); err != nil {
			return err
		}
		shift := (c - 4) * scaleShiftDays
		for _, e := range events {
			day, err := time.Parse(newsdesk.DateLayout, e.Date)
			if err != nil {
				return fmt.Errorf("scale: event %s: %w", e.ID, err)
			}
			e.Date = day.AddDate(0, 0, shift).Format(newsdesk.DateLayout)
			if _, slug, ok := strings.Cut(e.ID, "/"); ok {
				e.ID = e.Date + "/" + slug
			}
			if err := e.Validate(); err != nil {
				return fmt.Errorf("scale: copy %d of %s: %w", c+1, e.ID, err)
			}
			if err := enc.Encode(e); err != nil {
				return fmt.Errorf("scale: %w", err)
			}
			n++
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("scale: %w", err)
	}
	if gz != nil {
		if err := gz.Close(); err != nil {
			return fmt.Errorf("scale: %w", err)
		}
	}
	fmt.Fprintf(stderr, "scale: wrote %d events (%d copies of %d) to %s\n", n, *times, len(events), *out)
	return nil
}

// keepSink keeps the events read, in order, duplicates included; bad
// records are left out.
type keepSink struct{ events *[]newsdesk.Event }

func (k *keepSink) Event(e newsdesk.Event) error { *k.events = append(*k.events, e); return nil }
func (k *keepSink) Problem(ingest.Problem)       {}

// checkScale refuses, before anything is written, a number of copies
// whose dates would leave newsdesk's range (the copies are shifted from
// 4 before the input's dates to times-5 after), saying how many fit.
func checkScale(events []newsdesk.Event, times int) error {
	var first, last string
	for _, e := range events {
		if first == "" || e.Date < first {
			first = e.Date
		}
		last = max(last, e.Date)
	}
	if first == "" {
		return nil
	}
	fits := func(n int) bool {
		lo, err1 := time.Parse(newsdesk.DateLayout, first)
		hi, err2 := time.Parse(newsdesk.DateLayout, last)
		if err1 != nil || err2 != nil {
			return false
		}
		from := lo.AddDate(0, 0, -4*scaleShiftDays).Format(newsdesk.DateLayout)
		to := hi.AddDate(0, 0, (n-5)*scaleShiftDays).Format(newsdesk.DateLayout)
		return from >= newsdesk.MinDate && to <= newsdesk.MaxDate
	}
	if fits(times) {
		return nil
	}
	most := 0
	for n := 1; n < times && fits(n); n++ {
		most = n
	}
	return cli.Usagef("scale: -times %d would date copies outside %s to %s for events from %s to %s; at most %d fit", times, newsdesk.MinDate, newsdesk.MaxDate, first, last, most)
}
