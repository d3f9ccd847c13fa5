package replica

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/build"
	"github.com/newsdesk/newsdesk/cluster"
	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/natstest"
	"github.com/newsdesk/newsdesk/serving"
)

// builder stands for indexer build -nats: it builds a corpus of n events
// with the stream's updates and publishes the generation.
type builder struct {
	t     *testing.T
	conn  *cluster.Conn
	dir   *index.Dir
	files string
}

func newBuilder(t *testing.T, url string, n int) *builder {
	t.Helper()
	conn, err := cluster.Open(context.Background(), cluster.Config{URL: url, Name: "builder"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	dir, err := index.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"id": "2020-01-%02d/event-%d", "date": "2020-01-%02d", "text": "Event number %d happens in the harbour."}`+"\n", i%28+1, i, i%28+1, i)
	}
	files := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(files, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return &builder{t: t, conn: conn, dir: dir, files: files}
}

func (b *builder) publish() cluster.Pointer {
	b.t.Helper()
	sum, err := build.Run(context.Background(), build.Config{Dir: b.dir, Files: []string{b.files}, Updates: b.conn})
	if err != nil {
		b.t.Fatal(err)
	}
	p, err := b.conn.Publish(context.Background(), b.dir, sum.Generation)
	if err != nil {
		b.t.Fatal(err)
	}
	return p
}

// start runs a replica with the cache dir until the test ends; set, if
// given, changes its configuration first.
func start(t *testing.T, url, cache string, set ...func(*Config)) *Replica {
	t.Helper()
	dir, err := index.NewDir(cache)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{NATS: cluster.Config{URL: url, Name: "replica"}, Serving: serving.Config{Dir: dir, Grace: 10 * time.Millisecond}}
	for _, f := range set {
		f(&cfg)
	}
	r := New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		r.Server().Close()
	})
	return r
}

// eventually waits until cond holds, for at most 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 10 s: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func upsert(id, text string) index.Update {
	return index.Update{Upsert: &newsdesk.Event{ID: id, Date: id[:10], Text: text}}
}

// has reports whether the replica serves the event id with text.
func has(r *Replica, id, text string) bool {
	e := r.Server().Engine()
	if e == nil {
		return false
	}
	ev, err := e.Event(context.Background(), id)
	return err == nil && ev.Text == text
}

// TestReplica_EmptyCacheAndUpdates starts a replica with an empty cache
// after updates were sent both before and after the current generation
// was built: it serves that generation plus every update. Updates sent
// through it are visible on it when Update returns (read-your-writes),
// and on a second replica soon after; a new generation is swapped in,
// caught up with the stream.
func TestReplica_EmptyCacheAndUpdates(t *testing.T) {
	ctx := context.Background()
	url := natstest.Start(t, 1).URL()
	b := newBuilder(t, url, 100)
	if _, err := b.conn.Append(ctx, []index.Update{upsert("2020-03-01/before-the-build", "Before the build."), {Delete: "2020-01-01/event-0"}}); err != nil {
		t.Fatal(err)
	}
	p := b.publish()
	if _, err := b.conn.Append(ctx, []index.Update{upsert("2020-03-02/after-the-build", "After the build."), {Delete: "2020-01-02/event-1"}}); err != nil {
		t.Fatal(err)
	}

	r := start(t, url, t.TempDir())
	eventually(t, "the replica serves the generation and both updates", func() bool {
		i := r.Server().Info()
		return i.Generation == p.Generation && i.Applied == 2 && i.Events == 100
	})
	for id, text := range map[string]string{"2020-03-01/before-the-build": "Before the build.", "2020-03-02/after-the-build": "After the build."} {
		if !has(r, id, text) {
			t.Errorf("update %s not served", id)
		}
	}
	if err := r.Ready(); err != nil {
		t.Errorf("Ready: %v", err)
	}

	other := start(t, url, t.TempDir())
	eventually(t, "the second replica serves", func() bool { return other.Server().Info().Applied == 2 })
	results, err := r.Server().Update(ctx, []index.Update{upsert("2020-03-03/written-here", "Written here."), {Delete: "2020-01-03/event-2"}, {Delete: "2020-01-01/no-such-event"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(results, ","); got != "created,deleted,not_found" {
		t.Errorf("results %s", got)
	}
	if !has(r, "2020-03-03/written-here", "Written here.") {
		t.Error("an update is not visible on the replica it was sent to when Update returns")
	}
	eventually(t, "the other replica applies the update", func() bool { return has(other, "2020-03-03/written-here", "Written here.") })

	p2 := b.publish()
	if p2.StreamSeq != 3 {
		t.Fatalf("the second generation holds the stream up to %d, want 3", p2.StreamSeq)
	}
	for _, x := range []*Replica{r, other} {
		eventually(t, "both replicas swap the new generation in", func() bool { return x.Server().Generation() == p2.Generation })
		if i := x.Server().Info(); i.Events != 100 || i.Applied != 3 {
			t.Errorf("after the swap: %+v, want 100 events (100, 3 added, 3 deleted), applied 3", i)
		}
	}
}

// TestReplica_RefusesDigestMismatch publishes generations whose archive
// does not match the pointer's digest: the replica refuses them, keeps
// serving the generation it had, and Ready says why; a good generation
// after them is served.
func TestReplica_RefusesDigestMismatch(t *testing.T) {
	ctx := context.Background()
	cl := natstest.Start(t, 1)
	b := newBuilder(t, cl.URL(), 30)
	good := b.publish()
	r := start(t, cl.URL(), t.TempDir())
	eventually(t, "the replica serves", func() bool { return r.Server().Generation() == good.Generation })

	ps := openPointerStore(t, cl.URL())
	point := func(corrupt func(name string, p *cluster.Pointer)) cluster.Pointer { return ps.point(t, good, corrupt) }
	tests := []struct {
		name    string
		corrupt func(name string, p *cluster.Pointer)
	}{
		{"the pointer names another digest", func(_ string, p *cluster.Pointer) {
			p.Digest = "SHA-256=" + strings.Repeat("A", 43) + "="
		}},
		{"the store holds a chunk more", func(name string, _ *cluster.Pointer) {
			info, err := ps.objects.GetInfo(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ps.js.Publish(ctx, fmt.Sprintf("$O.%s.C.%s", cluster.GenerationsBucket, info.NUID), []byte("rot")); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := point(tc.corrupt)
			eventually(t, "Ready names the refused generation", func() bool {
				err := r.Ready()
				return err != nil && strings.Contains(err.Error(), bad.Generation) && strings.Contains(err.Error(), "digest mismatch")
			})
			t.Log(r.Ready())
			if g := r.Server().Generation(); g != good.Generation {
				t.Fatalf("serving %s, want the good generation %s still", g, good.Generation)
			}
			if gens, _ := r.cfg.Serving.Dir.Generations(); len(gens) != 1 {
				t.Errorf("cache holds %v: a refused generation was installed", gens)
			}
		})
	}
	next := b.publish()
	eventually(t, "the next good generation is served and Ready", func() bool {
		return r.Server().Generation() == next.Generation && r.Ready() == nil
	})
}

// TestReplica_SkipsInvalidMessages puts messages that are not valid
// updates in the stream, between good ones: a following replica and one
// catching up from an empty cache skip them, count them, and apply the
// good ones after them.
func TestReplica_SkipsInvalidMessages(t *testing.T) {
	ctx := context.Background()
	cl := natstest.Start(t, 1)
	b := newBuilder(t, cl.URL(), 20)
	b.publish()
	r := start(t, cl.URL(), t.TempDir())
	eventually(t, "the replica serves", func() bool { return r.Server().Generation() != "" })

	nc, err := nats.Connect(cl.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	for _, bad := range []string{"not json", `{"upsert": {"id": "2020-01-01/x", "date": "0001-01-01", "text": "Bad date."}}`, `{"delete": ""}`} {
		if _, err := js.Publish(ctx, cluster.Subject, []byte(bad)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.conn.Append(ctx, []index.Update{upsert("2020-03-01/after-the-junk", "After the junk.")}); err != nil {
		t.Fatal(err)
	}
	fresh := start(t, cl.URL(), t.TempDir())
	for _, x := range []*Replica{r, fresh} {
		eventually(t, "the update after the junk is applied", func() bool { return has(x, "2020-03-01/after-the-junk", "After the junk.") })
		if st := x.Status(); st.Invalid != 3 || st.Applied != 4 || st.Last != 4 {
			t.Errorf("status %+v: want 3 invalid messages skipped, applied 4 of 4", st)
		}
	}
	// A generation built before more junk, published after the replica
	// skipped it: its catch-up reads the junk again, and counts it no more.
	sum, err := build.Run(ctx, build.Config{Dir: b.dir, Files: []string{b.files}, Updates: b.conn})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, cluster.Subject, []byte("more junk")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the new junk skipped", func() bool { return r.Status().Invalid == 4 })
	if _, err := b.conn.Publish(ctx, b.dir, sum.Generation); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the new generation served", func() bool { return r.Server().Generation() == sum.Generation })
	if st := r.Status(); st.Invalid != 4 {
		t.Errorf("after the swap, %d invalid messages counted, want the 4", st.Invalid)
	}
}

// TestReplica_WaitsForNATS starts a replica before any NATS server and
// before any generation: Ready says what it waits for, and it serves
// once both come.
func TestReplica_WaitsForNATS(t *testing.T) {
	cl := natstest.Start(t, 1)
	node := cl.Nodes[0]
	if err := node.Kill(); err != nil {
		t.Fatal(err)
	}
	r := start(t, cl.URL(), t.TempDir())
	eventually(t, "Ready says it cannot reach NATS", func() bool {
		err := r.Ready()
		return err != nil && strings.Contains(err.Error(), "connecting to NATS")
	})
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Ready says it waits for a generation", func() bool {
		err := r.Ready()
		return err != nil && strings.Contains(err.Error(), "waiting for a generation")
	})
	p := newBuilder(t, cl.URL(), 10).publish()
	eventually(t, "the replica serves", func() bool { return r.Server().Generation() == p.Generation && r.Ready() == nil })
}

// TestReplica_UpdateWithoutNATS sends an update while the only NATS server
// is down: the error says the service is unavailable (a 503 to clients),
// and nothing is applied.
func TestReplica_UpdateWithoutNATS(t *testing.T) {
	cl := natstest.Start(t, 1)
	newBuilder(t, cl.URL(), 10).publish()
	r := start(t, cl.URL(), t.TempDir(), func(c *Config) { c.AppendTimeout = 500 * time.Millisecond })
	eventually(t, "the replica serves", func() bool { return r.Server().Generation() != "" })
	if err := cl.Nodes[0].Kill(); err != nil {
		t.Fatal(err)
	}
	_, err := r.Server().Update(context.Background(), []index.Update{upsert("2020-03-01/lost", "Lost.")})
	if !errors.Is(err, newsdesk.ErrUnavailable) {
		t.Fatalf("Update without NATS: %v, want ErrUnavailable", err)
	}
	if has(r, "2020-03-01/lost", "Lost.") {
		t.Error("an update that failed is served")
	}
}

// TestReplica_ReadyWithoutNATSWhileBehind: a replica cut off from NATS
// stays ready, serving what it has, though it knew of a message it had
// not applied when the connection went (the lag took it out for the whole
// outage, while it could apply nothing).
func TestReplica_ReadyWithoutNATSWhileBehind(t *testing.T) {
	cl := natstest.Start(t, 1)
	newBuilder(t, cl.URL(), 10).publish()
	r := start(t, cl.URL(), t.TempDir())
	eventually(t, "the replica serves", func() bool { return r.Server().Generation() != "" && r.Ready() == nil })
	if err := cl.Nodes[0].Kill(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the replica knows NATS is gone", func() bool { return !r.Status().Connected })
	// A message it heard of a minute ago and never applied.
	r.lag.known(uint64(max(r.Server().Info().Applied, 0))+1, time.Now().Add(-time.Minute))
	if st := r.Status(); st.Lag < r.cfg.MaxLag {
		t.Fatalf("status %+v: the test wants a lag over -max-lag", st)
	}
	if err := r.Ready(); err != nil {
		t.Errorf("Ready without NATS: %v; want ready, serving what it has", err)
	}
}

// TestReplica_LagNotesTrimmed: what the lag tracker notes of messages the
// replica has applied goes as they are applied, whether or not anything
// reads the replica's status.
func TestReplica_LagNotesTrimmed(t *testing.T) {
	ctx := context.Background()
	cl := natstest.Start(t, 1)
	b := newBuilder(t, cl.URL(), 5)
	b.publish()
	r := start(t, cl.URL(), t.TempDir())
	eventually(t, "the replica serves", func() bool { return r.Server().Generation() != "" })
	var last uint64
	for i := range 6 {
		var err error
		if last, err = b.conn.Append(ctx, []index.Update{upsert(fmt.Sprintf("2020-03-01/note-%d", i), "A note.")}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(coalesce + 20*time.Millisecond)
	}
	eventually(t, "applied", func() bool { return uint64(max(r.Server().Info().Applied, 0)) >= last })
	eventually(t, "the notes of what is applied dropped", func() bool {
		r.lag.mu.Lock()
		defer r.lag.mu.Unlock()
		return len(r.lag.notes) == 0
	})
}

// servedOnce publishes a generation of 30 events through NATS at url, and
// runs a replica until it serves it, then stops it: the replica's cache
// (directory cache, its index.Dir dir) holds good, for a test to start
// another replica on.
func servedOnce(t *testing.T, url string) (good cluster.Pointer, cache string, dir *index.Dir) {
	t.Helper()
	good = newBuilder(t, url, 30).publish()
	cache = t.TempDir()
	dir, err := index.NewDir(cache)
	if err != nil {
		t.Fatal(err)
	}
	first := New(Config{NATS: cluster.Config{URL: url, Name: "replica"}, Serving: serving.Config{Dir: dir, Grace: 10 * time.Millisecond}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { first.Run(ctx); close(done) }()
	eventually(t, "the replica serves", func() bool { return first.Server().Generation() == good.Generation })
	cancel()
	<-done
	first.Server().Close()
	return good, cache, dir
}

// TestReplica_RestartedWhileNewestRefused: a replica that starts while the
// pointer names a generation it refuses serves the one its cache holds
// meanwhile, as one running does (it served nothing: a rolling restart
// during a bad publication took every replica out).
func TestReplica_RestartedWhileNewestRefused(t *testing.T) {
	cl := natstest.Start(t, 1)
	good, cache, _ := servedOnce(t, cl.URL())

	// The pointer moves to a generation whose digest is wrong.
	openPointerStore(t, cl.URL()).point(t, good, func(_ string, p *cluster.Pointer) {
		p.Digest = "SHA-256=" + strings.Repeat("A", 43) + "="
	})

	r := start(t, cl.URL(), cache)
	eventually(t, "the restarted replica serves its cached generation and says why not the newest", func() bool {
		err := r.Ready()
		return r.Server().Generation() == good.Generation && err != nil && strings.Contains(err.Error(), "digest mismatch")
	})
}

// TestReplica_CorruptCacheDownloadedAgain: a replica whose cached copy of
// the current generation is damaged (a file cut short) downloads it again
// from the store, rather than failing to load it every 5 s forever.
func TestReplica_CorruptCacheDownloadedAgain(t *testing.T) {
	cl := natstest.Start(t, 1)
	good, cache, dir := servedOnce(t, cl.URL())

	cut := 0
	err := filepath.WalkDir(dir.GenerationPath(good.Generation), func(path string, e fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".zap") {
			cut++
			return os.Truncate(path, 100)
		}
		return err
	})
	if err != nil || cut == 0 {
		t.Fatalf("cutting the cached segments: %v (%d cut)", err, cut)
	}
	r := start(t, cl.URL(), cache)
	eventually(t, "the replica downloads the generation again and serves it", func() bool {
		return r.Server().Generation() == good.Generation && r.Ready() == nil
	})
}

// pointerStore reaches a NATS server's store of generations and its
// pointer, for tests that move the pointer by hand.
type pointerStore struct {
	js      jetstream.JetStream
	objects jetstream.ObjectStore
	kv      jetstream.KeyValue
}

func openPointerStore(t *testing.T, url string) *pointerStore {
	t.Helper()
	ctx := context.Background()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	objects, err := js.ObjectStore(ctx, cluster.GenerationsBucket)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, cluster.PointerBucket)
	if err != nil {
		t.Fatal(err)
	}
	return &pointerStore{js: js, objects: objects, kv: kv}
}

// point moves the pointer to a copy of good's archive under a newer
// name, corrupted by corrupt, as a faulty store or builder would.
func (s *pointerStore) point(t *testing.T, good cluster.Pointer, corrupt func(name string, p *cluster.Pointer)) cluster.Pointer {
	t.Helper()
	ctx := context.Background()
	archive, err := s.objects.GetBytes(ctx, good.Generation)
	if err != nil {
		t.Fatal(err)
	}
	name := time.Now().UTC().Format("20060102T150405.000000000Z")
	info, err := s.objects.PutBytes(ctx, name, archive)
	if err != nil {
		t.Fatal(err)
	}
	p := cluster.Pointer{Generation: name, Digest: info.Digest, Size: info.Size, StreamSeq: good.StreamSeq}
	corrupt(name, &p)
	v, _ := json.Marshal(p)
	if _, err := s.kv.Put(ctx, cluster.PointerKey, v); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestReplica_FailedDownloadWaits: a pointer naming an archive the store
// does not hold fails every download; each is tried again after a tick,
// then twice as long, not at once: a hunt counted 2,400 tries a second on
// every replica, and as many for a cache whose directory was gone or
// whose disk was full.
func TestReplica_FailedDownloadWaits(t *testing.T) {
	cl := natstest.Start(t, 1)
	b := newBuilder(t, cl.URL(), 10)
	good := b.publish()
	var failed atomic.Int64
	r := start(t, cl.URL(), t.TempDir(), func(c *Config) {
		c.OnDownload = func(_ string, err error) {
			if err != nil {
				failed.Add(1)
			}
		}
	})
	eventually(t, "the replica serves", func() bool { return r.Server().Generation() == good.Generation })
	ps := openPointerStore(t, cl.URL())
	ps.point(t, good, func(name string, _ *cluster.Pointer) {
		if err := ps.objects.Delete(context.Background(), name); err != nil {
			t.Fatal(err)
		}
	})
	eventually(t, "a download failed", func() bool { return failed.Load() > 0 })
	time.Sleep(2500 * time.Millisecond)
	if n := failed.Load(); n > 4 {
		t.Errorf("%d failed downloads in 2.5 s; want one after a tick, then after 2 s", n)
	}
	if g := r.Server().Generation(); g != good.Generation {
		t.Errorf("serving %s, want %s still", g, good.Generation)
	}
}

// TestReplica_RestartedWhileDownloadsFail: a replica restarted while the
// pointer names an archive the store does not hold serves the generation
// its cache holds meanwhile, as it does while the newest is refused (it
// said "downloading" and served nothing).
func TestReplica_RestartedWhileDownloadsFail(t *testing.T) {
	cl := natstest.Start(t, 1)
	good, cache, _ := servedOnce(t, cl.URL())
	ps := openPointerStore(t, cl.URL())
	ps.point(t, good, func(name string, _ *cluster.Pointer) {
		if err := ps.objects.Delete(context.Background(), name); err != nil {
			t.Fatal(err)
		}
	})
	r := start(t, cl.URL(), cache)
	eventually(t, "the restarted replica serves its cached generation", func() bool {
		return r.Server().Generation() == good.Generation
	})
}

// wipe deletes the update stream and the buckets, as a NATS server whose
// storage was lost comes back (or an operator's nats stream rm), and
// returns a new builder's connection, which makes them again.
func wipe(t *testing.T, url string, buckets bool) *cluster.Conn {
	t.Helper()
	streams := []string{cluster.StreamName}
	if buckets {
		streams = append(streams, "KV_"+cluster.PointerBucket, "OBJ_"+cluster.GenerationsBucket)
	}
	natstest.DeleteStreams(t, url, streams...)
	conn, err := cluster.Open(context.Background(), cluster.Config{URL: url, Name: "builder after the wipe"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	return conn
}

// published starts a NATS server, publishes a generation of 20 events on
// it and starts a replica of it: the servers of the tests of a lost
// stream.
func published(t *testing.T) (url string, b *builder, r *Replica) {
	t.Helper()
	url = natstest.Start(t, 1).URL()
	b = newBuilder(t, url, 20)
	b.publish()
	return url, b, start(t, url, t.TempDir())
}

// TestReplica_StreamMadeAgain: the update stream (and, in the second case,
// the buckets) deleted and made again numbers messages and revisions from
// 1 again. A running replica applies the new stream's updates, a bulk
// update sent to it included, and swaps in the next generation published.
// Before, it took the new messages for ones it had applied, answered
// updates at once without them, said it was ready, and never moved to a
// generation published on the new bucket (revision 1, below its own).
func TestReplica_StreamMadeAgain(t *testing.T) {
	for _, buckets := range []bool{false, true} {
		t.Run(fmt.Sprintf("buckets=%v", buckets), func(t *testing.T) {
			if !buckets && testing.Short() {
				t.Skip("-short: the case of the stream and the buckets reopens the copy too")
			}
			ctx := context.Background()
			url, b, r := published(t)
			for i := range 3 { // the pointer's revision and the stream's seq well past 1
				if _, err := b.conn.Append(ctx, []index.Update{upsert(fmt.Sprintf("2020-02-0%d/before", i+1), "Before the wipe.")}); err != nil {
					t.Fatal(err)
				}
				b.publish()
			}
			eventually(t, "the replica applies the old stream", func() bool { return r.Server().Info().Applied == 3 })

			before, _ := r.Server().Position()
			b.conn = wipe(t, url, buckets)
			if _, err := b.conn.Append(ctx, []index.Update{upsert("2020-03-01/appended", "Appended to the new stream.")}); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the replica applies the new stream's first message", func() bool {
				return has(r, "2020-03-01/appended", "Appended to the new stream.") && r.Server().Info().Applied == 1
			})
			// Sent to the replica: answered once applied there.
			var err error
			for range 100 {
				if _, err = r.Server().Update(ctx, []index.Update{upsert("2020-03-02/sent", "Sent to the replica.")}); err == nil {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !has(r, "2020-03-02/sent", "Sent to the replica.") {
				t.Error("an update sent to the replica is not served when Update returns")
			}
			if err := r.Ready(); err != nil {
				t.Errorf("Ready: %v", err)
			}
			// The new stream's positions repeat the old one's: the
			// position's name tells them apart, for ETags.
			if after, _ := r.Server().Position(); after == before || !strings.Contains(after, "epoch 1") {
				t.Errorf("Position names %q after the reopen, %q before; want the reopen's epoch", after, before)
			}

			p := b.publish()
			eventually(t, "the replica swaps in the generation published on the new stream", func() bool {
				return r.Server().Generation() == p.Generation
			})
			if i := r.Server().Info(); i.Applied != 2 || !has(r, "2020-03-02/sent", "Sent to the replica.") {
				t.Errorf("after the swap: %+v, want applied 2 and the update sent", i)
			}
		})
	}
}

// TestReplica_StreamLost: the update stream deleted, and no process
// connecting after it to make it again: the running replica makes it
// again itself (as a process that connects would) and takes a bulk
// update sent to it within seconds. Before, it answered updates 503
// until a build or a replica's start made the stream.
func TestReplica_StreamLost(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the replica reopens its copy")
	}
	ctx := context.Background()
	url, b, r := published(t)
	if _, err := b.conn.Append(ctx, []index.Update{upsert("2020-02-01/before", "Before the loss.")}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the replica applies the stream", func() bool { return r.Server().Info().Applied == 1 })
	natstest.DeleteStreams(t, url, cluster.StreamName)
	var err error
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		uctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err = r.Server().Update(uctx, []index.Update{upsert("2020-02-02/after", "After the loss.")})
		cancel()
		if err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("an update sent 15 s after the stream was lost: %v", err)
	}
	// (The lost stream's update, which no generation held, is lost with
	// it: the replica reopened its generation for the new stream.)
	if !has(r, "2020-02-02/after", "After the loss.") {
		t.Error("the update sent after the loss is not served once answered")
	}
}

// fixedLog is an update log of no message at position seq, of stream id.
type fixedLog struct {
	seq uint64
	id  string
}

func (l fixedLog) Replay(context.Context, func(uint64, []index.Update, error) error) (uint64, error) {
	return l.seq, nil
}
func (l fixedLog) Position(context.Context) (uint64, error) { return l.seq, nil }
func (l fixedLog) StreamID(context.Context) (string, error) { return l.id, nil }

// TestHolds_GenerationWithoutStreamID: a generation built before they
// recorded their stream is taken to be of the stream there when it is
// first known, even if it was loaded before the stream's state was read;
// once the stream is made again, it holds nothing of the new one. A
// review found "" recorded for good when the first load came first.
func TestHolds_GenerationWithoutStreamID(t *testing.T) {
	dir, err := index.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	files := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(files, []byte(`{"id": "2020-01-01/one", "date": "2020-01-01", "text": "One event."}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := build.Run(context.Background(), build.Config{Dir: dir, Files: []string{files}, Updates: fixedLog{seq: 3, id: "A"}})
	if err != nil {
		t.Fatal(err)
	}
	if id, err := dir.StreamID(sum.Generation); err != nil || id != "A" {
		t.Fatalf("StreamID = %q, %v; want the log's", id, err)
	}
	if err := os.Remove(filepath.Join(dir.GenerationPath(sum.Generation), "stream.id")); err != nil {
		t.Fatal(err)
	}
	r := New(Config{Serving: serving.Config{Dir: dir}})
	for _, step := range []struct {
		live string
		want int64
	}{{"", 3}, {"A", 3}, {"A", 3}, {"B", 0}} {
		if step.live != "" {
			r.sawStream(cluster.StreamState{ID: step.live})
		}
		if got, err := r.Holds(sum.Generation); err != nil || got != step.want {
			t.Errorf("stream %q: Holds = %d, %v; want %d", step.live, got, err, step.want)
		}
	}
}
