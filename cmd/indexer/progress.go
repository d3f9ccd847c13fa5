package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rs/zerolog"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/newsdesk/newsdesk/build"
)

// logEvery is how often a build logs progress when it shows no bar.
const logEvery = 2 * time.Second

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newProgress returns the build's progress callback and its interval for
// the -progress mode: a bar of input bytes with events and events/s on a
// terminal, else a log line every logEvery.
func newProgress(mode string, stderr io.Writer, log zerolog.Logger) (func(build.Progress), time.Duration) {
	if mode == "auto" {
		mode = "log"
		if isTerminal(stderr) {
			mode = "bar"
		}
	}
	switch mode {
	case "bar":
		var bar *progressbar.ProgressBar
		return func(p build.Progress) {
			if bar == nil {
				bar = progressbar.NewOptions64(p.BytesTotal,
					progressbar.OptionSetWriter(stderr),
					progressbar.OptionSetWidth(30),
					progressbar.OptionShowBytes(true),
					progressbar.OptionSetPredictTime(true),
					progressbar.OptionThrottle(100*time.Millisecond),
					progressbar.OptionOnCompletion(func() { fmt.Fprintln(stderr) }),
				)
			}
			bar.Describe(fmt.Sprintf("%7d events %6.0f ev/s", p.Indexed, rate(p)))
			_ = bar.Set64(p.BytesRead)
		}, 100 * time.Millisecond
	case "log":
		return func(p build.Progress) {
			ev := log.Info().Int64("events", p.Indexed).Float64("events_per_s", float64(int(rate(p)))).
				Int64("bad", p.Bad)
			if p.BytesTotal > 0 {
				done := float64(p.BytesRead) / float64(p.BytesTotal)
				ev = ev.Float64("percent", float64(int(done*1000))/10)
				if done > 0 && done < 1 {
					eta := time.Duration(float64(p.Elapsed) * (1 - done) / done)
					ev = ev.Float64("eta_s", eta.Round(100*time.Millisecond).Seconds())
				}
			}
			ev.Msg("indexing")
		}, logEvery
	}
	return nil, 0
}

func rate(p build.Progress) float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Indexed) / p.Elapsed.Seconds()
}
