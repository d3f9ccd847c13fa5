package index

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/newsdesk/newsdesk"
)

// journalFile holds the updates applied to a served generation, so that
// every later rebuild applies them again (see Journal).
const journalFile = "updates.jsonl"

// Update is one incremental change: an upsert (Event set) or a delete
// (Delete set to the id). Its JSON form is a line of the bulk API and of
// the journal: {"upsert": EVENT} or {"delete": "ID"}.
type Update struct {
	Upsert *newsdesk.Event `json:"upsert,omitempty"`
	Delete string          `json:"delete,omitempty"`
}

// ID returns the id the update is about.
func (u Update) ID() string {
	if u.Upsert != nil {
		return u.Upsert.ID
	}
	return u.Delete
}

// Journal is the index directory's record of incremental updates. The
// rule it implements: an update applied to the served generation is also
// appended here (and synced) before the caller is answered; every full
// build replays the journal after its input files, so a rebuild keeps the
// updates, unless it is asked to drop them (indexer build -drop-updates),
// which clears the journal once the new generation is published.
type Journal struct {
	path string
	mu   sync.Mutex
}

// Journal returns the directory's update journal.
func (d *Dir) Journal() *Journal { return &Journal{path: filepath.Join(d.path, journalFile)} }

// Path returns the journal file's path.
func (j *Journal) Path() string { return j.path }

// Append adds updates to the journal and syncs it.
func (j *Journal) Append(updates []Update) error {
	if len(updates) == 0 {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	f, err := os.OpenFile(j.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, u := range updates {
		if err := enc.Encode(u); err != nil {
			f.Close()
			return fmt.Errorf("journal: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("journal: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("journal: %w", err)
	}
	return f.Close()
}

// Read calls fn with each update in the journal, in order. A missing
// journal holds no update.
func (j *Journal) Read(fn func(Update) error) error {
	_, err := j.ReadFrom(0, fn)
	return err
}

// ReadFrom calls fn with each update from byte offset on, and returns the
// offset after the last complete one: where a later read resumes.
func (j *Journal) ReadFrom(offset int64, fn func(Update) error) (int64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	f, err := os.Open(j.path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return offset, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() < offset {
		offset = 0 // the journal was cleared and started again
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return offset, fmt.Errorf("journal: %w", err)
	}
	r := bufio.NewReader(f)
	for line := 1; ; line++ {
		b, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return offset, nil // an unterminated last line was cut by a crash: never answered as applied
		}
		if err != nil {
			return offset, fmt.Errorf("journal: %w", err)
		}
		var u Update
		if err := json.Unmarshal(b, &u); err != nil {
			return offset, fmt.Errorf("journal %s, update %d after byte %d: %w", j.path, line, offset, err)
		}
		if err := fn(u); err != nil {
			return offset, err
		}
		offset += int64(len(b))
	}
}

// Size returns the journal's length in bytes.
func (j *Journal) Size() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	st, err := os.Stat(j.path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// journalOffsetFile, in a generation's directory, holds how much of the
// journal (in bytes) the generation includes.
const journalOffsetFile = "journal.offset"

// JournalOffset returns how much of the journal the named generation
// includes: what its build replayed.
func (d *Dir) JournalOffset(generation string) int64 {
	b, err := os.ReadFile(filepath.Join(d.GenerationPath(generation), journalOffsetFile))
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n
}

func writeOffset(path string, offset int64) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.FormatInt(offset, 10)+"\n"), 0o644); err != nil {
		return fmt.Errorf("journal offset: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("journal offset: %w", err)
	}
	return nil
}

// Clear empties the journal.
func (j *Journal) Clear() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := os.Remove(j.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}
