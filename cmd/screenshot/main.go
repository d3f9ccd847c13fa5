// Screenshot takes PNG screenshots of a running searchd's pages in
// headless Chromium: the search page with a query, and an event page.
//
// Usage:
//
//	screenshot [-url http://127.0.0.1:8080] [-out screenshots] [-q "syria peace talks"] [-event ID] [-width 1280]
//
// It writes search.png, event.png and, at phone width, search-phone.png.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/chromedp/chromedp"
)

// defaultEvent is the event of ../shared/data/sample-event-page.md.
const defaultEvent = "2017-01-23/peace-talks-in-astana-kazakhstan-between-the-syrian-opposition-and-the-syrian-government-meant-to-build-on-a-fragile-ceasefire-c"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "screenshot:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("screenshot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "http://127.0.0.1:8080", "searchd base `URL`")
	out := fs.String("out", "screenshots", "output `directory`")
	q := fs.String("q", "syria peace talks", "the query of the search page")
	event := fs.String("event", defaultEvent, "the `id` of the event page")
	width := fs.Int("width", 1280, "window width in pixels")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	browser, err := exec.LookPath("chromium")
	if err != nil {
		return errors.New("chromium not found: install Debian's chromium package")
	}
	shots := []struct {
		file, url, wait string
		width, height   int
	}{
		{"search.png", *base + "/?q=" + url.QueryEscape(*q), "#results .hit", *width, 900},
		{"search-phone.png", *base + "/?q=" + url.QueryEscape(*q), "#results .hit", 390, 844},
		{"event.png", *base + "/events/" + *event, "ol.related", *width, 900},
	}
	for _, s := range shots {
		if err := shot(ctx, browser, s.url, s.wait, s.width, s.height, filepath.Join(*out, s.file)); err != nil {
			return fmt.Errorf("%s: %w", s.file, err)
		}
		fmt.Fprintln(stdout, filepath.Join(*out, s.file))
	}
	return nil
}

// Options starts Chromium headless as this machine needs it: no sandbox
// (root), no GPU, and none of its background network traffic.
func Options(browser string) []chromedp.ExecAllocatorOption {
	return append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
	)
}

func shot(ctx context.Context, browser, target, wait string, width, height int, file string) error {
	actx, cancel := chromedp.NewExecAllocator(ctx, append(Options(browser), chromedp.WindowSize(width, height))...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	bctx, cancel = context.WithTimeout(bctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(bctx,
		chromedp.Navigate(target),
		chromedp.WaitVisible(wait),
		chromedp.Sleep(200*time.Millisecond),
	); err != nil {
		return err
	}
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100)) // 100: PNG, not JPEG
	if err != nil {
		return err
	}
	return os.WriteFile(file, png, 0o644)
}
