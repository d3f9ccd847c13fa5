package index

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/newsdesk/newsdesk"
)

const (
	currentFile    = "CURRENT"
	generationsDir = "generations"
	tmpDir         = "tmp"
	lockFile       = "lock"
	reportsDir     = "reports"
)

// Dir is an index directory holding generations. The zero value is not
// usable; call NewDir.
type Dir struct {
	path string
}

// NewDir returns the index directory at path, creating it and its
// subdirectories if needed.
func NewDir(path string) (*Dir, error) {
	for _, sub := range []string{"", generationsDir, tmpDir, reportsDir} {
		if err := os.MkdirAll(filepath.Join(path, sub), 0o755); err != nil {
			return nil, fmt.Errorf("create index directory: %w", err)
		}
	}
	return &Dir{path: path}, nil
}

// ExistingDir returns the index directory at path for a command that
// reads or repoints what is there (indexer get, rollback, publish): a
// path that is no directory is an error naming it, and nothing is
// created (a typo made an empty index directory).
func ExistingDir(path string) (*Dir, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("index directory %s: %w (build one with indexer build)", path, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("index directory %s is not a directory", path)
	}
	if _, err := os.Stat(filepath.Join(path, generationsDir)); err != nil {
		return nil, fmt.Errorf("%s is not an index directory (it has no %s/; build one with indexer build)", path, generationsDir)
	}
	return &Dir{path: path}, nil
}

// Path returns the directory's path.
func (d *Dir) Path() string { return d.path }

// TmpPath returns the directory of builds in progress: a build's scratch
// files go there, and the next build removes what a crash left.
func (d *Dir) TmpPath() string { return filepath.Join(d.path, tmpDir) }

// ReportSuffix ends the name of a build's bad-input report in
// ReportsPath, after the generation's name.
const ReportSuffix = ".bad.jsonl"

// ReportsPath returns the directory where builds write bad-input reports.
func (d *Dir) ReportsPath() string { return filepath.Join(d.path, reportsDir) }

// GenerationPath returns where the published generation name lives.
func (d *Dir) GenerationPath(name string) string {
	return filepath.Join(d.path, generationsDir, name)
}

