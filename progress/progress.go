// Package progress shows a running index build to a person: a bar with
// events, events/s and an ETA on a terminal, else a log line every few
// seconds. Both cmd/indexer and searchd's bootstrap use it.
package progress

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/newsdesk/newsdesk/build"
)

// LogEvery is how often a build logs progress when it shows no bar.
const LogEvery = 2 * time.Second

// Modes of New.
var Modes = []string{"auto", "bar", "log", "none"}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// CheckMode returns an error naming mode when New does not know it.
func CheckMode(mode string) error {
	if !slices.Contains(Modes, mode) {
		return fmt.Errorf("-progress must be %s, got %q", strings.Join(Modes[:len(Modes)-1], ", ")+" or "+Modes[len(Modes)-1], mode)
	}
	return nil
}

// New returns a build progress callback for mode, and the interval to
// call it at: "bar" draws a bar on stderr, "log" logs a line every
// LogEvery, "none" shows nothing (nil), "auto" picks a bar on a terminal
// and log lines elsewhere.
func New(mode string, stderr io.Writer, log zerolog.Logger) (func(build.Progress), time.Duration) {
	if mode == "auto" {
		mode = "log"
		if IsTerminal(stderr) {
			mode = "bar"
		}
	}
	switch mode {
	case "bar":
		var bar *progressbar.ProgressBar
		return func(p build.Progress) {
			if bar == nil {
				bar = progressbar.NewOptions64(1000,
					progressbar.OptionSetWriter(stderr),
					progressbar.OptionSetWidth(30),
					progressbar.OptionSetPredictTime(false),
					progressbar.OptionThrottle(100*time.Millisecond),
				)
			}
			desc := fmt.Sprintf("%7d events %6.0f ev/s", p.Indexed, rate(p))
			if eta := p.ETA(); eta > 0 {
				desc += fmt.Sprintf("  ETA %4.1fs", eta.Seconds())
			}
			bar.Describe(desc)
			_ = bar.Set64(int64(p.Fraction() * 1000))
			if p.Done {
				_ = bar.Finish()
				fmt.Fprintln(stderr)
			}
		}, 100 * time.Millisecond
	case "log":
		return func(p build.Progress) {
			ev := log.Info().Int64("events", p.Indexed).Float64("events_per_s", float64(int(rate(p)))).
				Int64("bad", p.Bad).Float64("percent", float64(int(p.Fraction()*1000))/10)
			if eta := p.ETA(); eta > 0 {
				ev = ev.Float64("eta_s", eta.Round(100*time.Millisecond).Seconds())
			}
			ev.Msg("indexing")
		}, LogEvery
	}
	return nil, 0
}

func rate(p build.Progress) float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Indexed) / p.Elapsed.Seconds()
}
