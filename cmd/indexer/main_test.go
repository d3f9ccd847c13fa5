package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/cluster"
	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/mappings"
	"github.com/newsdesk/newsdesk/natstest"
	"github.com/newsdesk/newsdesk/serving"
	"github.com/newsdesk/newsdesk/smallfs"
)

// TestMain lets the crash test run this test binary as the indexer.
func TestMain(m *testing.M) {
	if os.Getenv("NEWSDESK_TEST_AS_INDEXER") == "1" {
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

func TestRunBuild(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantSum  map[string]float64 // summary fields to check; nil when no summary is printed
		wantErr  string
	}{
		{"good files, the one bad bullet tolerated", []string{"-max-bad", "1", "testdata/good.jsonl", "testdata/portal.wiki"}, exitOK,
			map[string]float64{"indexed": 7, "bad": 1, "duplicates": 1}, ""},
		{"bad records over the limit still publish", []string{"testdata/mixed.jsonl"}, exitTooBad,
			map[string]float64{"indexed": 2, "bad": 2, "duplicates": 0}, "2 bad records, more than -max-bad 0"},
		{"bad records within the limit", []string{"-max-bad", "2", "testdata/mixed.jsonl"}, exitOK,
			map[string]float64{"indexed": 2, "bad": 2}, ""},
		{"missing input", []string{"testdata/good.jsonl", "testdata/missing.jsonl"}, exitFailed, nil, "nothing published"},
		{"no files", []string{}, exitUsage, nil, "no input files"},
		{"bad flag value", []string{"-max-bad", "-5", "testdata/good.jsonl"}, exitUsage, nil, "-max-bad must be"},
		{"unknown flag", []string{"-colour", "testdata/good.jsonl"}, exitUsage, nil, "flag provided but not defined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var stdout, stderr bytes.Buffer
			args := append([]string{"build", "-progress", "none"}, tc.args...)
			t.Setenv("NEWSDESK_INDEX", dir)
			err := run(context.Background(), args, &stdout, &stderr)
			if got := exitCode(err); got != tc.wantCode {
				t.Fatalf("exit code %d (%v), want %d; stderr: %s", got, err, tc.wantCode, stderr.String())
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error %v, want it to contain %q", err, tc.wantErr)
			}
			if tc.wantSum == nil {
				if d, _ := index.NewDir(dir); d != nil {
					if _, cerr := d.Current(); cerr == nil {
						t.Error("a generation was published")
					}
				}
				return
			}
			var sum map[string]any
			if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
				t.Fatalf("summary %q: %v", stdout.String(), err)
			}
			for k, want := range tc.wantSum {
				if got, _ := sum[k].(float64); got != want {
					t.Errorf("summary %s = %v, want %v (summary %s)", k, sum[k], want, stdout.String())
				}
			}
			for _, k := range []string{"seconds", "generation", "report"} {
				if _, ok := sum[k]; !ok {
					t.Errorf("summary lacks %q: %s", k, stdout.String())
				}
			}
			if _, err := os.Stat(sum["report"].(string)); err != nil {
				t.Errorf("report file: %v", err)
			}
			d, _ := index.NewDir(dir)
			idx, err := d.Open(mappings.New())
			if err != nil {
				t.Fatalf("published generation does not open: %v", err)
			}
			defer idx.Close()
			if n, _ := idx.DocCount(); float64(n) != tc.wantSum["indexed"] {
				t.Errorf("index holds %d events, summary says %v", n, tc.wantSum["indexed"])
			}
		})
	}
}

func TestRunBuild_ProgressLog(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"build", "-index", filepath.Join(dir, "idx"), "testdata/good.jsonl"}, &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	// Not a terminal: progress comes as log lines, the last one at 100%.
	if !strings.Contains(stderr.String(), `"message":"indexing"`) || !strings.Contains(stderr.String(), `"percent":100`) {
		t.Errorf("stderr lacks progress log lines: %s", stderr.String())
	}
}

