package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/build"
	"github.com/newsdesk/newsdesk/testindex"
)

// searchd runs this test binary as searchd, in its own process with its
// own stderr, as a user runs it from a terminal, and returns its exit
// code, stdout and stderr. env is added to the test's environment.
func searchd(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "NEWSDESK_TEST_AS_SEARCHD=1"), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &ee) && ee.Exited():
		return ee.ExitCode(), stdout.String(), stderr.String()
	}
	t.Fatalf("searchd %v: %v\n%s", args, err, stderr.String())
	return 0, "", ""
}

// TestStartErrorsReachTheTerminal runs searchd as a process in every way
// it cannot start, and some it can: each error is on stderr with the exit
// code that says what kind it is (the log writer used to close stderr
// before main printed the error: exit 1 and no message).
func TestStartErrorsReachTheTerminal(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	empty := t.TempDir()
	tests := []struct {
		name       string
		env        []string
		args       []string
		wantCode   int
		wantStderr string // "" for an empty stderr
		wantStdout string
	}{
		{"no index and no -bootstrap", nil, []string{"-index", empty, "-listen", "127.0.0.1:0"},
			1, "searchd: no published index generation in " + empty + "; build one with indexer build, or start searchd with -bootstrap", ""},
		{"a directory that is not there", nil, []string{"-index", filepath.Join(empty, "idnex"), "-listen", "127.0.0.1:0"},
			1, "searchd: no published index generation in " + filepath.Join(empty, "idnex") + " (no such directory)", ""},
		{"the address is taken", nil, []string{"-index", empty, "-listen", busy.Addr().String(), "-bootstrap", "testdata/events.jsonl"},
			1, "address already in use", ""},
		{"-listen is not an address", nil, []string{"-index", empty, "-listen", "bad"},
			2, `searchd: -listen "bad" is not an address`, ""},
		{"unknown flag", nil, []string{"-colour"},
			2, "flag provided but not defined: -colour", ""},
		{"a bad environment twin", []string{"NEWSDESK_ADMIN=yes"}, []string{"-index", empty},
			2, `invalid value "yes" in NEWSDESK_ADMIN for -admin`, ""},
		{"-admin without a key", []string{"NEWSDESK_ADMIN_KEY="}, []string{"-admin"},
			2, "-admin needs the admin key", ""},
		{"-version", nil, []string{"-version"}, 0, "", "searchd "},
		{"-h", nil, []string{"-h"}, 0, "", "NEWSDESK_IN_FLIGHT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := searchd(t, tc.env, tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tc.wantCode, stderr)
			}
			if tc.wantStderr == "" && stderr != "" || !strings.Contains(stderr, tc.wantStderr) {
				t.Errorf("stderr:\n%s\nwant it to contain %q", stderr, tc.wantStderr)
			}
			if !strings.Contains(stdout, tc.wantStdout) {
				t.Errorf("stdout:\n%s\nwant it to contain %q", stdout, tc.wantStdout)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(empty, "idnex")); err == nil {
		t.Error("searchd without -bootstrap created the index directory it was given")
	}
}

// TestRun_ListensWhileBuilding starts searchd with -bootstrap and holds
// its build in the middle (one input file is a pipe the test writes):
// searchd listens already, /livez answers 200 and /readyz 503 saying the
// index is being built; once the input ends, it serves.
func TestRun_ListensWhileBuilding(t *testing.T) {
	tmp := t.TempDir()
	pipe := filepath.Join(tmp, "more.jsonl")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	// Each time the build opens the pipe to read, the writer opens it too
	// (an open of a pipe waits for the other end), reports it, and closes
	// it (an empty file) once released: the first open holds the build.
	opened, release, stop := make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	go func() {
		for {
			f, err := os.OpenFile(pipe, os.O_WRONLY, 0)
			if err != nil {
				return
			}
			select {
			case <-stop:
				f.Close()
				return
			case opened <- struct{}{}:
			default:
			}
			<-release
			f.Close()
		}
	}()
	defer func() {
		close(stop)
		// Unblock the writer's open, if it waits for a reader.
		if f, err := os.OpenFile(pipe, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	}()

	ctx, cancel := context.WithCancel(context.Background())
	listening, serving, done := make(chan string, 1), make(chan string, 1), make(chan error, 1)
	var logs bytes.Buffer
	go func() {
		done <- run(ctx, []string{"-index", filepath.Join(tmp, "index"), "-listen", "127.0.0.1:0", "-progress", "none",
			"-shutdown-delay", "0s", "-bootstrap", "testdata/events.jsonl", pipe}, &logs, &logs,
			notify{listening: listening, serving: serving})
	}()
	defer func() { cancel(); <-done }()
	var addr string
	select {
	case addr = <-listening:
	case err := <-done:
		t.Fatalf("run ended: %v\n%s", err, logs.String())
	}
	<-opened // the build is under way, held
	c := client{t: t, base: "http://" + addr}
	if code, _ := c.get("/livez"); code != http.StatusOK {
		t.Errorf("/livez while building: %d, want 200", code)
	}
	if code, body := c.get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "building") {
		t.Errorf("/readyz while building: %d %s, want 503 saying the index is being built", code, body)
	}
	if code, body := c.get("/v1/search?q=astana"); code != http.StatusServiceUnavailable || !strings.Contains(body, "unavailable") {
		t.Errorf("a search while building: %d %s, want 503 unavailable", code, body)
	}
	if code, body := c.get("/v1/info"); code != http.StatusOK || !strings.Contains(body, `"generation":""`) {
		t.Errorf("/v1/info while building: %d %s, want 200 with no generation", code, body)
	}
	close(release)
	select {
	case <-serving:
	case err := <-done:
		t.Fatalf("run ended: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("not serving 30 s after the input ended:\n%s", logs.String())
	}
	if code, _ := c.get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz once built: %d", code)
	}
	if n := c.total("astana"); n != 3 {
		t.Errorf("search once built: %d hits, want 3", n)
	}
}

// TestBuildStatus checks what /readyz says of a bootstrap build.
func TestBuildStatus(t *testing.T) {
	tests := []struct {
		p    build.Progress
		want string
	}{
		{build.Progress{Elapsed: 50 * time.Millisecond}, "no index yet: building one: 0% (0 events indexed, 0 read) in 100ms"},
		{build.Progress{BytesRead: 50, BytesTotal: 100, Read: 1000, Indexed: 1000, Bad: 2, Elapsed: 4 * time.Second},
			"no index yet: building one: 50% (1000 events indexed, 1000 read, 2 bad) in 4s, about 4s left"},
	}
	for _, tc := range tests {
		if got := buildStatus(tc.p); got != tc.want {
			t.Errorf("buildStatus(%+v) = %q, want %q", tc.p, got, tc.want)
		}
	}
}

// TestRun_InfoAndVersion asks a searchd serving the fixture for /v1/info.
func TestRun_InfoAndVersion(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	d := testindex.Build(t, dir, "testdata/events.jsonl")
	ctx, cancel := context.WithCancel(context.Background())
	serving, done := make(chan string, 1), make(chan error, 1)
	var logs bytes.Buffer
	go func() {
		done <- run(ctx, []string{"-index", dir, "-listen", "127.0.0.1:0", "-shutdown-delay", "0s"}, &logs, &logs, notify{serving: serving})
	}()
	defer func() { cancel(); <-done }()
	var addr string
	select {
	case addr = <-serving:
	case err := <-done:
		t.Fatalf("run ended: %v\n%s", err, logs.String())
	}
	c := client{t: t, base: "http://" + addr}
	code, body := c.get("/v1/info")
	gen, _ := d.Current()
	for _, want := range []string{`"version":"`, `"generation":"` + gen + `"`, `"events":8`, `"first_date":"2016-04-16"`, `"last_date":"2017-03-02"`, `"update_seq":0`} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("/v1/info: %d %s, want %s", code, body, want)
		}
	}
	if strings.Contains(body, `"index_bytes":0`) {
		t.Errorf("/v1/info: %s, want the index's size", body)
	}
}
