package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	var stderr bytes.Buffer

	c, err := parseConfig(nil, getenv, &stderr)
	if err != nil || c.listen != "127.0.0.1:8080" || c.index != "data/index" || c.timeout != 2*time.Second {
		t.Errorf("defaults: %+v, %v", c, err)
	}
	env["NEWSDESK_LISTEN"] = "127.0.0.1:9999"
	env["NEWSDESK_TIMEOUT"] = "500ms"
	c, _ = parseConfig(nil, getenv, &stderr)
	if c.listen != "127.0.0.1:9999" || c.timeout != 500*time.Millisecond {
		t.Errorf("env twins not used: %+v", c)
	}
	c, _ = parseConfig([]string{"-listen", "127.0.0.1:7777"}, getenv, &stderr)
	if c.listen != "127.0.0.1:7777" {
		t.Errorf("flag does not beat env: %+v", c)
	}
	env["NEWSDESK_BOOTSTRAP"] = "1"
	env["NEWSDESK_BOOTSTRAP_FILES"] = "a.jsonl b.wiki"
	c, _ = parseConfig(nil, getenv, &stderr)
	if !c.bootstrap || strings.Join(c.files, ",") != "a.jsonl,b.wiki" {
		t.Errorf("bootstrap from env: %+v", c)
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
		{[]string{"-log-level", "loud"}, nil, "-log-level"},
		{nil, map[string]string{"NEWSDESK_TIMEOUT": "soon"}, "NEWSDESK_TIMEOUT"},
		{[]string{"-nope"}, nil, "flag provided but not defined"},
		{[]string{"-admin"}, nil, "-admin needs a key"},
		{[]string{"-admin"}, map[string]string{"NEWSDESK_ADMIN_KEY": "short"}, "-admin needs a key"},
		{[]string{"-admin", "-admin-key-file", "/nonexistent/key"}, nil, "-admin-key-file"},
		{[]string{"-cors-origins", "news.example"}, nil, "not an origin"},
	}
	for _, tc := range bad {
		_, err := parseConfig(tc.args, func(k string) string { return tc.env[k] }, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseConfig(%v, %v) = %v, want an error containing %q", tc.args, tc.env, err, tc.want)
		}
	}
}

func TestRun_NoIndex(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"-index", t.TempDir(), "-listen", "127.0.0.1:0"}, func(string) string { return "" }, &out, &out, nil)
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
		done <- run(ctx, []string{"-index", dir, "-listen", "127.0.0.1:0", "-progress", "log", "-bootstrap", "testdata/events.jsonl"},
			func(string) string { return "" }, &logs, &logs, ready)
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
	if err := run(context.Background(), []string{"-probe", "-listen", addr}, func(string) string { return "" }, &logs, &logs, nil); err != nil {
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
	if err := run(context.Background(), []string{"-probe", "-listen", addr}, func(string) string { return "" }, &logs, &logs, nil); err == nil {
		t.Error("probe of a stopped searchd succeeded")
	}
	for _, want := range []string{"no index yet", "bootstrap index built", "serving", "shutting down"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q", want)
		}
	}
}