func TestRun_Usage(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantCode   int
		wantErr    string // in the error run returns
		wantStdout string
	}{
		{"no command", nil, nil, exitUsage, "no command", ""},
		{"unknown command", []string{"frobnicate"}, nil, exitUsage, "frobnicate", ""},
		// Help goes to stdout, for indexer and its commands alike.
		{"indexer -h", []string{"-h"}, nil, exitOK, "", "indexer build -index DIR"},
		{"build -h", []string{"build", "-h"}, nil, exitOK, "", "-max-bad"},
		{"build -h names the twins", []string{"build", "-h"}, nil, exitOK, "", "NEWSDESK_MAX_BAD"},
		{"push -h", []string{"push", "-h"}, nil, exitOK, "", "-url"},
		{"get -h", []string{"get", "-h"}, nil, exitOK, "", "NEWSDESK_INDEX"},
		{"-version", []string{"-version"}, nil, exitOK, "", "indexer "},
		// Every flag has a strict environment twin.
		{"a bad twin", []string{"build", "-index", "x", "testdata/good.jsonl"}, map[string]string{"NEWSDESK_MAX_BAD": "some"},
			exitUsage, `invalid value "some" in NEWSDESK_MAX_BAD for -max-bad`, ""},
		{"a bad bool twin", []string{"build", "-index", "x", "testdata/good.jsonl"}, map[string]string{"NEWSDESK_DROP_UPDATES": "yes"},
			exitUsage, "NEWSDESK_DROP_UPDATES", ""},
		{"a twin checked as its flag", []string{"build", "-index", "x", "testdata/good.jsonl"}, map[string]string{"NEWSDESK_BATCH_SIZE": "0"},
			exitUsage, "-batch-size must be at least 1", ""},
		{"negative workers", []string{"build", "-index", "x", "-workers", "-3", "testdata/good.jsonl"}, nil,
			exitUsage, "-workers must be 0 (one per CPU) or more, got -3", ""},
		// push's and scale's twins are named as build's are.
		{"push's twin named", []string{"push", "testdata/good.jsonl"}, map[string]string{"NEWSDESK_URL": "::", "NEWSDESK_ADMIN_KEY": "k"},
			exitUsage, `(from NEWSDESK_URL="::")`, ""},
		{"scale's twin named", []string{"scale", "-out", "x.jsonl", "testdata/good.jsonl"}, map[string]string{"NEWSDESK_TIMES": "40"},
			exitUsage, `(from NEWSDESK_TIMES="40")`, ""},
		// A directory of inputs, as build takes it.
		{"tsv of a directory", []string{"tsv", "testdata"}, nil, exitOK, "", "The FLF announces a ceasefire in Port Elba."},
		// Copies dated past 2199 are refused before anything is written.
		{"scale: more copies than the dates allow", []string{"scale", "-times", "12", "-out", "/nonexistent/x.jsonl", "testdata/span.jsonl"}, nil,
			exitUsage, "at most 11 fit", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tc.args, &stdout, &stderr)
			if code := exitCode(err); code != tc.wantCode {
				t.Errorf("exit code %d (%v), want %d", code, err, tc.wantCode)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error %v, want it to contain %q", err, tc.wantErr)
			}
			if !strings.Contains(stdout.String(), tc.wantStdout) {
				t.Errorf("stdout %q, want it to contain %q", stdout.String(), tc.wantStdout)
			}
			if tc.wantCode == exitOK && stderr.Len() > 0 {
				t.Errorf("stderr %q, want nothing", stderr.String())
			}
		})
	}
}

// TestRunBuild_EnvTwins builds with every build flag given by its
// environment variable.
func TestRunBuild_EnvTwins(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(dir, "bad.jsonl")
	for k, v := range map[string]string{"NEWSDESK_INDEX": filepath.Join(dir, "idx"), "NEWSDESK_MAX_BAD": "2", "NEWSDESK_WORKERS": "1",
		"NEWSDESK_BATCH_SIZE": "2", "NEWSDESK_REPORT": report, "NEWSDESK_PROGRESS": "none", "NEWSDESK_DROP_UPDATES": "true"} {
		t.Setenv(k, v)
	}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"build", "testdata/mixed.jsonl"}, &stdout, &stderr); err != nil {
		t.Fatalf("build: %v\n%s", err, stderr.String())
	}
	if b, err := os.ReadFile(report); err != nil || bytes.Count(b, []byte("\n")) != 2 {
		t.Errorf("report from NEWSDESK_REPORT: %q %v", b, err)
	}
	if strings.Contains(stderr.String(), `"indexing"`) {
		t.Errorf("NEWSDESK_PROGRESS=none, yet stderr shows progress: %s", stderr.String())
	}
	var sum struct{ Indexed int }
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil || sum.Indexed != 2 {
		t.Errorf("summary %s (%v), want 2 events indexed", stdout.String(), err)
	}
}

