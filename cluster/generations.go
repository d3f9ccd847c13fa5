package cluster

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsdesk/newsdesk/index"
)

// Pointer names the current generation: the value of PointerKey, as JSON.
type Pointer struct {
	// Generation is the generation's name, under which its archive is
	// kept in GenerationsBucket.
	Generation string `json:"generation"`
	// Digest is the archive's SHA-256, as the Object Store writes it
	// ("SHA-256=" and the URL-safe base64 of the sum); Size its length.
	Digest string `json:"digest"`
	Size   uint64 `json:"size"`
	// StreamSeq is the last message of the update stream the generation
	// holds (its stream.seq file says the same).
	StreamSeq uint64 `json:"stream_seq"`
	// Published is when the builder moved the pointer, by its clock.
	Published time.Time `json:"published"`
	// Revision is the KV revision the pointer was read at.
	Revision uint64 `json:"-"`
	// Bucket is when the pointer's bucket was created, as read with it: a
	// bucket deleted and made again (a NATS server whose storage was
	// wiped) numbers its revisions from 1 again (see Newer).
	Bucket time.Time `json:"-"`
}

// Newer reports whether p was written after q: a later revision of the
// same bucket, or any of a bucket made since. A replica that compared
// revisions alone never moved to a generation published after the bucket
// was made again, and served the old one for good.
func (p Pointer) Newer(q Pointer) bool {
	if !p.Bucket.Equal(q.Bucket) {
		return p.Bucket.After(q.Bucket)
	}
	return p.Revision > q.Revision
}

// Errors of generations.
var (
	// ErrNoPointer: no generation has been published yet.
	ErrNoPointer = errors.New("no generation published to NATS yet")
	// ErrDigestMismatch is wrapped by Download's error when what it read
	// is not what the pointer names: the generation is refused.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrSuperseded is wrapped by Publish's error when a newer generation
	// is current already: the pointer is not moved back.
	ErrSuperseded = errors.New("a newer generation is current")
	// ErrNotForReplicas is wrapped by Publish's error when the generation
	// was built without the update stream: no retry publishes it.
	ErrNotForReplicas = errors.New("the generation holds no update stream position: build it with the stream (indexer build -nats)")
)

// Current returns the pointer, or an error wrapping ErrNoPointer.
func (c *Conn) Current(ctx context.Context) (Pointer, error) {
	bucket, err := c.bucketCreated(ctx)
	if err != nil {
		return Pointer{}, err
	}
	e, err := c.kv.Get(ctx, PointerKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Pointer{}, ErrNoPointer
	}
	if err != nil {
		return Pointer{}, fmt.Errorf("cluster: read the pointer: %w", err)
	}
	return decodePointer(e, bucket)
}

// bucketCreated returns when the pointer's bucket was created.
func (c *Conn) bucketCreated(ctx context.Context) (time.Time, error) {
	st, err := c.kv.Status(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("cluster: read the pointer's bucket: %w", err)
	}
	if js, ok := st.(*jetstream.KeyValueBucketStatus); ok {
		return js.StreamInfo().Created, nil
	}
	return time.Time{}, nil
}

func decodePointer(e jetstream.KeyValueEntry, bucket time.Time) (Pointer, error) {
	var p Pointer
	if err := json.Unmarshal(e.Value(), &p); err != nil {
		return Pointer{}, fmt.Errorf("cluster: pointer revision %d: %w", e.Revision(), err)
	}
	p.Revision, p.Bucket = e.Revision(), bucket
	return p, nil
}

