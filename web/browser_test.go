package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/newsdesk/newsdesk/api"
	"github.com/newsdesk/newsdesk/mappings"
	"github.com/newsdesk/newsdesk/search"
	"github.com/newsdesk/newsdesk/testindex"
	"github.com/newsdesk/newsdesk/web"
)

// chromium finds the browser. Without one the browser tests are skipped,
// except on CI (CI=true), where they fail: CI installs Debian's chromium.
// With -short they are skipped.
func chromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: the browser tests start Chromium (2 s or more each); go test without -short runs them")
	}
	for _, name := range []string{os.Getenv("CHROMIUM"), "chromium", "chromium-browser"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed; .ci/run installs Debian's chromium package")
	}
	t.Skip("chromium is not installed (apt-get install chromium); set CI=true to make this a failure")
	return ""
}

// server starts searchd's handler over the fixture, allowing the given
// origins to call the API.
func server(t *testing.T, origins ...string) *httptest.Server {
	t.Helper()
	return serverWith(t, api.Config{AllowedOrigins: origins}, nil)
}

// serverWith starts searchd's handler over the fixture with cfg (its
// Searcher and Pages set here), behind wrap when not nil.
func serverWith(t *testing.T, cfg api.Config, wrap func(http.Handler) http.Handler) *httptest.Server {
	t.Helper()
	idx := testindex.Open(t, "testdata/events.jsonl")
	e, err := search.New(idx.Source, mappings.New(), idx.Index.Legacy)
	if err != nil {
		t.Fatal(err)
	}
	pages, err := web.New(func() web.Source { return e })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Searcher, cfg.Pages = func() api.Searcher { return e }, pages
	var h http.Handler = api.New(cfg)
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// browser returns a headless Chromium context for one test.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true), chromedp.WindowSize(1200, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel)
	// Whatever the pages' Content-Security-Policy blocks, the browser logs:
	// any such message fails the test (checked before the browser closes).
	var mu sync.Mutex
	var blocked []string
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if strings.Contains(m.Text, "Content Security Policy") {
				mu.Lock()
				blocked = append(blocked, m.Text)
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, b := range blocked {
			t.Errorf("the CSP blocked something: %s", b)
		}
	})
	return ctx
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func total(t *testing.T, ctx context.Context) int {
	t.Helper()
	n, err := strconv.Atoi(strings.ReplaceAll(text(t, ctx, "#total"), ",", ""))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// waitTotalNot waits until the result count differs from old.
func waitTotalNot(t *testing.T, ctx context.Context, old int) int {
	t.Helper()
	js := fmt.Sprintf(`(function(){var e=document.getElementById("total");return e!==null&&e.textContent!==%q})()`, strconv.Itoa(old))
	do(t, ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingInterval(50*time.Millisecond)))
	return total(t, ctx)
}

