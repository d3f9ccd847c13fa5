package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/api"
	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/serving"
	"github.com/newsdesk/newsdesk/testindex"
)

const pushKey = "push-admin-key-0123456789"

// served serves the portal page's events through the API's real router,
// as searchd does with -admin, and returns its URL.
func served(t *testing.T) string {
	t.Helper()
	d := testindex.Build(t, t.TempDir(), "testdata/portal.wiki")
	srv := serving.New(serving.Config{Dir: d})
	t.Cleanup(func() { srv.Close() })
	if _, err := srv.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(api.New(api.Config{
		Searcher: func() api.Searcher { return srv.Engine() },
		Admin: &api.Admin{Key: pushKey, Bulk: func(ctx context.Context, us []api.Update) ([]string, error) {
			updates := make([]index.Update, len(us))
			for i, u := range us {
				updates[i] = index.Update{Upsert: u.Upsert, Delete: u.Delete}
			}
			return srv.Update(ctx, updates)
		}},
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

func TestPush(t *testing.T) {
	url := served(t)
	t.Setenv("NEWSDESK_ADMIN_KEY", pushKey)
	push := func(file string) (pushSummary, error) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), []string{"push", "-url", url, file}, &stdout, &stderr)
		var sum pushSummary
		if stdout.Len() > 0 {
			if jerr := json.Unmarshal(stdout.Bytes(), &sum); jerr != nil {
				t.Fatalf("summary %q: %v", stdout.String(), jerr)
			}
		}
		return sum, err
	}
	sum, err := push("testdata/good.jsonl")
	if err != nil || sum.Sent != 3 || sum.Created+sum.Updated != 3 || sum.Failed != 0 {
		t.Errorf("push of good events: %+v, %v", sum, err)
	}
	// Again: each is an update now.
	if sum, err = push("testdata/good.jsonl"); err != nil || sum.Updated != 3 {
		t.Errorf("push again: %+v, %v; want 3 updated", sum, err)
	}
	// Bad records in a file are not sent, and make the exit code 3.
	sum, err = push("testdata/mixed.jsonl")
	if exitCode(err) != exitTooBad || sum.Sent != 2 || sum.Bad != 2 {
		t.Errorf("push of a file with bad lines: %+v, %v (exit %d), want 2 sent, 2 bad, exit 3", sum, err, exitCode(err))
	}
	// Large events go in requests under searchd's limit of a bulk body:
	// 18 of nearly 1 MiB each were one request of 18 MB, refused (413).
	if testing.Short() {
		t.Log("-short: the push of 18 MB is left out")
	} else {
		var big strings.Builder
		for i := range 18 {
			fmt.Fprintf(&big, `{"id": "2019-06-%02d/large", "date": "2019-06-%02d", "text": "%s"}`+"\n", i+1, i+1, strings.Repeat("flamingo ", 110_000))
		}
		file := filepath.Join(t.TempDir(), "large.jsonl")
		if err := os.WriteFile(file, []byte(big.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		if sum, err := push(file); err != nil || sum.Sent != 18 || sum.Created != 18 {
			t.Errorf("push of 18 MB in 18 events: %+v, %v; want them all created", sum, err)
		}
	}
	t.Setenv("NEWSDESK_ADMIN_KEY", "")
	if _, err := push("testdata/good.jsonl"); exitCode(err) != exitUsage {
		t.Errorf("push without a key: %v", err)
	}
	t.Setenv("NEWSDESK_ADMIN_KEY", "wrong-key-0123456789")
	var stdout, stderr bytes.Buffer
	err = run(context.Background(), []string{"push", "-url", url, "testdata/good.jsonl"}, &stdout, &stderr)
	if exitCode(err) != exitFailed || !strings.Contains(err.Error(), "401 unauthorized") || !strings.Contains(err.Error(), "events 1 to 3 of testdata/good.jsonl") {
		t.Errorf("push with a wrong key: %v, want exit 1 naming the 401 and the events refused", err)
	}
	if !strings.Contains(stdout.String(), `"sent":0`) {
		t.Errorf("push with a wrong key printed %q, want the summary of what was sent", stdout.String())
	}
}

// TestPush_RefusedNamed: an event searchd refuses is named by its file,
// its place in it and its id (the warning named an empty id).
func TestPush_RefusedNamed(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"took_ms": 1, "errors": true, "items": [{"line": 1, "op": "upsert", "id": "a", "status": 201, "result": "created"},
			{"line": 2, "op": "upsert", "status": 400, "result": "error", "error": "upsert: topic is 300 bytes, more than 256"},
			{"line": 3, "op": "upsert", "id": "c", "status": 201, "result": "created"}]}`)
	}))
	t.Cleanup(ts.Close)
	t.Setenv("NEWSDESK_ADMIN_KEY", pushKey)
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"push", "-url", ts.URL, "testdata/good.jsonl"}, &stdout, &stderr)
	if exitCode(err) != exitTooBad {
		t.Errorf("exit %d (%v), want %d", exitCode(err), err, exitTooBad)
	}
	want := "testdata/good.jsonl, event 2 (2019-03-05/rebel-forces-of-the-flf-shell-the-harbour-of-port-elba-freedonia): refused: upsert: topic is 300 bytes"
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("warnings %q, want one containing %q", stderr.String(), want)
	}
}