// WatchCurrent sends the pointer on the returned channel, then each time
// it moves, until ctx ends or the watch fails; then it closes the channel.
// The pointers' Bucket is the bucket's as the watch began: one made again
// since is not seen by this watch (see Pointer.Newer).
func (c *Conn) WatchCurrent(ctx context.Context) (<-chan Pointer, error) {
	bucket, err := c.bucketCreated(ctx)
	if err != nil {
		return nil, err
	}
	w, err := c.kv.Watch(ctx, PointerKey, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("cluster: watch the pointer: %w", err)
	}
	out := make(chan Pointer, 1)
	go func() {
		defer close(out)
		defer w.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				if e == nil { // the initial values are in
					continue
				}
				p, err := decodePointer(e, bucket)
				if err != nil {
					c.cfg.Logger.Warn().Err(err).Msg("pointer skipped")
					continue
				}
				select {
				case out <- p:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

// Transfers' deadlines and attempts. A JetStream request that reaches no
// leader (one was just killed) is never answered, and the Object Store's
// Put and Get wait on their context: with a fixed 10 minutes, TestCluster
// hung on one after a NATS node's kill -9 (in 6 of 8 runs). So each
// attempt gets 15 s plus a second a MiB (a 100 MiB generation: about 2
// minutes), and a fresh attempt after that is the quicker way.
const (
	transferBase   = 15 * time.Second
	transferPerMiB = time.Second
	uploadAttempts = 3
)

// transferTimeout is the deadline of one upload or download of size bytes.
func transferTimeout(size int64) time.Duration {
	return transferBase + time.Duration(size>>20)*transferPerMiB
}

// treeSize is the size of the files under root.
func treeSize(root string) int64 {
	var n int64
	_ = filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// Publish uploads the generation name of dir to the Object Store as a tar
// archive, checks what the store kept by reading it back against the
// digest of what was sent, then moves the pointer to it with
// compare-and-set, and returns the new pointer. It never moves the pointer
// back: when a newer generation is current already it fails with
// ErrSuperseded, the archive uploaded. The archives of generations older
// than the previous one are removed. The generation must hold the update
// stream's position (built with Replay), which replicas apply from.
func (c *Conn) Publish(ctx context.Context, dir *index.Dir, name string) (Pointer, error) {
	seq, ok, err := dir.StreamSeq(name)
	if err != nil {
		return Pointer{}, err
	}
	if !ok {
		return Pointer{}, fmt.Errorf("cluster: publish %s: %w", name, ErrNotForReplicas)
	}
	var p Pointer
	for attempt := 1; ; attempt++ {
		// A deadline of its own: without one, the Object Store gives each
		// chunk 5 s to be acknowledged, which three servers writing a 100 MB
		// archive on a busy machine missed.
		timeout := transferTimeout(treeSize(dir.GenerationPath(name)))
		uctx, cancel := context.WithTimeout(ctx, timeout)
		p, err = c.upload(uctx, dir, name)
		cancel()
		if err == nil {
			p.StreamSeq = seq
			vctx, vcancel := context.WithTimeout(ctx, timeout)
			err = c.verify(vctx, p)
			vcancel()
		}
		if err == nil {
			break
		}
		if attempt == uploadAttempts || ctx.Err() != nil {
			return Pointer{}, err
		}
		c.cfg.Logger.Warn().Err(err).Int("attempt", attempt).Msg("upload generation " + name + "; retrying")
	}
	var previous string
	err = c.retry(ctx, "move the pointer to "+name, func() error {
		var err error
		previous, err = c.move(ctx, &p)
		return err
	})
	if err != nil {
		return Pointer{}, err
	}
	c.prune(ctx, name, previous)
	return p, nil
}

// upload writes the archive of generation name to the Object Store, and
// returns its pointer (without the stream position).
func (c *Conn) upload(ctx context.Context, dir *index.Dir, name string) (Pointer, error) {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeArchive(pw, dir.GenerationPath(name))) }()
	sent := sha256.New()
	info, err := c.objects.Put(ctx, jetstream.ObjectMeta{Name: name, Description: "newsdesk generation " + name},
		io.TeeReader(pr, sent))
	pr.CloseWithError(errors.New("upload ended"))
	if err != nil {
		return Pointer{}, fmt.Errorf("cluster: upload %s: %w", name, err)
	}
	p := Pointer{Generation: name, Digest: digest(sent), Size: info.Size}
	if info.Digest != p.Digest {
		return Pointer{}, fmt.Errorf("cluster: upload %s: %w: sent %s, the store computed %s", name, ErrDigestMismatch, p.Digest, info.Digest)
	}
	return p, nil
}

// verify reads the archive of p back from the store and checks its
// digest and size.
func (c *Conn) verify(ctx context.Context, p Pointer) error {
	r, err := c.objects.Get(ctx, p.Generation)
	if err != nil {
		return fmt.Errorf("cluster: read back %s: %w", p.Generation, err)
	}
	defer r.Close()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if errors.Is(err, jetstream.ErrDigestMismatch) {
		err = fmt.Errorf("%w: %w", ErrDigestMismatch, err)
	}
	if err != nil {
		return fmt.Errorf("cluster: read back %s: %w", p.Generation, err)
	}
	if got := digest(h); got != p.Digest || uint64(n) != p.Size {
		return fmt.Errorf("cluster: read back %s: %w: %s (%d bytes) in the store, %s (%d bytes) sent", p.Generation, ErrDigestMismatch, got, n, p.Digest, p.Size)
	}
	return nil
}

// move points the pointer at p with compare-and-set, unless a newer
// generation is current, and sets p's Published and Revision; it returns
// the generation it replaced.
func (c *Conn) move(ctx context.Context, p *Pointer) (string, error) {
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		cur, err := c.Current(ctx)
		none := errors.Is(err, ErrNoPointer)
		if err != nil && !none {
			return "", err
		}
		if cur.Generation > p.Generation { // names sort by creation time
			return "", permanent{fmt.Errorf("cluster: publish %s: %w: %s; the pointer stays", p.Generation, ErrSuperseded, cur.Generation)}
		}
		p.Published = time.Now().UTC()
		val, err := json.Marshal(p)
		if err != nil {
			return "", err
		}
		var rev uint64
		if none {
			rev, err = c.kv.Create(ctx, PointerKey, val)
		} else {
			rev, err = c.kv.Update(ctx, PointerKey, val, cur.Revision)
		}
		switch {
		case err == nil:
			p.Revision = rev
			return cur.Generation, nil
		case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyRevisionMismatch):
			continue // another builder moved it meanwhile: look again
		}
		return "", fmt.Errorf("cluster: move the pointer to %s: %w", p.Generation, err)
	}
}

