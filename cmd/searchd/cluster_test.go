package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/newsdesk/newsdesk/build"
	"github.com/newsdesk/newsdesk/cluster"
	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/natstest"
)

// replicaProc is a searchd replica run as a process of this test binary.
type replicaProc struct {
	t      *testing.T
	name   string
	addr   string
	args   []string
	logs   string // its stderr, a file
	mu     sync.Mutex
	cmd    *exec.Cmd
	start  time.Time // when it was last started
	killed time.Time // when it was last killed
}

func newReplicaProc(t *testing.T, name, natsURL string) *replicaProc {
	dir := t.TempDir()
	r := &replicaProc{t: t, name: name, addr: freeAddr(t), logs: filepath.Join(dir, "stderr.log")}
	r.args = []string{"-nats", natsURL, "-index", filepath.Join(dir, "cache"), "-listen", r.addr, "-admin",
		"-in-flight", "4", "-queue", "8", "-shutdown-delay", "0s", "-log-level", "warn", "-max-lag", "5s"}
	return r
}

func (r *replicaProc) base() string { return "http://" + r.addr }

// run starts the process; it keeps the cache directory of the last run.
func (r *replicaProc) run() {
	r.t.Helper()
	logs, err := os.OpenFile(r.logs, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		r.t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], r.args...)
	cmd.Env = append(os.Environ(), "NEWSDESK_TEST_AS_SEARCHD=1", "NEWSDESK_ADMIN_KEY="+testKey)
	cmd.Stdout, cmd.Stderr = logs, logs
	natstest.DieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	logs.Close()
	go func() { _ = cmd.Wait() }()
	r.mu.Lock()
	r.cmd, r.start = cmd, time.Now()
	r.mu.Unlock()
}

// kill stops the process with SIGKILL: no shutdown, no cleanup.
func (r *replicaProc) kill() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil {
		_ = r.cmd.Process.Kill()
		r.cmd, r.killed = nil, time.Now()
	}
}

func (r *replicaProc) live() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cmd != nil
}

