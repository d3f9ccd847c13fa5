package index

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	bmapping "github.com/blevesearch/bleve/v2/mapping"
)

// workDir, in an index directory, holds the private working copies of
// generations that servers apply updates to (see OpenWorking).
const workDir = "work"

// OpenWorking opens a private, writable copy of the named published
// generation, for a server that applies updates to what it serves. The
// generation itself is never written: its segment files, which Bleve
// never changes once written, are hard-linked into DIR/work/NAME.ID/
// (copied where links fail), and its small root file is copied. So
// `indexer get` and other servers can read the generation meanwhile, and
// Bleve's background merging works on the copy as on any index. The copy
// is removed when the Index is closed; copies left by a process that
// crashed are removed by the next OpenWorking. Updates applied to the
// copy live in the directory's journal (see Journal), from which a server
// reapplies them to a fresh copy at start-up.
//
// onError, if not nil, is called with each error of Bleve's background
// work on the copy (see Fault).
//
// The generation must have been built with the mapping m, or one of older.
func (d *Dir) OpenWorking(name string, m bmapping.IndexMapping, onError func(error), older ...bmapping.IndexMapping) (_ *Index, err error) {
	if !validName(name) {
		return nil, fmt.Errorf("open working copy: %q is not a generation name", name)
	}
	root := filepath.Join(d.path, workDir)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("open working copy: %w", err)
	}
	d.sweepWorking()
	tag := make([]byte, 6)
	_, _ = rand.Read(tag)
	path := filepath.Join(root, name+"."+hex.EncodeToString(tag))
	unlock, err := lockFileAt(filepath.Join(path, lockFile))
	if err != nil {
		return nil, fmt.Errorf("open working copy: %w", err)
	}
	remove := func() error {
		unlock()
		return os.RemoveAll(path)
	}
	defer func() {
		if err != nil {
			_ = remove()
		}
	}()
	if err := copyGeneration(d.GenerationPath(name), path); err != nil {
		return nil, fmt.Errorf("open working copy of %s: %w", name, err)
	}
	registerCallbacks()
	f := newFaults(onError)
	store := filepath.Join(path, "store") // where Bleve keeps a scorch index, and the path it reports
	faultsByPath.Store(store, f)
	idx, legacy, err := openChecked(path, working, m, older...)
	if err != nil {
		faultsByPath.Delete(store)
		return nil, fmt.Errorf("open working copy of %s: %w", name, err)
	}
	var sc any
	if adv, err := idx.Advanced(); err == nil {
		sc = adv
		faultsByIdx.Store(sc, f)
	}
	return &Index{Index: idx, Generation: name, Legacy: legacy, path: path, faults: f, cleanup: func() error {
		faultsByPath.Delete(store)
		if sc != nil {
			faultsByIdx.Delete(sc)
		}
		return remove()
	}}, nil
}

// mergeMaxEvents is Bleve's MaxSegmentSize for working copies: segments
// of up to half of it merge.
const mergeMaxEvents = 20000

// working opens a working copy. Its writes are not waited for on disk
// (unsafe_batch): the journal, synced before each write, is what makes an
// update durable, and waiting for Bleve's persister cost about 100 ms per
// bulk request.
//
// Update segments merge at 2 per tier (Bleve's default is 10): they are
// small, and every search visits every segment. Only segments of fewer
// than MaxSegmentSize/2 live events merge: the build's segment (114,240
// events) is never rewritten by searchd. With Bleve's default (5 M) it
// was, to reclaim the updates' deletions: 10,000 one-event updates
// rewrote its 98 MB, bulk p50 went from 1.2 to 6.5 ms and searches ran at
// half speed for seconds after. Its deleted events wait for the next build.
var working = map[string]interface{}{"bolt_timeout": "1s", "unsafe_batch": true,
	"scorchMergePlanOptions": map[string]interface{}{"MaxSegmentsPerTier": 2, "MaxSegmentSize": mergeMaxEvents},
	"asyncErrorCallbackName": callbackName, "eventCallbackName": callbackName}

// sweepWorking removes working copies no process holds: left by a crash.
func (d *Dir) sweepWorking() {
	root := filepath.Join(d.path, workDir)
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range entries {
		p := filepath.Join(root, e.Name())
		f, err := os.OpenFile(filepath.Join(p, lockFile), os.O_RDWR, 0)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				_ = os.RemoveAll(p) // a copy that never got its lock
			}
			continue
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			_ = os.RemoveAll(p)
		}
		f.Close()
	}
}

// lockFileAt creates path (and its directory) and holds an exclusive lock
// on it until the returned function is called.
func lockFileAt(path string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// copyGeneration copies the Bleve index at src into dst: segment files
// (*.zap, immutable) as hard links, everything else as copies.
func copyGeneration(src, dst string) error {
	return filepath.WalkDir(src, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		if e.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		if filepath.Ext(p) == ".zap" {
			if err := os.Link(p, to); err == nil {
				return nil
			}
		}
		return copyFile(p, to)
	})
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