// TestBuild_RefusedForSpace: a build the disk has no room for is
// refused before it begins, and says so once (exit 1, the message the
// README quotes).
func TestBuild_RefusedForSpace(t *testing.T) {
	root := smallfs.Mount(t, 16<<20)
	smallfs.Fill(t, root)
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"build", "-progress", "none", "-index", filepath.Join(root, "index"), "testdata/good.jsonl"}, &stdout, &stderr)
	if err == nil || !strings.HasPrefix(err.Error(), "build refused, nothing published: not enough disk space") || strings.Contains(err.Error(), "build failed") {
		t.Errorf("a build on a full disk: %v; want it refused, once", err)
	}
	if code := exitCode(err); code != exitFailed {
		t.Errorf("exit code %d, want %d", code, exitFailed)
	}
}

// TestReadCommands_NoDirectory: indexer get and rollback on a path that
// is no index directory (a typo) say so, and create nothing there.
func TestReadCommands_NoDirectory(t *testing.T) {
	typo := filepath.Join(t.TempDir(), "idnex")
	other := t.TempDir() // a directory, but no index's
	for _, dir := range []string{typo, other} {
		for _, args := range [][]string{{"get", "-index", dir, "2019-03-04/x"}, {"rollback", "-index", dir}} {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), dir) {
				t.Errorf("%s %s: %v, want an error naming it", args[0], dir, err)
			}
		}
	}
	if _, err := os.Stat(typo); err == nil {
		t.Errorf("%s was created", typo)
	}
	if entries, _ := os.ReadDir(other); len(entries) > 0 {
		t.Errorf("%s holds %v: the commands created them", other, entries)
	}
}

// TestGet_PreviousRelease reads an event from a generation an earlier
// release built (the legacy mapping), which searchd serves too.
func TestGet_PreviousRelease(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../serving/testdata/release-b4d3115")); err != nil {
		t.Fatal(err)
	}
	const id = "2017-01-16/the-opposition-agrees-to-attend-peace-talks-in-astana-kazakhstan"
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"get", "-index", dir, id}, &stdout, &stderr); err != nil {
		t.Fatalf("indexer get on an earlier release's generation: %v; %s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), id) {
		t.Errorf("indexer get printed %q, want the event %s", stdout.String(), id)
	}
}

// TestGet_WhileServed reads events with indexer get from a directory a
// server serves and updates, as searchd does: the generation it reads is
// never written by the server.
func TestGet_WhileServed(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("NEWSDESK_INDEX", dir)
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"build", "-progress", "none", "testdata/good.jsonl"}, &stdout, &stderr); err != nil {
		t.Fatal(err, stderr.String())
	}
	d, err := index.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := serving.New(serving.Config{Dir: d})
	defer srv.Close()
	if _, err := srv.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := newsdesk.Event{ID: "2020-01-01/served-update", Date: "2020-01-01", Text: "An update the server applied."}
	if _, err := srv.Update(context.Background(), []index.Update{{Upsert: &e}}); err != nil {
		t.Fatal(err)
	}
	var id struct {
		ID string `json:"id"`
	}
	f, _ := os.ReadFile("testdata/good.jsonl")
	if err := json.Unmarshal(bytes.SplitN(f, []byte("\n"), 2)[0], &id); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	stderr.Reset()
	start := time.Now()
	if err := run(context.Background(), []string{"get", id.ID}, &stdout, &stderr); err != nil {
		t.Fatalf("indexer get while served: %v; %s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), id.ID) {
		t.Errorf("indexer get printed %q, want the event %s", stdout.String(), id.ID)
	}
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("indexer get took %v: it waited for a lock", d)
	}
}

