package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/cli"
	"github.com/newsdesk/newsdesk/testindex"
)

func TestParseConfig(t *testing.T) {
	var stdout bytes.Buffer
	c, err := parseConfig(nil, &stdout)
	if err != nil || c.listen != "127.0.0.1:8080" || c.index != "data/index" || c.timeout != 2*time.Second {
		t.Errorf("defaults: %+v, %v", c, err)
	}
	if c.inFlight != cpus || c.queue != 2*cpus {
		t.Errorf("limits: in-flight %d, queue %d; want %d and %d for %d CPUs", c.inFlight, c.queue, cpus, 2*cpus, cpus)
	}
	runtime.GOMAXPROCS(cpus) // as at start, whatever ran before
	if p := spareProc(func(k string) string { return map[string]string{"GOMAXPROCS": "1"}[k] }); p == cpus+1 {
		t.Errorf("GOMAXPROCS set, yet searchd chose %d procs itself", p)
	}
	if p := spareProc(func(string) string { return "" }); p != cpus+1 {
		t.Errorf("GOMAXPROCS unset: %d procs, want a spare one over %d CPUs", p, cpus)
	}
	t.Setenv("NEWSDESK_LISTEN", "127.0.0.1:9999")
	t.Setenv("NEWSDESK_TIMEOUT", "500ms")
	t.Setenv("NEWSDESK_IN_FLIGHT", "3")
	c, _ = parseConfig(nil, &stdout)
	if c.listen != "127.0.0.1:9999" || c.timeout != 500*time.Millisecond || c.inFlight != 3 || c.queue != 6 {
		t.Errorf("env twins not used: %+v", c)
	}
	c, _ = parseConfig([]string{"-listen", "127.0.0.1:7777"}, &stdout)
	if c.listen != "127.0.0.1:7777" {
		t.Errorf("flag does not beat env: %+v", c)
	}
	t.Setenv("NEWSDESK_BOOTSTRAP", "1")
	t.Setenv("NEWSDESK_BOOTSTRAP_FILES", "a.jsonl b.wiki")
	c, _ = parseConfig(nil, &stdout)
	if !c.bootstrap || strings.Join(c.files, ",") != "a.jsonl,b.wiki" {
		t.Errorf("bootstrap from env: %+v", c)
	}
	t.Setenv("NEWSDESK_BOOTSTRAP", "")
	t.Setenv("NEWSDESK_NATS", "nats://a:4222,nats://b:4222")
	t.Setenv("NEWSDESK_MAX_LAG", "3s")
	if c, err = parseConfig(nil, &stdout); err != nil || c.nats != "nats://a:4222,nats://b:4222" || c.maxLag != 3*time.Second {
		t.Errorf("replica mode from env: %+v, %v", c, err)
	}
	t.Setenv("NEWSDESK_NATS", "")
	t.Setenv("NEWSDESK_MAX_LAG", "")
	t.Setenv("NEWSDESK_ADMIN", "true")
	t.Setenv("NEWSDESK_ADMIN_KEY", "a-key-of-sixteen-characters")
	if c, err = parseConfig(nil, &stdout); err != nil || !c.admin {
		t.Errorf("NEWSDESK_ADMIN=true: admin %v, %v", c != nil && c.admin, err)
	}

	bad := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"x.jsonl"}, nil, "without -bootstrap"},
		{[]string{"-bootstrap"}, nil, "needs the files"},
		{[]string{"-timeout", "0s"}, nil, "-timeout must be positive"},
		{[]string{"-in-flight", "0"}, nil, "-in-flight must be at least 1"},
		{[]string{"-queue", "-1"}, nil, "-queue must be 0 (twice -in-flight) or more"},
		{[]string{"-log-level", "loud"}, nil, "-log-level"},
		{[]string{"-log-level", "trace"}, nil, "-log-level must be debug, info, warn or error"},
		{[]string{"-log-level", "disabled"}, nil, "-log-level must be debug, info, warn or error"},
		{[]string{"-log-level", "3"}, nil, "-log-level must be debug, info, warn or error"},
		// A value the check refuses, from a variable, names the variable.
		{nil, map[string]string{"NEWSDESK_IN_FLIGHT": "0"}, `-in-flight must be at least 1, got 0 (from NEWSDESK_IN_FLIGHT="0")`},
		{nil, map[string]string{"NEWSDESK_LOG_LEVEL": "panic"}, `(from NEWSDESK_LOG_LEVEL="panic")`},
		{[]string{"-listen", "bad"}, nil, `-listen "bad" is not an address`},
		{[]string{"-pprof", "bad"}, nil, `-pprof "bad" is not an address such as 127.0.0.1:6060`},
		{[]string{"-pprof", "127.0.0.1:70000"}, nil, `-pprof "127.0.0.1:70000": the port must be`},
		{nil, map[string]string{"NEWSDESK_TIMEOUT": "soon"}, `invalid value "soon" in NEWSDESK_TIMEOUT for -timeout`},
		// Strict: a value the flag would refuse is an error naming the
		// variable, never a silent default (NEWSDESK_ADMIN=yes left admin off).
		{nil, map[string]string{"NEWSDESK_ADMIN": "yes"}, `invalid value "yes" in NEWSDESK_ADMIN for -admin`},
		{nil, map[string]string{"NEWSDESK_IN_FLIGHT": "two"}, "NEWSDESK_IN_FLIGHT"},
		{nil, map[string]string{"NEWSDESK_METRICS_AUTH": "on"}, "NEWSDESK_METRICS_AUTH"},
		{[]string{"-nope"}, nil, "flag provided but not defined"},
		{[]string{"-admin"}, nil, "-admin needs the admin key"},
		{[]string{"-admin"}, map[string]string{"NEWSDESK_ADMIN_KEY": "short"}, "-admin needs the admin key, of at least 16 characters: NEWSDESK_ADMIN_KEY holds 5"},
		{[]string{"-admin", "-admin-key-file", "testdata/short.key"}, map[string]string{"NEWSDESK_ADMIN_KEY": "a key long enough here"}, "-admin-key-file testdata/short.key holds 5"},
		// 16 characters, not bytes: eight é are 16 bytes.
		{[]string{"-admin"}, map[string]string{"NEWSDESK_ADMIN_KEY": "éééééééé"}, "-admin needs the admin key"},
		{[]string{"-metrics-auth"}, nil, "-metrics-auth needs the admin key"},
		{nil, map[string]string{"NEWSDESK_METRICS_AUTH": "1"}, "-metrics-auth needs the admin key"},
		{[]string{"-metrics-auth", "-admin-key-file", "/nonexistent/key"}, nil, "-admin-key-file"},
		{[]string{"-admin", "-admin-key-file", "/nonexistent/key"}, nil, "-admin-key-file"},
		{[]string{"-cors-origins", "news.example"}, nil, "not an origin"},
		{[]string{"-nats", "nats://127.0.0.1:4222", "-bootstrap", "x.jsonl"}, nil, "a replica (-nats) downloads its generations"},
		{[]string{"-nats", "nats://127.0.0.1:4222", "-max-lag", "0s"}, nil, "-max-lag must be positive"},
		{nil, map[string]string{"NEWSDESK_MAX_LAG": "ten"}, `invalid value "ten" in NEWSDESK_MAX_LAG for -max-lag`},
		{[]string{"-nats", "nats://127.0.0.1:4222", "-nats-replicas", "-1"}, nil, "-nats-replicas must be 0"},
		// A replica's settings without -nats: a forgotten -nats.
		{[]string{"-max-lag", "30s"}, nil, "-max-lag set without -nats"},
		{nil, map[string]string{"NEWSDESK_NATS_REPLICAS": "3"}, "-nats-replicas set without -nats"},
		{[]string{"-progress", "fancy"}, nil, `-progress must be auto, bar, log or none, got "fancy"`},
		{[]string{"-listen", "127.0.0.1:99999"}, nil, "the port must be a number from 0 to 65535"},
		{nil, map[string]string{"NEWSDESK_PROGRESS": "fancy"}, `(from NEWSDESK_PROGRESS="fancy")`},
	}
	for _, tc := range bad {
		t.Run(strings.Join(tc.args, " ")+fmt.Sprint(tc.env), func(t *testing.T) {
			for _, k := range []string{"NEWSDESK_LISTEN", "NEWSDESK_TIMEOUT", "NEWSDESK_IN_FLIGHT", "NEWSDESK_BOOTSTRAP_FILES", "NEWSDESK_ADMIN", "NEWSDESK_ADMIN_KEY"} {
				t.Setenv(k, "")
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := parseConfig(tc.args, &stdout)
			var ue *cli.UsageError
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &ue) {
				t.Errorf("parseConfig(%v) with %v = %v, want a usage error containing %q", tc.args, tc.env, err, tc.want)
			}
		})
	}
}