func TestBrowser_SearchHighlightsFacetsDates(t *testing.T) {
	srv := server(t)
	ctx := browser(t)
	do(t, ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible("#q"),
		chromedp.SendKeys("#q", "peace"+kb.Enter),
		chromedp.WaitVisible("#results .hit mark"),
	)
	if m := text(t, ctx, "#results .hit mark"); !strings.EqualFold(m, "peace") {
		t.Errorf("highlighted %q, want peace", m)
	}
	all := total(t, ctx)
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "q=peace") {
		t.Errorf("the URL %s does not hold the query", loc)
	}
	// A category chip narrows the results.
	do(t, ctx, chromedp.Click(`#facets button.chip[data-kind="category"][data-value="Politics and elections"]`))
	politics := waitTotalNot(t, ctx, all)
	if politics >= all {
		t.Errorf("the category filter left %d of %d events", politics, all)
	}
	do(t, ctx, chromedp.WaitVisible(`#filters button.chip.on`))
	// A date range narrows them again.
	do(t, ctx,
		chromedp.SetValue("#from", "2017-01-01"),
		chromedp.SetValue("#to", "2017-12-31"),
		chromedp.Click(`#search button[type="submit"]`),
	)
	dated := waitTotalNot(t, ctx, politics)
	if dated >= politics || dated == 0 {
		t.Errorf("the date range left %d of %d events", dated, politics)
	}
	// The back button restores the previous state.
	do(t, ctx, chromedp.NavigateBack())
	if back := waitTotalNot(t, ctx, dated); back != politics {
		t.Errorf("back gave %d events, want %d", back, politics)
	}
	// A histogram bar narrows the range to its bucket.
	do(t, ctx,
		chromedp.Navigate(srv.URL+"/?q=cyclone"),
		chromedp.WaitVisible(".histogram button"),
		chromedp.Evaluate[chromedp.Void](`Array.from(document.querySelectorAll(".histogram button")).find(function(b){return !/: 0 events$/.test(b.title)}).click()`),
		chromedp.Poll[chromedp.Void](`location.search.indexOf("from=2019-") >= 0 && document.getElementById("from").value !== ""`),
	)
	// Within a range already chosen, a bar narrows it to their overlap:
	// March's bar of 10 March to 31 December keeps the 10th.
	do(t, ctx,
		chromedp.Navigate(srv.URL+"/?q=cyclone&from=2019-03-10&to=2019-12-31"),
		chromedp.WaitVisible(".histogram button"),
		chromedp.Evaluate[chromedp.Void](`Array.from(document.querySelectorAll(".histogram button")).find(function(b){return !/: 0 events$/.test(b.title)}).click()`),
		chromedp.Poll[chromedp.Void](`location.search.indexOf("to=2019-03-31") >= 0`),
	)
	narrowed, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.search`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(narrowed, "from=2019-03-10") {
		t.Errorf("March's bar within 2019-03-10..2019-12-31 asked for %s, want from=2019-03-10", narrowed)
	}
	// Suggestions come as the user types.
	do(t, ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible("#q"),
		chromedp.SendKeys("#q", "cyc"),
		chromedp.Poll[chromedp.Void](`document.querySelector("#suggestions option[value='Cyclone Idai']") !== null`),
	)
	// A shared link with parameters of its own (a social network's
	// fbclid, a campaign's utm_source) still searches.
	do(t, ctx, chromedp.Navigate(srv.URL+"/?q=peace&fbclid=abc123&utm_source=news"), chromedp.WaitVisible("#results .hit mark"))
	if n := total(t, ctx); n != all {
		t.Errorf("with fbclid and utm_source: %d events, want the %d of q=peace", n, all)
	}
	// A filter spelled in another case: its facet chip is on, and turns it off.
	do(t, ctx,
		chromedp.Navigate(srv.URL+"/?q=peace&category=politics+and+elections"),
		chromedp.WaitVisible(`#facets button.chip.on[data-kind="category"][data-value="Politics and elections"]`),
	)
	if n := total(t, ctx); n != politics {
		t.Errorf("category in lower case: %d events, want the %d of the chip", n, politics)
	}
	do(t, ctx, chromedp.Click(`#facets button.chip.on[data-kind="category"][data-value="Politics and elections"]`))
	if n := waitTotalNot(t, ctx, politics); n != all {
		t.Errorf("the chip turned off: %d events, want the %d of q=peace", n, all)
	}
	// An honest empty state.
	do(t, ctx, chromedp.Navigate(srv.URL+"/?q=zzqqxxyy"), chromedp.WaitVisible(".empty"))
	if s := text(t, ctx, ".empty"); !strings.Contains(s, "No event matches") {
		t.Errorf("empty state = %q", s)
	}
	// A word too common to be indexed, written as a name, is said to be
	// left out; alone, the empty state says so too.
	do(t, ctx, chromedp.Navigate(srv.URL+"/?q=WHO+peace"), chromedp.WaitVisible("#results .hit mark"), chromedp.WaitVisible("#ignored"))
	if s := text(t, ctx, "#ignored"); !strings.Contains(s, "“WHO”") {
		t.Errorf("the notice of a word not searched = %q", s)
	}
	do(t, ctx, chromedp.Navigate(srv.URL+"/?q=the"), chromedp.WaitVisible(".empty"), chromedp.WaitVisible("#ignored"))
	do(t, ctx, chromedp.Navigate(srv.URL+"/?q=peace+in+astana"), chromedp.WaitVisible("#results .hit mark"))
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("ignored") === null`)); err != nil || !n {
		t.Errorf("a notice for the stop word of \"peace in astana\" (err %v)", err)
	}
}

func TestBrowser_EventPageRelated(t *testing.T) {
	srv := server(t)
	ctx := browser(t)
	do(t, ctx,
		chromedp.Navigate(srv.URL+"/?q=breakthrough"),
		chromedp.WaitVisible("#results .hit a"),
		chromedp.Click("#results .hit a"),
		chromedp.WaitVisible("ol.related a"),
	)
	first := text(t, ctx, "h1")
	if !strings.Contains(first, "no breakthrough") {
		t.Fatalf("event page h1 = %q", first)
	}
	if src := text(t, ctx, "ol.sources"); !strings.Contains(src, "Radio Free Europe") {
		t.Errorf("sources = %q", src)
	}
	if reason := text(t, ctx, "ol.related .reason"); !strings.Contains(reason, "Syrian peace process") {
		t.Errorf("first reason = %q", reason)
	}
	do(t, ctx, chromedp.Click("ol.related a"), chromedp.WaitVisible("ol.related"))
	js := fmt.Sprintf(`document.querySelector("h1").textContent !== %q`, first)
	do(t, ctx, chromedp.Poll[chromedp.Void](js))
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "/events/") {
		t.Errorf("the Related link led to %s", loc)
	}
}

func TestBrowser_WidgetOnAnotherOrigin(t *testing.T) {
	const id = "2017-01-23/peace-talks-in-astana-kazakhstan-end-with-no-breakthrough-reported"
	var searchdURL string // set once searchd runs; the partner pages embed it
	partner := func() *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><html><body><h1>Partner news site</h1>
<script src="%s/widget.js" data-event="%s" data-size="3" async></script></body></html>`, searchdURL, id)
		}))
		t.Cleanup(s.Close)
		return s
	}
	// Listeners on 127.0.0.1 with different ports are different origins.
	allowed, other := partner(), partner()
	searchdURL = server(t, allowed.URL).URL
	ctx := browser(t)

	do(t, ctx, chromedp.Navigate(allowed.URL+"/"), chromedp.WaitVisible(".newsdesk-related li a"))
	items, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".newsdesk-related li").length`))
	if err != nil || items != 3 {
		t.Errorf("the widget shows %d items (%v), want 3", items, err)
	}
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(".newsdesk-related li a").href`))
	if err != nil || !strings.HasPrefix(href, searchdURL+"/events/") {
		t.Errorf("the widget links to %q (%v), want searchd's event pages", href, err)
	}
	// Each item as the event page (and the sample page) shows it: with its
	// context tags.
	if meta := text(t, ctx, ".newsdesk-related li small"); !strings.Contains(meta, "Context: ") {
		t.Errorf("the widget's first item says %q, without its context", meta)
	}

	// An origin searchd does not allow gets no list: the browser blocks it.
	do(t, ctx, chromedp.Navigate(other.URL+"/"))
	do(t, ctx, chromedp.Poll[chromedp.Void](`(function(){var b=document.querySelector(".newsdesk-related");return b!==null&&b.textContent.indexOf("unavailable")>=0})()`))
}

