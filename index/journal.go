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
	j.mu.Lock()
	defer j.mu.Unlock()
	f, err := os.Open(j.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReader(f))
	for line := 1; ; line++ {
		var u Update
		err := dec.Decode(&u)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if strings.Contains(err.Error(), "unexpected EOF") {
				return nil // a last line cut by a crash: it was never answered as applied
			}
			return fmt.Errorf("journal %s line %d: %w", j.path, line, err)
		}
		if err := fn(u); err != nil {
			return err
		}
	}
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