func TestRun_NoIndex(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"-index", t.TempDir(), "-listen", "127.0.0.1:0"}, &out, &out, notify{})
	if err == nil || !strings.Contains(err.Error(), "indexer build") {
		t.Errorf("run without an index = %v, want advice to build one", err)
	}
}

// TestRun_BootstrapServeShutdown starts searchd on an empty directory with
// -bootstrap, searches it over real HTTP, and shuts it down.
func TestRun_BootstrapServeShutdown(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var logs bytes.Buffer
	go func() {
		done <- run(ctx, []string{"-index", dir, "-listen", "127.0.0.1:0", "-progress", "log", "-shutdown-delay", "0s", "-bootstrap", "testdata/events.jsonl"},
			&logs, &logs, notify{serving: ready})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run ended early: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatal("searchd did not get ready in 30s")
	}
	resp, err := http.Get("http://" + addr + "/v1/search?q=astana")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Total int `json:"total"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || body.Total != 3 {
		t.Errorf("search: status %d, total %d, want 200 and 3", resp.StatusCode, body.Total)
	}
	if r, err := http.Get("http://" + addr + "/readyz"); err != nil || r.StatusCode != http.StatusOK {
		t.Errorf("readyz: %v %v", r, err)
	}
	mr, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metricsText, _ := io.ReadAll(mr.Body)
	mr.Body.Close()
	for _, want := range []string{
		"newsdesk_index_events 8",
		`newsdesk_http_requests_total{method="GET",route="/v1/search",status="200"} 1`,
		`newsdesk_http_request_duration_seconds_bucket{route="/v1/search",le=`,
		`newsdesk_generation_swaps_total{result="swapped"} 1`,
		`newsdesk_index_generation_info{generation="`,
		`newsdesk_bleve_stat{name="index.`,
	} {
		if !strings.Contains(string(metricsText), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if err := run(context.Background(), []string{"-probe", "-listen", addr}, &logs, &logs, notify{}); err != nil {
		t.Errorf("probe of a live searchd: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after shutdown = %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("searchd did not shut down")
	}
	if err := run(context.Background(), []string{"-probe", "-listen", addr}, &logs, &logs, notify{}); err == nil {
		t.Error("probe of a stopped searchd succeeded")
	}
	for _, want := range []string{"no index yet", "bootstrap index built", "serving", "shutting down", "drained"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q", want)
		}
	}
}

// TestBulk_ApplySearchRestart sends a bulk request with good and bad
// lines to a real searchd, searches what it applied, and restarts it.
func TestBulk_ApplySearchRestart(t *testing.T) {
	const key = "test-admin-key-0123456789"
	dir := filepath.Join(t.TempDir(), "index")
	t.Setenv("NEWSDESK_ADMIN_KEY", key)
	start := func(args ...string) (string, context.CancelFunc, chan error) {
		ctx, cancel := context.WithCancel(context.Background())
		ready, done := make(chan string, 1), make(chan error, 1)
		var logs bytes.Buffer
		go func() {
			done <- run(ctx, append([]string{"-index", dir, "-listen", "127.0.0.1:0", "-admin", "-progress", "none", "-shutdown-delay", "0s"}, args...), &logs, &logs, notify{serving: ready})
		}()
		select {
		case addr := <-ready:
			return "http://" + addr, cancel, done
		case err := <-done:
			t.Fatalf("searchd ended: %v\n%s", err, logs.String())
		case <-time.After(30 * time.Second):
			t.Fatal("searchd not ready")
		}
		return "", cancel, done
	}
	base, stop, done := start("-bootstrap", "testdata/events.jsonl")
	body := strings.Join([]string{
		`{"upsert": {"id": "2019-06-01/a-flamingo-escapes-from-the-zoo", "date": "2019-06-01", "text": "A flamingo escapes from the zoo.", "context": ["Zoo"]}}`,
		`{"upsert": {"id": "2017-01-16/the-opposition-agrees-to-attend-peace-talks-in-astana-kazakhstan", "date": "2017-01-16", "topic": "Syrian peace process", "text": "The opposition agrees to attend peace talks in Astana, Kazakhstan, officials confirm."}}`,
		`{"upsert": {"date": "2019-06-02", "text": "No id."}}`,
		`not json`,
		`{"delete": "2017-01-23/peace-talks-in-astana-kazakhstan-end-with-no-breakthrough-reported"}`,
		`{"delete": "2017-01-23/no-such-event"}`,
		`{"rename": "x"}`,
		`{"delete": 42}`,
	}, "\n")
	post := func(auth string) (*http.Response, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, base+"/admin/events/_bulk", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-ndjson")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp, out
	}
	if resp, _ := post("Bearer wrong"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bulk with a wrong key: %d", resp.StatusCode)
	}
	resp, out := post("Bearer " + key)
	if resp.StatusCode != http.StatusOK || out["errors"] != true {
		t.Fatalf("bulk: %d %v", resp.StatusCode, out)
	}
	want := []struct {
		status float64
		result string
		reason string
	}{{201, "created", ""}, {200, "updated", ""}, {400, "error", `missing field "id"`}, {400, "error", "not a JSON object"},
		{200, "deleted", ""}, {404, "not_found", "no event"}, {400, "error", "unknown operation"}, {400, "error", "want an event id"}}
	items := out["items"].([]any)
	if len(items) != len(want) {
		t.Fatalf("%d items for %d lines: %v", len(items), len(want), items)
	}
	for i, w := range want {
		it := items[i].(map[string]any)
		if it["line"] != float64(i+1) || it["status"] != w.status || it["result"] != w.result || !strings.Contains(fmt.Sprint(it["error"]), w.reason) {
			t.Errorf("line %d: %v, want %v", i+1, it, w)
		}
	}
	// total counts the events with every word of q.
	total := func(q string) int {
		t.Helper()
		r, err := http.Get(base + "/v1/search?size=100&q=" + url.QueryEscape(q))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		var res struct {
			Total   int
			Relaxed bool
			Hits    []struct{ Text string }
		}
		json.NewDecoder(r.Body).Decode(&res)
		if !res.Relaxed {
			return res.Total
		}
		n := 0
		for _, h := range res.Hits {
			if strings.Contains(strings.ToLower(h.Text), q) {
				n++
			}
		}
		return n
	}
	check := func(when string) {
		if n := total("flamingo"); n != 1 {
			t.Errorf("%s: the upserted event: %d hits", when, n)
		}
		if n := total("officials confirm"); n != 1 {
			t.Errorf("%s: the updated event: %d hits", when, n)
		}
		if n := total("breakthrough"); n != 0 {
			t.Errorf("%s: the deleted event still found: %d hits", when, n)
		}
	}
	check("after the bulk request")
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	base, stop, done = start()
	check("after a restart")
	stop()
	<-done
}

// TestRun_RepairsTornJournal starts searchd on an index directory whose
// journal a crash tore: it starts, says what it cut and where it kept it,
// and serves the updates before the tear.
func TestRun_RepairsTornJournal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	d := testindex.Build(t, dir, "testdata/events.jsonl")
	good := `{"upsert":{"id":"2019-06-01/a-flamingo-escapes","date":"2019-06-01","text":"A flamingo escapes."}}` + "\n"
	torn := `{"upsert":{"id":"2019-06-02/a-heron-esc`
	if err := os.WriteFile(d.Journal().Path(), []byte(good+torn), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	var logs bytes.Buffer
	go func() {
		done <- run(ctx, []string{"-index", dir, "-listen", "127.0.0.1:0", "-shutdown-delay", "0s"}, &logs, &logs, notify{serving: ready})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("searchd did not start on a torn journal: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatal("searchd not ready")
	}
	resp, err := http.Get("http://" + addr + "/v1/search?q=flamingo")
	if err != nil {
		t.Fatal(err)
	}
	var res struct{ Total int }
	json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	cancel()
	<-done
	if res.Total != 1 {
		t.Errorf("the update before the tear: %d hits, want 1", res.Total)
	}
	if j, _ := os.ReadFile(d.Journal().Path()); string(j) != good {
		t.Errorf("journal after the repair: %q, want the good line alone", j)
	}
	kept, _ := filepath.Glob(d.Journal().Path() + ".torn-*")
	if len(kept) != 1 {
		t.Fatalf("kept files: %v, want one", kept)
	}
	if b, _ := os.ReadFile(kept[0]); string(b) != torn {
		t.Errorf("kept %q, want the torn tail %q", b, torn)
	}
	for _, want := range []string{"torn journal tail cut", `"kept_in":"` + kept[0], `"cut_bytes":` + fmt.Sprint(len(torn))} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %s:\n%s", want, logs.String())
		}
	}
}

// TestRun_MetricsAuth starts searchd with -metrics-auth (and the admin
// key, without -admin): /metrics answers 401 without the key, 200 with it.
func TestRun_MetricsAuth(t *testing.T) {
	const key = "metrics-admin-key-0123456789"
	dir := filepath.Join(t.TempDir(), "index")
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	var logs bytes.Buffer
	t.Setenv("NEWSDESK_ADMIN_KEY", key)
	t.Setenv("NEWSDESK_METRICS_AUTH", "1")
	go func() {
		done <- run(ctx, []string{"-index", dir, "-listen", "127.0.0.1:0", "-progress", "none", "-shutdown-delay", "0s", "-bootstrap", "testdata/events.jsonl"}, &logs, &logs, notify{serving: ready})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("searchd ended: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatal("searchd not ready")
	}
	defer func() { cancel(); <-done }()
	for _, tc := range []struct {
		auth string
		want int
	}{{"", http.StatusUnauthorized}, {"Bearer not-the-key-0123456789", http.StatusUnauthorized}, {"Bearer " + key, http.StatusOK}} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want || (tc.want == http.StatusOK) != strings.Contains(string(b), "newsdesk_index_events") {
			t.Errorf("/metrics with %q: %d %.100s, want %d", tc.auth, resp.StatusCode, b, tc.want)
		}
	}
	// The admin routes stay off without -admin.
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/admin/reload", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("admin route without -admin: %v %v", resp, err)
	}
}

// TestBulk_UpsertClearsFieldsAcrossRebuild upserts, through searchd's bulk
// route, an event of its input file with its topic, category, context and
// sources left out: the served event has them empty, and so has the event
// of every later rebuild, which replays the journal (it used to merge the
// upsert into the file's event, bringing the fields back).
func TestBulk_UpsertClearsFieldsAcrossRebuild(t *testing.T) {
	const id = "2017-01-23/peace-talks-in-astana-kazakhstan-end-with-no-breakthrough-reported"
	t.Setenv("NEWSDESK_ADMIN_KEY", testKey)
	dir := filepath.Join(t.TempDir(), "index")
	ctx, cancel := context.WithCancel(context.Background())
	serving, done := make(chan string, 1), make(chan error, 1)
	var logs bytes.Buffer
	go func() {
		done <- run(ctx, []string{"-index", dir, "-listen", "127.0.0.1:0", "-admin", "-progress", "none", "-shutdown-delay", "0s",
			"-bootstrap", "testdata/events.jsonl"}, &logs, &logs, notify{serving: serving})
	}()
	defer func() { cancel(); <-done }()
	var addr string
	select {
	case addr = <-serving:
	case err := <-done:
		t.Fatalf("run ended: %v\n%s", err, logs.String())
	}
	c := client{t: t, base: "http://" + addr}
	if code, out := c.bulk(upsert(id, "Peace talks in Astana end.")); code != http.StatusOK {
		t.Fatalf("bulk: %d %v", code, out)
	}
	want := `{"id":"` + id + `","date":"2017-01-23","category":"","topic":"","context":[],"text":"Peace talks in Astana end.","sources":[]}`
	check := func(when string) {
		t.Helper()
		code, body := c.get("/v1/events/" + id)
		if code != http.StatusOK || strings.TrimSpace(body) != want {
			t.Errorf("%s: %d %s\nwant %s", when, code, body, want)
		}
	}
	check("served after the upsert")
	testindex.Build(t, dir, "testdata/events.jsonl")
	req, _ := http.NewRequest(http.MethodPost, c.base+"/admin/reload", nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"swapped":true`) {
		t.Fatalf("reload after the rebuild: %d %s", resp.StatusCode, b)
	}
	check("after a rebuild")
}

// TestNormalOrigin: -cors-origins takes an origin as one may write it and
// keeps it as browsers send it; what is not an origin is refused.
func TestNormalOrigin(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://news.example", "https://news.example"},
		{"https://News.Example/", "https://news.example"},
		{"HTTPS://partner.example:443", "https://partner.example"},
		{"http://partner.example:80", "http://partner.example"},
		{"http://localhost:8081", "http://localhost:8081"},
		{"https://[::1]:8443", "https://[::1]:8443"},
		{"https://[::1]", "https://[::1]"},
		{"news.example", ""},
		{"ftp://news.example", ""},
		{"https://news.example/widget", ""},
		{"https://user@news.example", ""},
		{"https://", ""},
	} {
		got, ok := normalOrigin(tc.in)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("normalOrigin(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
}

// TestRun_HUPWhileStarting: a SIGHUP sent while searchd starts (here while
// it builds its bootstrap index) does not end it, as the signal's default
// would: it goes on to serve.
func TestRun_HUPWhileStarting(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	listening, ready := make(chan string, 1), make(chan string, 1)
	done := make(chan error, 1)
	var logs bytes.Buffer
	go func() {
		done <- run(ctx, []string{"-index", dir, "-listen", "127.0.0.1:0", "-progress", "none", "-shutdown-delay", "0s", "-bootstrap", "testdata/events.jsonl"},
			&logs, &logs, notify{listening: listening, serving: ready})
	}()
	select {
	case <-listening:
	case <-time.After(30 * time.Second):
		t.Fatal("searchd did not listen in 30s")
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("run ended: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatal("searchd did not get ready in 30s")
	}
	cancel()
	<-done
}