// prune removes the archives of generations other than keep, as a build
// keeps the current and the previous generation on disk. A failure is
// logged: the archives are only space.
//
// An archive newer than the first kept (the generation just published) is
// kept too: another builder's, uploaded and about to be published, whose
// pointer move would otherwise name an archive removed.
func (c *Conn) prune(ctx context.Context, keep ...string) {
	infos, err := c.objects.List(ctx)
	if err != nil {
		if !errors.Is(err, jetstream.ErrNoObjectsFound) {
			c.cfg.Logger.Warn().Err(err).Msg("list generation archives")
		}
		return
	}
	for _, info := range infos {
		kept := len(keep) > 0 && info.Name > keep[0] // generation names sort by time
		for _, k := range keep {
			kept = kept || k == info.Name
		}
		if !kept {
			if err := c.objects.Delete(ctx, info.Name); err != nil {
				c.cfg.Logger.Warn().Err(err).Str("generation", info.Name).Msg("remove old generation archive")
			}
		}
	}
}

// Download fetches the generation p names into dir and makes it dir's
// current generation (index.Dir.Install). What it reads must have the
// pointer's digest and size, by the Object Store's own check and by this
// one's: otherwise it fails with ErrDigestMismatch and dir is left as it
// was.
func (c *Conn) Download(ctx context.Context, p Pointer, dir *index.Dir) error {
	ctx, cancel := context.WithTimeout(ctx, transferTimeout(int64(p.Size)))
	defer cancel()
	r, err := c.objects.Get(ctx, p.Generation)
	if err != nil {
		return fmt.Errorf("cluster: download %s: %w", p.Generation, err)
	}
	defer r.Close()
	info, err := r.Info()
	if err != nil {
		return fmt.Errorf("cluster: download %s: %w", p.Generation, err)
	}
	if info.Digest != p.Digest {
		return fmt.Errorf("cluster: download %s: %w: the store holds %s, the pointer names %s", p.Generation, ErrDigestMismatch, info.Digest, p.Digest)
	}
	return dir.Install(p.Generation, func(path string) error {
		h := sha256.New()
		counted := &countingReader{r: io.TeeReader(r, h)}
		if err := readArchive(counted, path); err != nil {
			if errors.Is(err, jetstream.ErrDigestMismatch) {
				err = fmt.Errorf("%w: %w", ErrDigestMismatch, err)
			}
			return fmt.Errorf("download: %w", err)
		}
		// To the end, past the archive's trailer: the store checks its
		// digest at the end of the object.
		if _, err := io.Copy(io.Discard, counted); err != nil {
			if errors.Is(err, jetstream.ErrDigestMismatch) {
				err = fmt.Errorf("%w: %w", ErrDigestMismatch, err)
			}
			return fmt.Errorf("download: %w", err)
		}
		if got := digest(h); got != p.Digest || counted.n != p.Size {
			return fmt.Errorf("download: %w: read %s (%d bytes), the pointer names %s (%d bytes)", ErrDigestMismatch, got, counted.n, p.Digest, p.Size)
		}
		return nil
	})
}

type countingReader struct {
	r io.Reader
	n uint64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += uint64(n)
	return n, err
}

// digest formats a SHA-256 as the Object Store does.
func digest(h hash.Hash) string {
	return "SHA-256=" + base64.URLEncoding.EncodeToString(h.Sum(nil))
}

// writeArchive writes the files under root to w as a tar archive, paths
// relative to root, in lexical order.
func writeArchive(w io.Writer, root string) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() && !fi.IsDir() {
			return fmt.Errorf("archive %s: %s is neither a file nor a directory", root, rel)
		}
		hdr, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		if fi.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uname, hdr.Gname, hdr.Uid, hdr.Gid = "", "", 0, 0
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if fi.IsDir() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return fmt.Errorf("archive %s: %w", root, err)
	}
	return tw.Close()
}

// readArchive writes the files of the tar archive r under dir. Only files
// and directories are accepted, at paths inside dir.
func readArchive(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read archive: %w", err)
		}
		name := path.Clean(hdr.Name)
		if name == "." || path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return fmt.Errorf("read archive: entry %q is outside the generation", hdr.Name)
		}
		to := filepath.Join(dir, filepath.FromSlash(name))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(to, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			_, err = io.CopyN(f, tr, hdr.Size)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("read archive: %s: %w", name, err)
			}
		default:
			return fmt.Errorf("read archive: entry %q is neither a file nor a directory", hdr.Name)
		}
	}
}