// Current returns the name of the published generation, or an error
// wrapping newsdesk.ErrNoGeneration when there is none.
func (d *Dir) Current() (string, error) {
	b, err := os.ReadFile(filepath.Join(d.path, currentFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w in %s", newsdesk.ErrNoGeneration, d.path)
	}
	if err != nil {
		return "", fmt.Errorf("read current generation: %w", err)
	}
	name := strings.TrimSpace(string(b))
	if !validName(name) {
		return "", fmt.Errorf("read current generation: %s holds %q, not a generation name", currentFile, name)
	}
	return name, nil
}

// Generations lists the published generations, oldest first.
func (d *Dir) Generations() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(d.path, generationsDir))
	if err != nil {
		return nil, fmt.Errorf("list generations: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && validName(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names) // names sort by creation time
	return names, nil
}

// newGenerationName returns a name that sorts by creation time.
func newGenerationName(now time.Time) string {
	return now.UTC().Format("20060102T150405.000000000Z")
}

func validName(name string) bool {
	_, err := time.Parse("20060102T150405.000000000Z", name)
	return err == nil
}

// setCurrent atomically points CURRENT at name: write a temporary file,
// fsync it, rename it over CURRENT, fsync the directory.
func (d *Dir) setCurrent(name string) error {
	commit, err := d.prepareCurrent(name)
	if err != nil {
		return err
	}
	return commit()
}

// prepareCurrent writes and syncs a pointer to name beside CURRENT; the
// function it returns renames it over CURRENT and syncs the directory.
// The first part is where a full disk fails: what must be done only
// once the pointer can move (clearing the journal) goes between them.
func (d *Dir) prepareCurrent(name string) (commit func() error, err error) {
	tmp := filepath.Join(d.path, currentFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("write current pointer: %w", err)
	}
	if _, err := f.WriteString(name + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write current pointer: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("sync current pointer: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("close current pointer: %w", err)
	}
	return func() error {
		if err := os.Rename(tmp, filepath.Join(d.path, currentFile)); err != nil {
			return fmt.Errorf("publish current pointer: %w", err)
		}
		if err := syncDir(d.path); err != nil {
			return fmt.Errorf("%w: %w", errPointerUnsynced, err)
		}
		return nil
	}, nil
}

// errPointerUnsynced is a pointer moved, whose directory could not be
// synced: what reads CURRENT sees the new generation, but a power cut
// could bring back the previous one.
var errPointerUnsynced = errors.New("current pointer moved, but its directory could not be synced")

// lock takes the directory's build lock, failing at once if another
// process holds it. The returned function releases it.
func (d *Dir) lock() (func(), error) {
	f, err := os.OpenFile(filepath.Join(d.path, lockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open build lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: another build is running in %s", ErrLocked, d.path)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// cleanTmp removes what crashed builds left in tmp/. Call with the lock held.
func (d *Dir) cleanTmp() error {
	entries, err := os.ReadDir(filepath.Join(d.path, tmpDir))
	if err != nil {
		return fmt.Errorf("list unfinished builds: %w", err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(d.path, tmpDir, e.Name())); err != nil {
			return fmt.Errorf("remove unfinished build: %w", err)
		}
	}
	return nil
}

// previous returns the generation a build keeps beside the one it
// publishes, for a rollback: the one CURRENT names. known is false when
// generations are there but CURRENT names none of them (CURRENT missing,
// unreadable, copied before the generations by an rsync, written by
// hand): which one servers serve is then unknown, and the build removes
// none. A build kept the missing name and removed every generation there
// was, the one served included, until 2026-12-02.
func (d *Dir) previous() (name string, known bool) {
	names, err := d.Generations()
	if err != nil || len(names) == 0 {
		return "", true // the first build: nothing to keep
	}
	cur, err := d.Current()
	if err != nil || !slices.Contains(names, cur) {
		return "", false
	}
	return cur, true
}

// prune removes published generations other than keep. Call with the lock held.
func (d *Dir) prune(keep ...string) error {
	names, err := d.Generations()
	if err != nil {
		return err
	}
	var removed []string
	for _, n := range names {
		if !slices.Contains(keep, n) {
			if err := os.RemoveAll(d.GenerationPath(n)); err != nil {
				return fmt.Errorf("remove old generation %s: %w", n, err)
			}
			removed = append(removed, n)
		}
	}
	if len(keep) == 0 {
		return nil
	}
	return d.pruneReports(slices.Min(keep), removed)
}

// pruneReports removes the bad-input reports of builds older than the
// generation oldest (names order by time): those of generations removed,
// and of builds that failed before them; and those of the generations
// removed, whatever their names (one newer than a generation kept, which
// a CURRENT set by hand or a clock set back leaves). A report of a
// generation kept, or of a build since, stays.
func (d *Dir) pruneReports(oldest string, removed []string) error {
	entries, err := os.ReadDir(d.ReportsPath())
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	for _, e := range entries {
		gen, ok := strings.CutSuffix(e.Name(), ReportSuffix)
		if ok && (gen < oldest || slices.Contains(removed, gen)) {
			if err := os.Remove(filepath.Join(d.ReportsPath(), e.Name())); err != nil {
				return fmt.Errorf("remove old report %s: %w", e.Name(), err)
			}
		}
	}
	return nil
}

// syncTree fsyncs every file and directory under root, so that a rename
// published afterwards never points at data still in the page cache.
func syncTree(root string) error {
	return filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := f.Sync(); err != nil {
			return fmt.Errorf("sync %s: %w", p, err)
		}
		return nil
	})
}

func syncDir(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", path, err)
	}
	return nil
}

// Rollback points CURRENT back at the newest generation older than the
// current one, and returns both names. It takes the build lock, so it
// fails with ErrLocked while a build runs.
func (d *Dir) Rollback() (from, to string, err error) {
	unlock, err := d.lock()
	if err != nil {
		return "", "", err
	}
	defer unlock()
	from, err = d.Current()
	if err != nil {
		return "", "", err
	}
	names, err := d.Generations()
	if err != nil {
		return "", "", err
	}
	// The generation the current one followed, as its build recorded it;
	// else (a generation built before 2026-12-02, or one whose previous
	// is gone) the newest older by name: names sort by creation time, as
	// long as the clock never stepped back.
	if b, err := os.ReadFile(filepath.Join(d.GenerationPath(from), previousFile)); err == nil && strings.TrimSpace(string(b)) == "" {
		return from, "", fmt.Errorf("rollback: %w: %s was published while CURRENT named no generation there, so which one it followed is unknown; write the name of the generation to serve into %s",
			newsdesk.ErrNoGeneration, from, filepath.Join(d.path, currentFile))
	}
	if to = d.recordedPrevious(from, names); to == "" {
		for _, n := range names {
			// The newest older one, but never one that followed it (a
			// later build, named before it by a clock set back).
			if n < from && d.recordedPrevious(n, names) != from {
				to = n
			}
		}
	}
	if to == "" {
		return from, "", fmt.Errorf("rollback: %w older than %s", newsdesk.ErrNoGeneration, from)
	}
	if err := d.setCurrent(to); err != nil {
		return from, "", err
	}
	return from, to, nil
}

// previousFile, in a generation's directory, names the generation that
// was current when it was published (Dir.Rollback).
const previousFile = "previous"

// recordedPrevious returns the generation gen's build recorded as the one
// it followed, when it is among names; else "".
func (d *Dir) recordedPrevious(gen string, names []string) string {
	b, err := os.ReadFile(filepath.Join(d.GenerationPath(gen), previousFile))
	if err != nil {
		return ""
	}
	p := strings.TrimSpace(string(b))
	if p == gen || !slices.Contains(names, p) {
		return ""
	}
	return p
}
