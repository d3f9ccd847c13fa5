package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/build"
	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/natstest"
	"github.com/newsdesk/newsdesk/smallfs"
	"github.com/newsdesk/newsdesk/testindex"
)

const testKey = "test-admin-key-0123456789"

// TestMain lets the disk test run this test binary as searchd, in its own
// process, so that a crash is seen as one; and TestCluster run it as
// searchd replicas and as NATS servers.
func TestMain(m *testing.M) {
	natstest.RunChild() // TestCluster's NATS nodes
	if os.Getenv("NEWSDESK_TEST_AS_SEARCHD") == "1" {
		main()
		return
	}
	// The flags' environment twins of the shell running the tests must
	// not change what they check; tests set those they need.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "NEWSDESK_") {
			os.Unsetenv(k)
		}
	}
	os.Exit(m.Run())
}

// client talks to a searchd under test.
type client struct {
	t    testing.TB
	base string
}

func (c client) get(path string) (int, string) {
	c.t.Helper()
	resp, err := http.Get(c.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (c client) total(q string) int {
	c.t.Helper()
	code, body := c.get("/v1/search?q=" + url.QueryEscape(q))
	var res struct{ Total int }
	if err := json.Unmarshal([]byte(body), &res); err != nil || code != http.StatusOK {
		c.t.Fatalf("search %q: %d %s", q, code, body)
	}
	return res.Total
}

// bulk sends body to the bulk endpoint and returns the status and answer.
func (c client) bulk(body io.Reader) (int, map[string]any) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.base+"/admin/events/_bulk", body)
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// waitReady polls /readyz until it answers want, and returns its body.
func (c client) waitReady(want int, within time.Duration) string {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for {
		code, body := c.get("/readyz")
		if code == want {
			return body
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("/readyz answered %d (%s), want %d within %v", code, body, want, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func upsert(id, text string) io.Reader {
	return strings.NewReader(fmt.Sprintf(`{"upsert": {"id": %q, "date": %q, "text": %q}}`+"\n", id, id[:10], text))
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestDiskFull fills the small filesystem a searchd process serves from
// while it is searched and takes updates: it must not crash nor answer a
// search with a 5xx; bulk updates get 507 with nothing applied and
// /readyz says why while the disk is full, and both recover once space
// returns; the journal stays whole and a rebuild works.
func TestDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the disk test mounts a small tmpfs and fills it while a searchd process is searched; go test without -short runs it")
	}
	root := smallfs.Mount(t, 48<<20)
	dir := filepath.Join(root, "index")
	d := testindex.Build(t, dir, "testdata/events.jsonl")
	addr := freeAddr(t)
	cmd := exec.Command(os.Args[0], "-index", dir, "-listen", addr, "-admin", "-min-free-mib", "4",
		"-shutdown-delay", "100ms", "-watch", "200ms", "-log-level", "warn")
	cmd.Env = append(os.Environ(), "NEWSDESK_TEST_AS_SEARCHD=1", "NEWSDESK_ADMIN_KEY="+testKey)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	natstest.DieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	}()
	c := client{t: t, base: "http://" + addr}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get(c.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("searchd not ready in 30s:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Searches all along, from 4 clients.
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var searches, failed atomic.Int64
	var firstFailure atomic.Value
	for w := range 4 {
		wg.Go(func() {
			qs := []string{"peace talks", "aleppo", "strike", `"peace talks"`, "astana -geneva"}
			for i := 0; ctx.Err() == nil; i++ {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v1/search?facets=5&q="+url.QueryEscape(qs[(i+w)%len(qs)]), nil)
				resp, err := http.DefaultClient.Do(req)
				if ctx.Err() != nil {
					return
				}
				if err != nil {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, err.Error())
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				searches.Add(1)
				if resp.StatusCode >= 500 {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, resp.Status)
				}
			}
		})
	}
	defer func() { stop(); wg.Wait() }()

	if code, out := c.bulk(upsert("2019-06-01/a-flamingo-escapes", "A flamingo escapes from the zoo.")); code != http.StatusOK {
		t.Fatalf("bulk before the disk fills: %d %v", code, out)
	}
	filler := smallfs.Fill(t, root)
	reason := c.waitReady(http.StatusServiceUnavailable, 5*time.Second)
	if !strings.Contains(reason, "disk space") {
		t.Errorf("/readyz on a full disk says %s; want the reason", reason)
	}
	code, out := c.bulk(upsert("2019-06-02/a-pelican-lands", "A pelican lands on the roof."))
	if msg := fmt.Sprint(out); code != http.StatusInsufficientStorage || strings.Count(msg, "nothing applied")+strings.Count(msg, "nothing was applied") != 1 {
		t.Errorf("bulk on a full disk: %d %v; want 507 saying once that nothing was applied", code, out)
	}
	if n := c.total("pelican"); n != 0 {
		t.Errorf("the refused update is searchable: %d hits", n)
	}
	time.Sleep(time.Second) // Bleve's background work meets the full disk meanwhile
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	c.waitReady(http.StatusOK, 15*time.Second)
	if code, out := c.bulk(upsert("2019-06-02/a-pelican-lands", "A pelican lands on the roof.")); code != http.StatusOK {
		t.Errorf("bulk once space returned: %d %v", code, out)
	}
	if c.total("pelican") != 1 || c.total("flamingo") != 1 {
		t.Errorf("after the disk came back: pelican %d, flamingo %d; want 1 each", c.total("pelican"), c.total("flamingo"))
	}
	// The journal: every line whole, each update once.
	f, err := os.Open(d.Journal().Path())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var u index.Update
		if err := json.Unmarshal(sc.Bytes(), &u); err != nil {
			t.Errorf("journal line %q: %v", sc.Text(), err)
		}
		ids = append(ids, u.ID())
	}
	f.Close()
	if strings.Join(ids, ",") != "2019-06-01/a-flamingo-escapes,2019-06-02/a-pelican-lands" {
		t.Errorf("journal holds %v, want the flamingo then the pelican", ids)
	}
	// A rebuild works and keeps both updates.
	sum, err := build.Run(context.Background(), build.Config{Dir: d, Files: []string{"testdata/events.jsonl"}})
	if err != nil {
		t.Fatalf("rebuild after the disk was full: %v", err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		_, metrics := c.get("/metrics")
		if strings.Contains(metrics, sum.Generation) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("searchd did not swap in the rebuilt generation %s", sum.Generation)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if c.total("pelican") != 1 || c.total("flamingo") != 1 {
		t.Errorf("after the rebuild: pelican %d, flamingo %d; want 1 each", c.total("pelican"), c.total("flamingo"))
	}
	stop()
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Errorf("%d of %d searches failed; first: %v", n, searches.Load(), firstFailure.Load())
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("searchd exited with %v:\n%s", err, logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Errorf("searchd did not exit on SIGTERM:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "panic") {
		t.Errorf("searchd panicked:\n%s", logs.String())
	}
	t.Logf("%d searches, %d failed", searches.Load(), failed.Load())
}

// TestShutdown_DrainsBulk sends SIGTERM (run's context ends) while a bulk
// request is being sent: /readyz answers 503 first, searches are still
// answered until the listener closes, then the request completes with 200
// and its updates are applied and journaled.
func TestShutdown_DrainsBulk(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	t.Setenv("NEWSDESK_ADMIN_KEY", testKey)
	ctx, sigterm := context.WithCancel(context.Background())
	defer sigterm()
	ready, done := make(chan string, 1), make(chan error, 1)
	var logs bytes.Buffer
	go func() {
		done <- run(ctx, []string{"-index", dir, "-listen", "127.0.0.1:0", "-admin", "-progress", "none",
			"-shutdown-delay", "500ms", "-bootstrap", "testdata/events.jsonl"}, &logs, &logs, notify{serving: ready})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("searchd ended: %v\n%s", err, logs.String())
	}
	c := client{t: t, base: "http://" + addr}
	pr, pw := io.Pipe()
	type answer struct {
		code int
		out  map[string]any
	}
	answered := make(chan answer, 1)
	go func() {
		code, out := c.bulk(pr)
		answered <- answer{code, out}
	}()
	const lines = 200
	for i := range lines / 2 {
		fmt.Fprintf(pw, `{"upsert": {"id": "2020-01-01/drained-%d", "date": "2020-01-01", "text": "Drained update %d."}}`+"\n", i, i)
	}
	sigterm() // the request is in flight: its first half is sent
	c.waitReady(http.StatusServiceUnavailable, 2*time.Second)
	// Until the listener closes, searches are still answered in full.
	if code, body := c.get("/v1/search?q=aleppo"); code != http.StatusOK {
		t.Errorf("search while shutting down: %d %s", code, body)
	}
	for i := lines / 2; i < lines; i++ {
		fmt.Fprintf(pw, `{"upsert": {"id": "2020-01-01/drained-%d", "date": "2020-01-01", "text": "Drained update %d."}}`+"\n", i, i)
	}
	pw.Close()
	a := <-answered
	if a.code != http.StatusOK || a.out["errors"] != false || len(a.out["items"].([]any)) != lines {
		t.Errorf("bulk during shutdown: %d %v; want 200 with %d items applied", a.code, a.out["errors"], lines)
	}
	if err := <-done; err != nil {
		t.Errorf("searchd: %v", err)
	}
	d, _ := index.NewDir(dir)
	n := 0
	d.Journal().Read(func(index.Update) error { n++; return nil })
	if n != lines {
		t.Errorf("journal holds %d updates, want %d", n, lines)
	}
}