// TestBrowser_WidgetRevalidates loads a partner page with the widget
// twice: the second time the browser asks for the related list with the
// ETag of the first answer, gets 304 (no search), and shows the list from
// its cache.
func TestBrowser_WidgetRevalidates(t *testing.T) {
	const id = "2017-01-23/peace-talks-in-astana-kazakhstan-end-with-no-breakthrough-reported"
	var searchdURL string
	partner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><body><h1>Partner news site</h1>
<script src="%s/widget.js" data-event="%s" data-size="3" async></script></body></html>`, searchdURL, id)
	}))
	t.Cleanup(partner.Close)
	var mu sync.Mutex
	var statuses []int // of the related list's requests, in order
	record := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
			h.ServeHTTP(rec, r)
			if strings.HasSuffix(r.URL.Path, "/related") && r.Method == http.MethodGet {
				mu.Lock()
				statuses = append(statuses, rec.status)
				mu.Unlock()
			}
		})
	}
	position := func() (string, int64) { return "20261201T000000.000000000Z", 42 }
	searchdURL = serverWith(t, api.Config{AllowedOrigins: []string{partner.URL}, Position: position}, record).URL
	ctx := browser(t)
	for range 2 {
		do(t, ctx, chromedp.Navigate(partner.URL+"/"), chromedp.WaitVisible(".newsdesk-related li a"))
		items, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".newsdesk-related li").length`))
		if err != nil || items != 3 {
			t.Errorf("the widget shows %d items (%v), want 3", items, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(statuses) != 2 || statuses[0] != http.StatusOK || statuses[1] != http.StatusNotModified {
		t.Errorf("the related list's answers: %v, want 200 then 304", statuses)
	}
}

// statusWriter records the status a handler answers.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// TestBrowser_Phone searches on a 390 px wide screen: the first result is
// near the top, the facets wait behind the Refine button (they used to
// come first, putting the first result about 1,000 px down), and the
// button shows them.
func TestBrowser_Phone(t *testing.T) {
	srv := server(t)
	ctx := browser(t)
	do(t, ctx,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(3)),
		chromedp.Navigate(srv.URL+"/?q=peace"),
		chromedp.WaitVisible("#results .hit"),
	)
	top, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector("#results .hit").getBoundingClientRect().top + window.scrollY`))
	if err != nil {
		t.Fatal(err)
	}
	if top > 300 {
		t.Errorf("the first result is %.0f px down a 390 px wide page, want it on the first screen, near the top", top)
	}
	shown := func(sel string) bool {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`getComputedStyle(document.querySelector("`+sel+`")).display !== "none"`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if shown("#facets") || !shown("#refine") {
		t.Errorf("on a phone: facets shown %v, Refine button shown %v; want the facets behind the button", shown("#facets"), shown("#refine"))
	}
	all := total(t, ctx)
	do(t, ctx, chromedp.Click("#refine"), chromedp.WaitVisible(`#facets button.chip[data-kind="category"]`))
	if exp, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("refine").getAttribute("aria-expanded")`)); exp != "true" {
		t.Errorf("Refine's aria-expanded = %q once open", exp)
	}
	do(t, ctx, chromedp.Click(`#facets button.chip[data-kind="category"][data-value="Politics and elections"]`))
	if n := waitTotalNot(t, ctx, all); n >= all {
		t.Errorf("a facet chosen on a phone left %d of %d events", n, all)
	}
	// A wide screen shows the facets beside the results, no button.
	do(t, ctx, chromedp.EmulateViewport(1200, 900), chromedp.Navigate(srv.URL+"/?q=peace"), chromedp.WaitVisible("#facets .chip"))
	if !shown("#facets") || shown("#refine") {
		t.Errorf("on a wide screen: facets shown %v, Refine shown %v", shown("#facets"), shown("#refine"))
	}
}