// TestRunBuild_NATS builds with -nats (and its twin NEWSDESK_NATS): the
// build replays the update stream, publishes the generation and prints
// the pointer it moved; -drop-updates drops the stream's updates; an
// unreachable NATS refuses the build with nothing published.
func TestRunBuild_NATS(t *testing.T) {
	ctx := context.Background()
	url, conn := natsConn(t)
	if _, err := conn.Append(ctx, []index.Update{{Upsert: &newsdesk.Event{ID: "2021-01-01/from-the-stream", Date: "2021-01-01", Text: "From the stream."}}}); err != nil {
		t.Fatal(err)
	}
	type summary struct {
		Indexed   int    `json:"indexed"`
		Updates   int    `json:"updates"`
		StreamSeq uint64 `json:"stream_seq"`
		Gen       string `json:"generation"`
		Published *struct {
			Generation string `json:"generation"`
			Digest     string `json:"digest"`
			StreamSeq  uint64 `json:"stream_seq"`
		} `json:"published"`
	}
	dir := t.TempDir()
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    summary
		wantErr string
	}{
		{"the stream replayed, published", []string{"build", "-progress", "none", "-index", dir, "-nats", url, "testdata/good.jsonl"}, nil,
			summary{Indexed: 4, Updates: 1, StreamSeq: 1}, ""},
		{"the environment twin", []string{"build", "-progress", "none", "-index", dir, "testdata/good.jsonl"}, map[string]string{"NEWSDESK_NATS": url},
			summary{Indexed: 4, Updates: 1, StreamSeq: 1}, ""},
		{"updates dropped", []string{"build", "-progress", "none", "-index", dir, "-nats", url, "-drop-updates", "testdata/good.jsonl"}, nil,
			summary{Indexed: 3, Updates: 0, StreamSeq: 1}, ""},
		{"no NATS", []string{"build", "-progress", "none", "-index", t.TempDir(), "-nats", "nats://127.0.0.1:1", "testdata/good.jsonl"}, nil,
			summary{}, "build refused, nothing published"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			err := run(ctx, tc.args, &stdout, &stderr)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || exitCode(err) != exitFailed {
					t.Fatalf("run: %v (exit %d), want exit 1 with %q", err, exitCode(err), tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("run: %v\n%s", err, stderr.String())
			}
			var got summary
			if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
				t.Fatal(err, stdout.String())
			}
			if got.Indexed != tc.want.Indexed || got.Updates != tc.want.Updates || got.StreamSeq != tc.want.StreamSeq ||
				got.Published == nil || got.Published.Generation != got.Gen || got.Published.StreamSeq != got.StreamSeq || got.Published.Digest == "" {
				t.Errorf("summary %s, want %+v and the pointer to the generation", stdout.String(), tc.want)
			}
			p, err := conn.Current(ctx)
			if err != nil || p.Generation != got.Gen {
				t.Errorf("pointer %+v, %v; want %s", p, err, got.Gen)
			}
		})
	}
	if _, n, err := conn.Last(ctx); n != 0 || err != nil {
		t.Errorf("the stream holds %d messages after -drop-updates, %v", n, err)
	}
	// A build that drops the updates but fails leaves them in the stream,
	// for the replicas that serve them.
	if _, err := conn.Append(ctx, []index.Update{{Upsert: &newsdesk.Event{ID: "2021-01-02/kept", Date: "2021-01-02", Text: "Kept."}}}); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	if err := os.WriteFile(bad, []byte("{\"id\": \"broken\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{"build", "-progress", "none", "-index", dir, "-nats", url, "-drop-updates", bad}, &stdout, &stderr)
	if exitCode(err) != exitFailed {
		t.Fatalf("a -drop-updates build with no good event: %v (exit %d), want exit 1", err, exitCode(err))
	}
	if _, n, err := conn.Last(ctx); n != 1 || err != nil {
		t.Errorf("the stream holds %d messages after a failed -drop-updates build, %v; want its 1", n, err)
	}
}

// TestRunBuild_NATSNotPublished: a build whose publish to NATS fails (here
// a newer generation is current already) exits 4, says so, and leaves its
// generation built and current in the index directory; the pointer stays.
// indexer publish then publishes it, once nothing newer is current.
func TestRunBuild_NATSNotPublished(t *testing.T) {
	ctx := context.Background()
	url, conn := natsConn(t)
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, cluster.PointerBucket)
	if err != nil {
		t.Fatal(err)
	}
	const newer = "29991231T000000.000000000Z" // another builder's, from the future
	if _, err := kv.Put(ctx, cluster.PointerKey, []byte(`{"generation":"`+newer+`"}`)); err != nil {
		t.Fatal(err)
	}
	// The build drops the stream's updates: they are purged once its
	// generation is published, here by indexer publish.
	if _, err := conn.Append(ctx, []index.Update{{Delete: "2021-01-01/dropped"}}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	err = run(ctx, []string{"build", "-progress", "none", "-index", dir, "-nats", url, "-drop-updates", "testdata/good.jsonl"}, &stdout, &stderr)
	if err != nil && !strings.Contains(err.Error(), "run indexer publish") {
		t.Errorf("a -drop-updates build not published: %v; want it to say indexer publish purges what it dropped", err)
	}
	if exitCode(err) != exitUnpublished || !strings.Contains(err.Error(), "is built and current in") || !strings.Contains(err.Error(), "not published to NATS") {
		t.Fatalf("run: %v (exit %d), want exit 4 saying the generation is current but not published", err, exitCode(err))
	}
	var sum struct {
		Gen string `json:"generation"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil || sum.Gen == "" {
		t.Fatalf("summary %q: %v", stdout.String(), err)
	}
	d, err := index.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if cur, err := d.Current(); err != nil || cur != sum.Gen {
		t.Errorf("current generation %q, %v; want the one built, %s", cur, err, sum.Gen)
	}
	if p, err := conn.Current(ctx); err != nil || p.Generation != newer {
		t.Errorf("pointer %+v, %v; want it left at %s", p, err, newer)
	}
	// With NATS unreachable, publish says so with exit 4 too.
	if err := run(ctx, []string{"publish", "-index", dir, "-nats", "nats://127.0.0.1:1"}, &stdout, &stderr); exitCode(err) != exitUnpublished {
		t.Errorf("publish with NATS unreachable: %v (exit %d), want exit 4", err, exitCode(err))
	}
	// indexer publish does what the build could not, once it can be done.
	publishArgs := []string{"publish", "-index", dir, "-nats", url}
	if err := run(ctx, publishArgs, &stdout, &stderr); exitCode(err) != exitUnpublished {
		t.Errorf("publish under the newer pointer: %v (exit %d), want exit 4", err, exitCode(err))
	}
	if err := kv.Purge(ctx, cluster.PointerKey); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	if err := run(ctx, publishArgs, &stdout, &stderr); err != nil {
		t.Fatalf("publish: %v\n%s", err, stderr.String())
	}
	var pub cluster.Pointer
	if err := json.Unmarshal(stdout.Bytes(), &pub); err != nil || pub.Generation != sum.Gen || pub.Digest == "" {
		t.Errorf("publish printed %q (%v), want the pointer to %s", stdout.String(), err, sum.Gen)
	}
	if p, err := conn.Current(ctx); err != nil || p.Generation != sum.Gen {
		t.Errorf("pointer %+v, %v; want %s", p, err, sum.Gen)
	}
	if _, n, err := conn.Last(ctx); n != 0 || err != nil {
		t.Errorf("the stream holds %d messages once indexer publish published the build that dropped them, %v; want none", n, err)
	}
	if err := run(ctx, []string{"publish", "-index", dir}, &stdout, &stderr); exitCode(err) != exitUsage {
		t.Errorf("publish without -nats: %v (exit %d), want a usage error", err, exitCode(err))
	}
	// A generation built without the stream: no retry publishes it, so
	// exit 1, not the 4 a scheduler retries.
	local := t.TempDir()
	if err := run(ctx, []string{"build", "-progress", "none", "-index", local, "testdata/good.jsonl"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"publish", "-index", local, "-nats", url}, &stdout, &stderr); exitCode(err) != exitFailed || !errors.Is(err, cluster.ErrNotForReplicas) {
		t.Errorf("publish of a generation built without -nats: %v (exit %d), want exit 1", err, exitCode(err))
	}
}

// TestBuild_VariableRefused: a value the build refuses that came from an
// environment variable is a usage error naming the variable.
func TestBuild_VariableRefused(t *testing.T) {
	for _, tc := range []struct{ name, value, want string }{
		{"NEWSDESK_MAX_BAD", "-5", `-max-bad must be -1 (no limit) or more, got -5 (from NEWSDESK_MAX_BAD="-5")`},
		{"NEWSDESK_PROGRESS", "zzz", `(from NEWSDESK_PROGRESS="zzz")`},
		{"NEWSDESK_BATCH_SIZE", "0", `(from NEWSDESK_BATCH_SIZE="0")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("NEWSDESK_INDEX", t.TempDir())
			t.Setenv(tc.name, tc.value)
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), []string{"build", "testdata/good.jsonl"}, &stdout, &stderr)
			if exitCode(err) != exitUsage || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s=%s: exit %d, %v; want a usage error with %q", tc.name, tc.value, exitCode(err), err, tc.want)
			}
		})
	}
}

