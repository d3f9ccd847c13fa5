package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/build"
	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/natstest"
)

func open(t *testing.T, url string) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Open(ctx, Config{URL: url, Name: t.Name()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// corpus writes n events to a JSONL file and returns its path.
func corpus(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"id": "2020-01-%02d/event-%d", "date": "2020-01-%02d", "text": "Event number %d happens."}`+"\n", i%28+1, i, i%28+1, i)
	}
	p := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func upsert(id, text string) index.Update {
	return index.Update{Upsert: &newsdesk.Event{ID: id, Date: id[:10], Text: text}}
}

// buildWith builds files into dir, replaying c's stream, as indexer build
// -nats does.
func buildWith(t *testing.T, c *Conn, dir *index.Dir, files ...string) build.Summary {
	t.Helper()
	sum, err := build.Run(context.Background(), build.Config{Dir: dir, Files: files, Updates: c})
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// TestPublishDownload publishes a generation built with the stream's
// updates and downloads it elsewhere: the same files, the same stream
// position, the pointer moved; a second, newer one moves it again and the
// oldest archive is pruned.
func TestPublishDownload(t *testing.T) {
	ctx := context.Background()
	c := open(t, natstest.Start(t, 1).URL())
	if _, err := c.Current(ctx); !errors.Is(err, ErrNoPointer) {
		t.Fatalf("Current before any publish: %v, want ErrNoPointer", err)
	}
	seq, err := c.Append(ctx, []index.Update{upsert("2020-02-01/an-update", "An update from the stream."), {Delete: "2020-01-01/event-0"}})
	if err != nil || seq != 1 {
		t.Fatalf("Append: %d, %v; want seq 1", seq, err)
	}
	src, err := index.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	files := corpus(t, 50)
	sum := buildWith(t, c, src, files)
	if sum.StreamSeq != 1 || sum.Updates != 2 || sum.Indexed != 50 {
		t.Fatalf("build summary %+v: want stream_seq 1, 2 updates, 50 events (50 read, one deleted, one added)", sum)
	}
	p, err := c.Publish(ctx, src, sum.Generation)
	if err != nil {
		t.Fatal(err)
	}
	if p.StreamSeq != 1 || p.Generation != sum.Generation || !strings.HasPrefix(p.Digest, "SHA-256=") {
		t.Fatalf("pointer %+v", p)
	}
	got, err := c.Current(ctx)
	if err != nil || got.Generation != p.Generation || got.Digest != p.Digest {
		t.Fatalf("Current: %+v, %v; want %+v", got, err, p)
	}

	dst, err := index.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Download(ctx, got, dst); err != nil {
		t.Fatal(err)
	}
	if cur, _ := dst.Current(); cur != p.Generation {
		t.Fatalf("downloaded dir's current generation %q, want %q", cur, p.Generation)
	}
	if seq, ok, err := dst.StreamSeq(p.Generation); seq != 1 || !ok || err != nil {
		t.Fatalf("downloaded StreamSeq: %d %v %v", seq, ok, err)
	}
	if a, b := tree(t, src.GenerationPath(p.Generation)), tree(t, dst.GenerationPath(p.Generation)); a != b {
		t.Fatalf("downloaded files differ:\n%s\nwant\n%s", b, a)
	}

	time.Sleep(time.Millisecond) // generation names have nanoseconds; be sure
	second := buildWith(t, c, src, files)
	if _, err := c.Publish(ctx, src, second.Generation); err != nil {
		t.Fatal(err)
	}
	third := buildWith(t, c, src, files)
	if _, err := c.Publish(ctx, src, third.Generation); err != nil {
		t.Fatal(err)
	}
	infos, err := c.objects.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range infos {
		names = append(names, i.Name)
	}
	if want := []string{second.Generation, third.Generation}; fmt.Sprint(names) != fmt.Sprint(want) {
		t.Errorf("archives kept: %v, want the current and the previous %v", names, want)
	}
	// An older generation never moves the pointer back.
	if _, err := c.Publish(ctx, src, second.Generation); !errors.Is(err, ErrSuperseded) {
		t.Errorf("publishing an older generation: %v, want ErrSuperseded", err)
	}
	if cur, _ := c.Current(ctx); cur.Generation != third.Generation {
		t.Errorf("pointer at %s after the refused publish, want %s", cur.Generation, third.Generation)
	}
}

// tree lists the files under root with their sizes and contents' hashes.
func tree(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		fmt.Fprintf(&b, "%s %d %x\n", rel, len(data), data[:min(len(data), 16)])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestDownload_DigestMismatch corrupts what the store holds in the two
// ways a replica can meet: a chunk more in the archive (the store's own
// digest check fails at the end), and a pointer naming another digest
// than the archive's. Each download fails with ErrDigestMismatch and
// leaves the replica's directory as it was.
func TestDownload_DigestMismatch(t *testing.T) {
	ctx := context.Background()
	cl := natstest.Start(t, 1)
	c := open(t, cl.URL())
	src, _ := index.NewDir(t.TempDir())
	sum := buildWith(t, c, src, corpus(t, 20))
	p, err := c.Publish(ctx, src, sum.Generation)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		corrupt func(t *testing.T) Pointer
	}{
		{"pointer names another digest", func(t *testing.T) Pointer {
			q := p
			q.Digest = "SHA-256=" + strings.Repeat("A", 43) + "="
			return q
		}},
		{"a chunk more in the store", func(t *testing.T) Pointer {
			info, err := c.objects.GetInfo(ctx, p.Generation)
			if err != nil {
				t.Fatal(err)
			}
			nc, err := nats.Connect(cl.URL())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			// A message on the archive's chunk subject: the store reads it
			// as part of the object.
			if err := nc.Publish(fmt.Sprintf("$O.%s.C.%s", GenerationsBucket, info.NUID), []byte("corruption")); err != nil {
				t.Fatal(err)
			}
			if err := nc.Flush(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
			return p
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst, _ := index.NewDir(t.TempDir())
			err := c.Download(ctx, tc.corrupt(t), dst)
			t.Log(err)
			if !errors.Is(err, ErrDigestMismatch) {
				t.Fatalf("Download: %v, want ErrDigestMismatch", err)
			}
			if gens, _ := dst.Generations(); len(gens) != 0 {
				t.Errorf("generations installed after a refused download: %v", gens)
			}
			if _, err := dst.Current(); !errors.Is(err, newsdesk.ErrNoGeneration) {
				t.Errorf("Current after a refused download: %v, want none", err)
			}
		})
	}
}

// TestAppendReadFollow appends bulk requests, a message that is no update
// and one too large for a message; Read and Follow deliver every message
// in order, the bad one marked, and the big bulk split in order.
func TestAppendReadFollow(t *testing.T) {
	ctx := context.Background()
	cl := natstest.Start(t, 1)
	c := open(t, cl.URL())
	if _, err := c.Append(ctx, []index.Update{upsert("2020-02-01/a", "A.")}); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(cl.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Request(Subject, []byte("not an update\n"), 5*time.Second); err != nil { // a JetStream publish: the ack is the answer
		t.Fatal(err)
	}
	// A bulk request larger than a message: its updates in order, over
	// several messages.
	big := strings.Repeat("x", 300<<10)
	var bulk []index.Update
	for i := range 8 {
		bulk = append(bulk, upsert(fmt.Sprintf("2020-02-02/big-%d", i), big))
	}
	last, err := c.Append(ctx, bulk)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Append(ctx, []index.Update{upsert("2020-02-01/huge", strings.Repeat("y", 2<<20))}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("an update over max_payload: %v, want ErrTooLarge", err)
	}
	var read []Message
	if err := c.Read(ctx, 0, last, func(m Message) error { read = append(read, m); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(read) < 4 || read[0].Seq != 1 || read[1].Bad == nil || read[len(read)-1].Seq != last {
		t.Fatalf("read %d messages: %+v", len(read), summary(read))
	}
	var ids []string
	for _, m := range read[2:] {
		for _, u := range m.Updates {
			ids = append(ids, strings.TrimPrefix(u.ID(), "2020-02-02/"))
		}
	}
	if got := strings.Join(ids, ","); got != "big-0,big-1,big-2,big-3,big-4,big-5,big-6,big-7" {
		t.Errorf("big bulk read back as %s", got)
	}
	// Read from the middle, up to a bound.
	var mid []uint64
	if err := c.Read(ctx, 1, 3, func(m Message) error { mid = append(mid, m.Seq); return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(mid) != "[2 3]" {
		t.Errorf("Read(1, 3) delivered %v, want [2 3]", mid)
	}

	got := make(chan Message, 100)
	stop := c.Follow(ctx, last-1, func(m Message) { got <- m }, nil)
	defer stop()
	next, err := c.Append(ctx, []index.Update{{Delete: "2020-02-01/a"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []uint64{last, next} {
		select {
		case m := <-got:
			if m.Seq != want {
				t.Fatalf("Follow delivered %d, want %d", m.Seq, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("Follow delivered nothing for message %d", want)
		}
	}
}

func summary(ms []Message) string {
	var b bytes.Buffer
	for _, m := range ms {
		fmt.Fprintf(&b, "%d(%d updates, bad %v) ", m.Seq, len(m.Updates), m.Bad)
	}
	return b.String()
}

// TestDecode checks what a message must be to be applied.
func TestDecode(t *testing.T) {
	tests := []struct {
		name, body string
		want       int // updates; -1: bad
	}{
		{"one upsert", `{"upsert": {"id": "2020-01-01/a", "date": "2020-01-01", "text": "A."}}` + "\n", 1},
		{"upsert and delete", `{"upsert": {"id": "2020-01-01/a", "date": "2020-01-01", "text": "A."}}` + "\n" + `{"delete": "2020-01-01/b"}`, 2},
		{"empty", "", -1},
		{"not JSON", "hello\n", -1},
		{"both operations", `{"upsert": {"id": "2020-01-01/a", "date": "2020-01-01", "text": "A."}, "delete": "x"}`, -1},
		{"an invalid event", `{"upsert": {"id": "2020-01-01/a", "date": "0001-01-01", "text": "A."}}`, -1},
		{"one good line, one bad", `{"delete": "2020-01-01/b"}` + "\n" + `{}`, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode([]byte(tc.body))
			if tc.want < 0 {
				if err == nil {
					t.Errorf("Decode = %d updates, want an error", len(got))
				}
				return
			}
			if err != nil || len(got) != tc.want {
				t.Errorf("Decode = %d updates, %v; want %d", len(got), err, tc.want)
			}
		})
	}
}

// TestOpen_Cluster creates the stream and buckets on a 3-node cluster:
// three replicas each; a second Open finds them.
func TestOpen_Cluster(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts a 3-node NATS cluster")
	}
	cl := natstest.Start(t, 3)
	c := open(t, cl.URL())
	if c.Replicas() != 3 {
		t.Fatalf("replicas %d on a cluster, want 3", c.Replicas())
	}
	ctx := context.Background()
	info, err := c.stream.Info(ctx)
	if err != nil || info.Config.Replicas != 3 {
		t.Fatalf("stream info %+v, %v", info, err)
	}
	if _, err := c.Append(ctx, []index.Update{{Delete: "2020-01-01/x"}}); err != nil {
		t.Fatal(err)
	}
	d := open(t, cl.Nodes[2].URL())
	if last, n, err := d.Last(ctx); last != 1 || n != 1 || err != nil {
		t.Fatalf("Last from another node: %d %d %v", last, n, err)
	}
}

func TestRedact(t *testing.T) {
	got := redact("nats://user:secret@a:4222,nats://b:4222,nats://token@c:4222")
	if strings.Contains(got, "secret") || strings.Contains(got, "token") || !strings.Contains(got, "nats://b:4222") {
		t.Errorf("redact = %q", got)
	}
}

// TestReader_Direct reads the stream by sequence, as readers do while no
// consumer can be made: in order, over a deleted message, to the end.
func TestReader_Direct(t *testing.T) {
	ctx := context.Background()
	c := open(t, natstest.Start(t, 1).URL())
	for i := range 5 {
		if _, err := c.Append(ctx, []index.Update{upsert(fmt.Sprintf("2020-02-01/u-%d", i), "U.")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.stream.DeleteMsg(ctx, 3); err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	r := reader{c: c, fn: func(m Message) (bool, error) { seqs = append(seqs, m.Seq); return false, nil }}
	last, err := r.direct(ctx, 1)
	if err != nil || last != 5 || fmt.Sprint(seqs) != "[2 4 5]" {
		t.Errorf("direct after 1: %v, last %d, %v; want [2 4 5], 5", seqs, last, err)
	}
}

// TestAppend_RefusedIsNotStoredLater: an append refused while NATS is down
// is not kept to be sent when the connection comes back (where it would
// land after updates acknowledged since, undoing them).
func TestAppend_RefusedIsNotStoredLater(t *testing.T) {
	ctx := context.Background()
	cl := natstest.Start(t, 1)
	c := open(t, cl.URL())
	if _, err := c.Append(ctx, []index.Update{upsert("2020-02-01/a", "A.")}); err != nil {
		t.Fatal(err)
	}
	node := cl.Nodes[0]
	if err := node.Kill(); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, time.Second)
	if _, err := c.Append(short, []index.Update{upsert("2020-02-01/refused", "Refused.")}); err == nil {
		t.Fatal("an append with NATS down succeeded")
	}
	cancel()
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	if err := node.WaitJetStream(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	// Once reconnected, an acknowledged append; then the stream holds it
	// and the first, never the refused one.
	var last uint64
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var err error
		if last, err = c.Append(ctx, []index.Update{upsert("2020-02-01/b", "B.")}); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no append after the restart: %v", err)
		}
	}
	time.Sleep(500 * time.Millisecond) // time for a buffered publish to land, were there one
	var ids []string
	if err := c.Read(ctx, 0, last+5, func(m Message) error {
		for _, u := range m.Updates {
			ids = append(ids, u.ID())
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(ids, "2020-02-01/refused") {
		t.Errorf("the stream holds %v: the refused append was stored after the restart", ids)
	}
}

// TestPublish_TwoBuilders: a builder publishing an older generation while
// another has uploaded a newer one leaves that archive: the other's
// pointer move then names an archive that exists.
func TestPublish_TwoBuilders(t *testing.T) {
	ctx := context.Background()
	c := open(t, natstest.Start(t, 1).URL())
	files := corpus(t, 20)
	older, err := index.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a := buildWith(t, c, older, files)
	newer, err := index.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b := buildWith(t, c, newer, files)
	if b.Generation <= a.Generation {
		t.Fatalf("generations %s and %s not in build order", a.Generation, b.Generation)
	}
	// B uploaded and checked, not yet published; A published meanwhile.
	pb, err := c.upload(ctx, newer, b.Generation)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.verify(ctx, pb); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Publish(ctx, older, a.Generation); err != nil {
		t.Fatal(err)
	}
	if _, err := c.objects.GetInfo(ctx, b.Generation); err != nil {
		t.Errorf("the newer generation's archive after the older's publish: %v", err)
	}
}

// TestOpen_WithoutJetStream: a NATS server without JetStream is no
// cluster a wait would make: Open says so at once, not after 30 s of
// retries.
func TestOpen_WithoutJetStream(t *testing.T) {
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	t.Cleanup(srv.Shutdown)
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	start := time.Now()
	c, err := Open(context.Background(), Config{URL: srv.ClientURL()})
	if err == nil {
		c.Close()
		t.Fatal("Open succeeded without JetStream")
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Open failed after %v (%v), want at once", took, err)
	}
}

// TestPointer_Newer: a later revision of one bucket, or any revision of a
// bucket made since, is newer; a bucket made again restarts revisions at 1.
func TestPointer_Newer(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Hour)
	for _, c := range []struct {
		name string
		p, q Pointer
		want bool
	}{
		{"later revision", Pointer{Revision: 5, Bucket: t0}, Pointer{Revision: 4, Bucket: t0}, true},
		{"same revision", Pointer{Revision: 4, Bucket: t0}, Pointer{Revision: 4, Bucket: t0}, false},
		{"earlier revision", Pointer{Revision: 3, Bucket: t0}, Pointer{Revision: 4, Bucket: t0}, false},
		{"bucket made again", Pointer{Revision: 1, Bucket: t1}, Pointer{Revision: 9, Bucket: t0}, true},
		{"old bucket", Pointer{Revision: 9, Bucket: t0}, Pointer{Revision: 1, Bucket: t1}, false},
		{"nothing read yet", Pointer{Revision: 1, Bucket: t0}, Pointer{}, true},
	} {
		if got := c.p.Newer(c.q); got != c.want {
			t.Errorf("%s: Newer = %v, want %v", c.name, got, c.want)
		}
	}
}