// TestBrowser_RetriesA429 answers the page's first search with the API's
// 429 and Retry-After: 1: the page says it is busy and retrying, retries
// once after the wait, and shows the results (it used to say "The search
// failed").
func TestBrowser_RetriesA429(t *testing.T) {
	// Written by the server's goroutines, read by the test's: atomics.
	var searches, first, retried atomic.Int64
	api := server(t).Config.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/search" {
			switch searches.Add(1) {
			case 1:
				first.Store(time.Now().UnixNano())
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				fmt.Fprint(w, `{"error":{"code":"overloaded","message":"the server is answering as many requests as it can; retry in a second"}}`)
				return
			case 2:
				retried.Store(time.Now().UnixNano() - first.Load())
			}
		}
		api.ServeHTTP(w, r)
	}))
	defer srv.Close()
	ctx := browser(t)
	do(t, ctx,
		chromedp.Navigate(srv.URL+"/?q=peace"),
		chromedp.Poll[chromedp.Void](`document.getElementById("status").textContent.indexOf("busy; retrying") >= 0`,
			chromedp.WithPollingInterval(20*time.Millisecond)),
		chromedp.WaitVisible("#results .hit"),
	)
	if n := searches.Load(); n != 2 {
		t.Errorf("%d searches sent, want the first and one retry", n)
	}
	if d := time.Duration(retried.Load()); d < 900*time.Millisecond {
		t.Errorf("retried after %v, before the Retry-After of 1 s", d)
	}
	if s := text(t, ctx, "#status"); strings.Contains(s, "failed") {
		t.Errorf("status %q after the retry", s)
	}
}