// TestRunBuild_FailedSummary checks that a build that began and failed
// prints its summary with the error and no generation (none was
// published; it named the one it had been building).
func TestRunBuild_FailedSummary(t *testing.T) {
	in := filepath.Join(t.TempDir(), "bad.jsonl")
	if err := os.WriteFile(in, []byte("{\"id\": 1}\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"build", "-index", filepath.Join(t.TempDir(), "idx"), "-progress", "none", in}, &stdout, &stderr)
	if exitCode(err) != exitFailed {
		t.Fatalf("exit %d (%v), want %d", exitCode(err), err, exitFailed)
	}
	if n := strings.Count(err.Error(), "nothing published"); n != 1 {
		t.Errorf("error %q says nothing was published %d times", err, n)
	}
	var sum struct {
		Generation string
		Error      string
		Bad        int
	}
	if jerr := json.Unmarshal(stdout.Bytes(), &sum); jerr != nil || sum.Generation != "" || !strings.Contains(sum.Error, "nothing published") || sum.Bad != 2 {
		t.Errorf("summary %s (%v): want no generation, the error and 2 bad records", stdout.String(), jerr)
	}
}

// TestPublish_DamagedGeneration: a generation that does not open (a
// segment file cut short since it was built) is not uploaded: exit 1,
// naming it, before NATS is asked (replicas downloaded it, refused it and
// tried again every 5 s, and the upload replaced a good archive).
func TestPublish_DamagedGeneration(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"build", "-progress", "none", "-index", dir, "testdata/good.jsonl"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Name string `json:"generation"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil || sum.Name == "" {
		t.Fatalf("summary %q: %v", stdout.String(), err)
	}
	name := sum.Name
	segs, err := filepath.Glob(filepath.Join(dir, "generations", name, "store", "*.zap"))
	if err != nil || len(segs) == 0 {
		t.Fatalf("no segment file in generation %s: %v", name, err)
	}
	if err := os.Truncate(segs[0], 100); err != nil {
		t.Fatal(err)
	}
	err = run(ctx, []string{"publish", "-index", dir, "-nats", "nats://127.0.0.1:1"}, &stdout, &stderr)
	if exitCode(err) != exitFailed || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "not published") {
		t.Errorf("publish of a damaged generation: %v (exit %d); want exit 1 naming it, before NATS is asked", err, exitCode(err))
	}
}

// TestPublish_StreamMadeAgain: a -drop-updates generation published after
// the update stream was deleted and made again (NATS's storage lost)
// purges nothing: the new stream's messages are other updates,
// acknowledged since. Before, indexer publish purged them, up to the
// position the build had dropped (a review's finding).
func TestPublish_StreamMadeAgain(t *testing.T) {
	ctx := context.Background()
	url, conn := natsConn(t)
	for range 3 {
		if _, err := conn.Append(ctx, []index.Update{{Delete: "2021-01-01/dropped"}}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"build", "-progress", "none", "-index", dir, "-nats", url, "-drop-updates", "testdata/good.jsonl"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}

	natstest.DeleteStreams(t, url, cluster.StreamName)
	again, err := cluster.Open(ctx, cluster.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	for range 3 {
		if _, err := again.Append(ctx, []index.Update{{Delete: "2021-01-01/acknowledged-since"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := run(ctx, []string{"publish", "-index", dir, "-nats", url}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if _, n, err := again.Last(ctx); n != 3 || err != nil {
		t.Errorf("the new stream holds %d messages after the publish, %v; want its 3", n, err)
	}
	if !strings.Contains(stderr.String(), "made again") {
		t.Errorf("stderr %q does not say the stream was made again", stderr.String())
	}
}

// natsConn starts a NATS server for the test and returns its URL and a
// connection to it, closed when the test ends.
func natsConn(t *testing.T) (string, *cluster.Conn) {
	t.Helper()
	url := natstest.Start(t, 1).URL()
	conn, err := cluster.Open(context.Background(), cluster.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	return url, conn
}
