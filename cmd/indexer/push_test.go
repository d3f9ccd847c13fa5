package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPush(t *testing.T) {
	var lines []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/admin/events/_bulk" || r.Header.Get("Authorization") != "Bearer k3y" || r.Header.Get("Content-Type") != "application/x-ndjson" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error": {"message": "no"}}`)
			return
		}
		var items []string
		sc := bufio.NewScanner(r.Body)
		for n := 1; sc.Scan(); n++ {
			lines = append(lines, sc.Text())
			var u struct {
				Upsert struct{ ID string } `json:"upsert"`
			}
			json.Unmarshal(sc.Bytes(), &u)
			result := "created"
			if strings.Contains(u.Upsert.ID, "ceasefire") {
				result = "updated"
			}
			items = append(items, fmt.Sprintf(`{"line": %d, "id": %q, "result": %q}`, n, u.Upsert.ID, result))
		}
		fmt.Fprintf(w, `{"errors": false, "items": [%s]}`, strings.Join(items, ","))
	}))
	defer srv.Close()
	t.Setenv("NEWSDESK_ADMIN_KEY", "k3y")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"push", "-url", srv.URL, "testdata/good.jsonl"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("push: %v\n%s", err, stderr.String())
	}
	var sum pushSummary
	json.Unmarshal(stdout.Bytes(), &sum)
	if sum.Sent != 3 || sum.Created != 2 || sum.Updated != 1 || len(lines) != 3 || !strings.HasPrefix(lines[0], `{"upsert":{"id":"2019-03-04/`) {
		t.Errorf("summary %+v, lines %v", sum, lines)
	}
	// Bad records in a file are not sent, and make the exit code 3.
	err = run(context.Background(), []string{"push", "-url", srv.URL, "testdata/mixed.jsonl"}, &stdout, &stderr)
	if exitCode(err) != exitTooBad {
		t.Errorf("push of a file with bad lines: %v (exit %d), want exit 3", err, exitCode(err))
	}
	t.Setenv("NEWSDESK_ADMIN_KEY", "")
	if err := run(context.Background(), []string{"push", "-url", srv.URL, "testdata/good.jsonl"}, &stdout, &stderr); exitCode(err) != exitUsage {
		t.Errorf("push without a key: %v", err)
	}
	t.Setenv("NEWSDESK_ADMIN_KEY", "wrong")
	if err := run(context.Background(), []string{"push", "-url", srv.URL, "testdata/good.jsonl"}, &stdout, &stderr); exitCode(err) != exitFailed || !strings.Contains(err.Error(), "refused") {
		t.Errorf("push with a wrong key: %v", err)
	}
}