// TestBrowser_FailuresPagesFocus checks what the search page draws when a
// search fails (nothing of the search before), for a page past the last
// (a step back to the last), and where the focus goes after a chip or a
// pager button (the same chip, the status line; not the page's top).
func TestBrowser_FailuresPagesFocus(t *testing.T) {
	srv := server(t)
	ctx := browser(t)
	do(t, ctx,
		chromedp.Navigate(srv.URL+"/?from=2000-01-01"),
		chromedp.WaitVisible("#results .hit"),
		chromedp.SetValue("#from", "2020-01-01"),
		chromedp.SetValue("#to", "2010-01-01"),
		chromedp.Click(`#search button[type="submit"]`),
		chromedp.Poll[chromedp.Void](`document.getElementById("status").textContent.indexOf("The search failed") === 0`),
	)
	left, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#results .hit, #facets button, #pager button").length`))
	if err != nil || left != 0 {
		t.Errorf("after a failed search, %d results, chips and page buttons of the one before are shown (%v)", left, err)
	}

	do(t, ctx,
		chromedp.Navigate(srv.URL+"/?from=2000-01-01&page=50"),
		chromedp.WaitVisible(".empty"),
	)
	if s := text(t, ctx, ".empty"); !strings.Contains(s, "past the last") {
		t.Errorf("page 50 of a few says %q", s)
	}
	do(t, ctx,
		chromedp.Click(`#pager button`),
		chromedp.WaitVisible("#results .hit"),
		chromedp.Poll[chromedp.Void](`/page=[2-9]/.test(location.search) && document.activeElement === document.getElementById("status")`),
	)
	// Beyond the deepest page the API serves (page 150 of 10): the same.
	do(t, ctx,
		chromedp.Navigate(srv.URL+"/?from=2000-01-01&page=150"),
		chromedp.WaitVisible(".empty"),
		chromedp.WaitVisible(`#pager button`),
	)
	if s := text(t, ctx, ".empty"); !strings.Contains(s, "past the last") {
		t.Errorf("page 150 says %q", s)
	}

	const chip = `#facets button.chip[data-kind="category"][data-value="Politics and elections"]`
	do(t, ctx,
		chromedp.Navigate(srv.URL+"/?q=peace"),
		chromedp.WaitVisible(chip),
		chromedp.Focus(chip),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(`#filters button.chip.on`),
		chromedp.Poll[chromedp.Void](`document.activeElement.getAttribute("data-key") === "chip category politics and elections"`),
	)
}

// TestBrowser_IntroCountsTheIndex: the empty search page says how many
// events the served index holds and since when (GET /v1/info), not the
// corpus's figures of the day it was written, whatever the index.
func TestBrowser_IntroCountsTheIndex(t *testing.T) {
	srv := serverWith(t, api.Config{Info: func() api.Info { return api.Info{Events: 1234, FirstDate: "2016-01-01"} }}, nil)
	ctx := browser(t)
	do(t, ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible("#q"),
		chromedp.Poll[chromedp.Void](`document.getElementById("status").textContent.indexOf("Search 1,234 news events since 2016") === 0`),
	)
}