func (r *replicaProc) tail() string {
	b, _ := os.ReadFile(r.logs)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// info is what /v1/info says about a replica.
type info struct {
	Generation string `json:"generation"`
	Events     uint64 `json:"events"`
	UpdateSeq  int64  `json:"update_seq"`
	Stream     struct {
		LastSeq    uint64  `json:"last_seq"`
		LagSeconds float64 `json:"lag_seconds"`
	} `json:"stream"`
}

var httpc = &http.Client{Timeout: 5 * time.Second}

func getInfo(base string) (info, error) {
	resp, err := httpc.Get(base + "/v1/info")
	if err != nil {
		return info{}, err
	}
	defer resp.Body.Close()
	var i info
	err = json.NewDecoder(resp.Body).Decode(&i)
	return i, err
}

// sample is what a replica served at one moment.
type sample struct {
	at  time.Time
	gen string
	seq int64
}

// TestCluster runs the replicas' whole story on real processes: a 3-node
// NATS JetStream cluster and 3 searchd replicas, each its own process;
// 3 generations published and 500 bulk updates sent while 4 clients
// search the replicas round-robin behind a load balancer that, as nginx
// does, sends a request to the next replica when one refuses the
// connection, and takes a replica out while its /readyz fails. Midway one
// replica and one NATS node are killed with SIGKILL; both are started
// again later. It checks: no failed search; each replica serves each new
// generation within 10 s of its publication (those up at the time);
// every acknowledged update is visible on the replica written to when the
// answer comes, and on every other live replica within 2 s; at the end
// the three serve the same generation, stream sequence and events, and no
// acknowledged update is lost.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs a 3-node NATS cluster and 3 searchd replicas as processes for about a minute; go test without -short runs it")
	}
	start := time.Now()
	ctx := context.Background()
	nodes := natstest.StartProcesses(t, 3)
	natsURL := nodes.URL()
	conn, err := cluster.Open(ctx, cluster.Config{URL: natsURL, Name: "test builder",
		Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	// The builder: a corpus of 1,000 events, built with the stream's
	// updates and published, as indexer build -nats does.
	const corpusSize = 1000
	corpus := filepath.Join(t.TempDir(), "events.jsonl")
	var cb strings.Builder
	words := []string{"harbour", "strike", "election", "flood", "summit", "treaty", "storm", "market"}
	for i := range corpusSize {
		fmt.Fprintf(&cb, `{"id": "2020-%02d-%02d/corpus-%d", "date": "2020-%02d-%02d", "text": "Corpus event %d: a %s and a %s."}`+"\n",
			i%12+1, i%28+1, i, i%12+1, i%28+1, i, words[i%len(words)], words[(i/8)%len(words)])
	}
	if err := os.WriteFile(corpus, []byte(cb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	buildDir, err := index.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var published []struct {
		gen string
		at  time.Time
	}
	publish := func() {
		t.Helper()
		began := time.Now()
		sum, err := build.Run(ctx, build.Config{Dir: buildDir, Files: []string{corpus}, Updates: conn})
		if err != nil {
			t.Fatal(err)
		}
		built := time.Now()
		p, err := conn.Publish(ctx, buildDir, sum.Generation)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%5.1fs built in %.2fs, published in %.2fs", time.Since(start).Seconds(), built.Sub(began).Seconds(), time.Since(built).Seconds())
		published = append(published, struct {
			gen string
			at  time.Time
		}{p.Generation, p.Published}) // when the pointer moved
		t.Logf("%5.1fs generation %s published (stream seq %d, %d events)", time.Since(start).Seconds(), p.Generation, p.StreamSeq, sum.Indexed)
	}
	publish()

	replicas := make([]*replicaProc, 3)
	for i := range replicas {
		replicas[i] = newReplicaProc(t, fmt.Sprintf("r%d", i+1), natsURL)
		replicas[i].run()
	}
	defer func() {
		for _, r := range replicas {
			r.kill()
		}
		if t.Failed() || testing.Verbose() {
			for _, r := range replicas {
				t.Logf("replica %s stderr (tail):\n%s", r.name, r.tail())
			}
		}
	}()
	waitReady := func(r *replicaProc, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			resp, err := httpc.Get(r.base() + "/readyz")
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("replica %s not ready within %v: %s", r.name, within, b)
				}
			} else if time.Now().After(deadline) {
				t.Fatalf("replica %s not ready within %v: %v", r.name, within, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for _, r := range replicas {
		waitReady(r, 60*time.Second)
	}
	t.Logf("%5.1fs 3 replicas ready", time.Since(start).Seconds())

	// Monitors: each replica's /v1/info every 20 ms, and its /readyz every
	// 100 ms for the load balancer.
	stopAll, cancelAll := context.WithCancel(ctx)
	var bg sync.WaitGroup
	samples := make([][]sample, len(replicas))
	var samplesMu sync.Mutex
	ready := make([]atomic.Bool, len(replicas))
	for i, r := range replicas {
		ready[i].Store(true)
		bg.Go(func() {
			for stopAll.Err() == nil {
				if in, err := getInfo(r.base()); err == nil {
					samplesMu.Lock()
					samples[i] = append(samples[i], sample{at: time.Now(), gen: in.Generation, seq: in.UpdateSeq})
					samplesMu.Unlock()
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
		bg.Go(func() {
			for stopAll.Err() == nil {
				resp, err := httpc.Get(r.base() + "/readyz")
				ok := err == nil && resp.StatusCode == http.StatusOK
				if err == nil {
					resp.Body.Close()
				}
				ready[i].Store(ok)
				time.Sleep(100 * time.Millisecond)
			}
		})
	}

	// The load balancer and 4 search clients.
	var next atomic.Uint64
	var searches, failed, redirected atomic.Int64
	var failures sync.Map
	pick := func() int {
		for range 2 * len(replicas) {
			i := int(next.Add(1) % uint64(len(replicas)))
			if ready[i].Load() {
				return i
			}
		}
		return int(next.Add(1) % uint64(len(replicas)))
	}
	for w := range 4 {
		bg.Go(func() {
			qs := []string{"harbour strike", "election", "flood -storm", `"a summit"`, "treaty market", "update"}
			for n := 0; stopAll.Err() == nil; n++ {
				target := "/v1/search?size=5&q=" + url.QueryEscape(qs[(n+w)%len(qs)])
				var err error
				code := 0
				first := pick()
				for try := 0; try < len(replicas); try++ {
					i := (first + try) % len(replicas)
					if try > 0 && !ready[i].Load() {
						continue
					}
					var resp *http.Response
					resp, err = httpc.Get(replicas[i].base() + target)
					if err != nil {
						// Refused or reset: the balancer takes the replica out
						// until its /readyz answers, and tries the next one.
						ready[i].Store(false)
						redirected.Add(1)
						continue
					}
					code = resp.StatusCode
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					break
				}
				searches.Add(1)
				if err != nil || code != http.StatusOK {
					failed.Add(1)
					failures.Store(fmt.Sprintf("%v %d", err, code), true)
				}
				time.Sleep(2 * time.Millisecond)
			}
		})
	}

	// The writer: 500 updates in 250 bulk requests of 2 lines, to the
	// replicas round-robin, each retried (same lines) until acknowledged.
	type ack struct {
		at      time.Time
		seq     int64 // the stream sequence the replica written to had applied when it answered: an upper bound
		replica int
	}
	var acks []ack
	want := map[string]string{} // id → text, "" for deleted
	var retries, accepted int
	var slowest time.Duration
	slowestAt := 0
	send := func(n int, lines []string, ids []string, texts []string) {
		sent := time.Now()
		defer func() {
			if d := time.Since(sent); d > slowest {
				slowest, slowestAt = d, n
			}
		}()
		for try := 0; ; try++ {
			if try > 100 {
				t.Fatalf("bulk request %d never acknowledged", n)
			}
			i := pick()
			if !replicas[i].live() {
				continue
			}
			r := replicas[i]
			req, _ := http.NewRequest(http.MethodPost, r.base()+"/admin/events/_bulk", strings.NewReader(strings.Join(lines, "\n")+"\n"))
			req.Header.Set("Authorization", "Bearer "+testKey)
			resp, err := httpc.Do(req)
			if err != nil {
				retries++
				time.Sleep(100 * time.Millisecond)
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusOK:
			case http.StatusAccepted:
				accepted++ // in the stream, not yet visible here: acknowledged all the same
				t.Logf("%5.1fs bulk %d on %s: 202 %s", time.Since(start).Seconds(), n, r.name, body)
			default:
				retries++
				if try == 0 || try%10 == 0 {
					t.Logf("%5.1fs bulk %d on %s: %d %s (retrying)", time.Since(start).Seconds(), n, r.name, resp.StatusCode, body)
				}
				time.Sleep(100 * time.Millisecond)
				continue
			}
			at := time.Now()
			if resp.StatusCode == http.StatusOK {
				// Read-your-writes on the replica written to; of two lines
				// about one id, the last wins.
				final := map[string]string{}
				for k, id := range ids {
					final[id] = texts[k]
				}
				for id, text := range final {
					code, ev := getEvent(r.base(), id)
					if text == "" && code != http.StatusNotFound || text != "" && (code != http.StatusOK || ev != text) {
						t.Errorf("bulk %d: %s on %s just after the answer: %d %q, want %q", n, id, r.name, code, ev, text)
					}
				}
			}
			in, err := getInfo(r.base())
			if err != nil {
				t.Fatalf("info of %s: %v", r.name, err)
			}
			acks = append(acks, ack{at: at, seq: in.UpdateSeq, replica: i})
			for k, id := range ids {
				want[id] = texts[k]
			}
			return
		}
	}
	var corpusDeleted int
	var created []string
	for n := range 250 {
		var lines, ids, texts []string
		for k := range 2 {
			u := 2*n + k
			switch {
			case u%10 == 3 && len(created) > 0: // delete an event created before
				id := created[u%len(created)]
				lines, ids, texts = append(lines, fmt.Sprintf(`{"delete": %q}`, id)), append(ids, id), append(texts, "")
			case u%10 == 7: // delete an event of the corpus: every later build must drop it too
				id := fmt.Sprintf("2020-%02d-%02d/corpus-%d", u%12+1, u%28+1, u)
				if _, done := want[id]; !done {
					corpusDeleted++
				}
				lines, ids, texts = append(lines, fmt.Sprintf(`{"delete": %q}`, id)), append(ids, id), append(texts, "")
			case u%10 == 5 && len(created) > 0: // replace an event created before
				id := created[(u*7)%len(created)]
				text := fmt.Sprintf("Update %d replaces %s.", u, id)
				lines, ids, texts = append(lines, fmt.Sprintf(`{"upsert": {"id": %q, "date": %q, "text": %q}}`, id, id[:10], text)), append(ids, id), append(texts, text)
			default:
				id := fmt.Sprintf("2021-06-%02d/update-%d", u%28+1, u)
				text := fmt.Sprintf("Update %d: a harbour strike.", u)
				created = append(created, id)
				lines, ids, texts = append(lines, fmt.Sprintf(`{"upsert": {"id": %q, "date": %q, "text": %q}}`, id, id[:10], text)), append(ids, id), append(texts, text)
			}
		}
		send(n, lines, ids, texts)
		switch n {
		case 100:
			// Midway: kill -9 a replica and a NATS node, publish a generation
			// without them.
			replicas[2].kill()
			if err := nodes.Nodes[0].Kill(); err != nil {
				t.Fatal(err)
			}
			t.Logf("%5.1fs killed replica r3 and NATS node n1 (SIGKILL)", time.Since(start).Seconds())
		case 130:
			publish()
		case 160:
			if err := nodes.Nodes[0].Start(); err != nil {
				t.Fatal(err)
			}
			replicas[2].run()
			t.Logf("%5.1fs restarted NATS node n1 and replica r3", time.Since(start).Seconds())
		case 210:
			publish()
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("%5.1fs 500 updates acknowledged (%d retried sends, %d answered 202); the slowest bulk request, %d, took %.2fs",
		time.Since(start).Seconds(), retries, accepted, slowestAt, slowest.Seconds())

	// All three converge on the stream's end.
	last, _, err := conn.Last(ctx)
	if err != nil {
		t.Fatal(err)
	}
	final := published[len(published)-1].gen
	deadline := time.Now().Add(30 * time.Second)
	var infos []info
	for {
		infos = infos[:0]
		same := true
		for _, r := range replicas {
			in, err := getInfo(r.base())
			same = same && err == nil && in.Generation == final && in.UpdateSeq == int64(last)
			infos = append(infos, in)
		}
		if same && infos[0].Events == infos[1].Events && infos[1].Events == infos[2].Events {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replicas did not converge on generation %s, stream seq %d: %+v", final, last, infos)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // a few more searches on the converged replicas
	cancelAll()
	bg.Wait()
	t.Logf("%5.1fs converged: generation %s, stream seq %d, %d events on each replica", time.Since(start).Seconds(), final, last, infos[0].Events)

	// No failed search.
	t.Logf("searches: %d, failed %d, sent to another replica after a refused connection %d", searches.Load(), failed.Load(), redirected.Load())
	if failed.Load() > 0 {
		var fs []string
		failures.Range(func(k, _ any) bool { fs = append(fs, k.(string)); return true })
		t.Errorf("%d of %d searches failed: %v", failed.Load(), searches.Load(), fs)
	}

	// Every replica up at a publication served it within 10 s.
	samplesMu.Lock()
	defer samplesMu.Unlock()
	for _, p := range published[1:] {
		for i, r := range replicas {
			first := time.Time{}
			for _, s := range samples[i] {
				if s.at.After(p.at) && s.gen >= p.gen {
					first = s.at
					break
				}
			}
			upSince := r.start
			switch {
			case first.IsZero():
				t.Errorf("replica %s never served generation %s", r.name, p.gen)
			case upSince.After(p.at):
				t.Logf("generation %s: replica %s, started after it, served it %.2fs after its start", p.gen, r.name, first.Sub(upSince).Seconds())
			case first.Sub(p.at) > 10*time.Second:
				t.Errorf("replica %s served generation %s %.2fs after its publication, more than 10 s", r.name, p.gen, first.Sub(p.at).Seconds())
			default:
				t.Logf("generation %s: replica %s served it %.2fs after its publication", p.gen, r.name, first.Sub(p.at).Seconds())
			}
		}
	}

	// Every acknowledged update visible on every live replica within 2 s:
	// for the replica killed, those acknowledged 2 s before its kill or
	// after it served again (caught up) once restarted.
	r3 := replicas[2]
	back := time.Time{}
	for _, s := range samples[2] {
		if s.at.After(r3.start) && s.gen != "" {
			back = s.at
			break
		}
	}
	t.Logf("replica r3 served again %.2fs after its restart", back.Sub(r3.start).Seconds())
	var worst time.Duration
	var checked int
	for _, a := range acks {
		for i, r := range replicas {
			if r == r3 && !(a.at.Add(2*time.Second).Before(r3.killed) || a.at.After(back)) {
				continue
			}
			var seen time.Time
			for _, s := range samples[i] {
				if !s.at.Before(a.at) && s.seq >= a.seq {
					seen = s.at
					break
				}
			}
			if seen.IsZero() {
				t.Errorf("update acknowledged at %s (seq %d) never seen on %s", a.at.Format(time.StampMilli), a.seq, r.name)
				continue
			}
			checked++
			d := seen.Sub(a.at)
			worst = max(worst, d)
			if d > 2*time.Second {
				t.Errorf("update acknowledged at %s (seq %d) visible on %s after %.2fs, more than 2 s", a.at.Format(time.StampMilli), a.seq, r.name, d.Seconds())
			}
		}
	}
	t.Logf("%d acknowledgements × live replicas checked; slowest visibility %.0f ms (20 ms sampling)", checked, worst.Seconds()*1000)

	// Nothing acknowledged is lost, on any replica; the counts agree.
	wantEvents := corpusSize - corpusDeleted
	for id, text := range want {
		if strings.HasPrefix(id, "2021-") && text != "" {
			wantEvents++
		}
	}
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for i, r := range replicas {
		if infos[i].Events != uint64(wantEvents) {
			t.Errorf("replica %s serves %d events, want %d", r.name, infos[i].Events, wantEvents)
		}
		lost := 0
		for _, id := range ids {
			code, text := getEvent(r.base(), id)
			if want[id] == "" && code != http.StatusNotFound || want[id] != "" && text != want[id] {
				lost++
				if lost <= 5 {
					t.Errorf("replica %s: %s is %d %q, want %q", r.name, id, code, text, want[id])
				}
			}
		}
		if lost > 0 {
			t.Errorf("replica %s: %d of %d acknowledged updates lost", r.name, lost, len(ids))
		}
	}
	t.Logf("%5.1fs checked %d ids on 3 replicas", time.Since(start).Seconds(), len(ids))
}

// getEvent returns the status and the text of an event on a replica.
func getEvent(base, id string) (int, string) {
	resp, err := httpc.Get(base + "/v1/events/" + id)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e struct{ Text string }
	if err := json.Unmarshal(b, &e); err != nil && resp.StatusCode == http.StatusOK {
		return resp.StatusCode, string(bytes.TrimSpace(b))
	}
	return resp.StatusCode, e.Text
}

// TestRun_Replica runs searchd -nats in this process against one NATS
// server: it serves the published generation, /v1/info and /metrics show
// its place in the stream, a bulk update is answered once applied, and a
// line the API takes but too long for a NATS message (1 MB by default) is
// a 413 with nothing applied.
func TestRun_Replica(t *testing.T) {
	ctx := context.Background()
	url := natstest.Start(t, 1).URL()
	conn, err := cluster.Open(ctx, cluster.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	buildDir, _ := index.NewDir(t.TempDir())
	sum, err := build.Run(ctx, build.Config{Dir: buildDir, Files: []string{"testdata/events.jsonl"}, Updates: conn})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Publish(ctx, buildDir, sum.Generation); err != nil {
		t.Fatal(err)
	}

	t.Setenv("NEWSDESK_ADMIN_KEY", testKey)
	rctx, cancel := context.WithCancel(ctx)
	ready, done := make(chan string, 1), make(chan error, 1)
	var logs bytes.Buffer
	go func() {
		done <- run(rctx, []string{"-nats", url, "-index", t.TempDir(), "-listen", "127.0.0.1:0", "-admin", "-shutdown-delay", "0s"},
			&logs, &logs, notify{serving: ready})
	}()
	var c client
	select {
	case addr := <-ready:
		c = client{t: t, base: "http://" + addr}
	case err := <-done:
		t.Fatalf("searchd ended: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("searchd not serving:\n%s", logs.String())
	}
	c.waitReady(http.StatusOK, 10*time.Second)

	code, out := c.bulk(upsert("2019-06-01/a-flamingo-escapes", "A flamingo escapes from the zoo."))
	if code != http.StatusOK {
		t.Fatalf("bulk: %d %v", code, out)
	}
	if n := c.total("flamingo"); n != 1 {
		t.Errorf("the update is not found on the replica written to: %d hits", n)
	}
	long := fmt.Sprintf(`{"upsert": {"id": "2019-06-02/a-long-one", "date": "2019-06-02", "text": %q}}`, strings.Repeat("word ", 209_600))
	if code, out := c.bulk(strings.NewReader(long + "\n")); code != http.StatusRequestEntityTooLarge {
		t.Errorf("a line longer than a NATS message: %d %v, want 413", code, out)
	}
	_, body := c.get("/v1/info")
	var in struct {
		UpdateSeq int64 `json:"update_seq"`
		Stream    *struct {
			Published string `json:"published"`
			LastSeq   uint64 `json:"last_seq"`
			Connected bool   `json:"connected"`
		} `json:"stream"`
	}
	if err := json.Unmarshal([]byte(body), &in); err != nil || in.UpdateSeq != 1 || in.Stream == nil ||
		in.Stream.Published != sum.Generation || in.Stream.LastSeq != 1 || !in.Stream.Connected {
		t.Errorf("/v1/info: %s", body)
	}
	if _, m := c.get("/metrics"); !strings.Contains(m, "newsdesk_stream_applied_seq 1") || !strings.Contains(m, "newsdesk_generation_downloads_total{result=\"ok\"} 1") {
		t.Errorf("/metrics lacks the replica's figures")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("shutdown: %v", err)
	}
}
