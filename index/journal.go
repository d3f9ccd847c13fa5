package index

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
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
	"syscall"
	"time"

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
//
// The file is only ever appended to whole: an append that fails part-way
// (a full disk) is cut back before the error is returned, so a later
// append never joins a partial line. What a crash or power loss tears off
// the end is cut at the next start by Repair. Appends and repairs take an
// exclusive flock on the file, so that searchd's appends and a build's
// repair in another process never interleave.
type Journal struct {
	path string
	mu   sync.Mutex
	// write and sync do the append's I/O; tests replace them to fail
	// part-way, as a full disk does.
	write func(f *os.File, b []byte) (int, error)
	sync  func(f *os.File) error
}

// Journal returns the directory's update journal.
func (d *Dir) Journal() *Journal { return &Journal{path: filepath.Join(d.path, journalFile)} }

// Path returns the journal file's path.
func (j *Journal) Path() string { return j.path }

// Append adds updates to the journal and syncs it, all or nothing: on any
// error the file is cut back to its length before the append, and the
// error returned. Creating the file syncs its directory too, so that the
// synced lines cannot vanish with a directory entry lost to a power cut.
func (j *Journal) Append(updates []Update) error {
	_, _, err := j.AppendAt(updates)
	return err
}

// AppendAt is Append that also returns where the updates' lines start and
// end in the file: a reader that has applied the journal up to start, and
// then these updates, has applied it up to end, whatever other processes
// append after them.
func (j *Journal) AppendAt(updates []Update) (start, end int64, err error) {
	if len(updates) == 0 {
		return 0, 0, nil
	}
	// Encoded before the file is touched: an update that cannot be
	// encoded leaves the journal as it was. Several updates are one line,
	// {"batch": [...]}: a crash in the middle of the append tears that
	// line, which is cut whole, where lines of their own left the first
	// thousands of an unacknowledged bulk applied.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	var line any = updates[0]
	if len(updates) > 1 {
		line = journalLine{Batch: updates}
	}
	if err := enc.Encode(line); err != nil {
		for _, u := range updates {
			if _, uerr := json.Marshal(u); uerr != nil {
				err = fmt.Errorf("update %s: %w", u.ID(), uerr)
				break
			}
		}
		return 0, 0, fmt.Errorf("journal: encode: %w", err)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	f, created, err := j.openLocked()
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, 0, fmt.Errorf("journal: %w", err)
	}
	size := st.Size()
	if size, err = cutTornTail(f, j.path, size); err != nil {
		return 0, 0, err
	}
	write, sync := j.write, j.sync
	if write == nil {
		write = (*os.File).Write
	}
	if sync == nil {
		sync = (*os.File).Sync
	}
	if _, err = write(f, buf.Bytes()); err == nil {
		err = sync(f)
	}
	if err != nil {
		// Cut back what part of the append was written, so that the file
		// ends with a whole line, as before.
		if terr := f.Truncate(size); terr != nil {
			return 0, 0, fmt.Errorf("journal: append %d updates: %w (and cutting the partial append back to %d bytes failed: %v; the next start repairs it)", len(updates), err, size, terr)
		}
		_ = f.Sync()
		return 0, 0, fmt.Errorf("journal: append %d updates: %w", len(updates), err)
	}
	if created {
		if err := syncDir(filepath.Dir(j.path)); err != nil {
			return 0, 0, fmt.Errorf("journal: %w", err)
		}
	}
	return size, size + int64(buf.Len()), nil
}

// cutTornTail cuts, before an append, a last line without its newline
// from the journal f (at path) of size bytes, and returns the size after.
// Under the lock it is no append in progress but one cut short (a crash
// of another server on the directory, or a cut-back that failed), never
// acknowledged: an append joined onto it would make both one invalid
// line, which a read refuses and a repair cuts. It is kept aside, as
// Repair keeps it.
func cutTornTail(f *os.File, path string, size int64) (int64, error) {
	if size == 0 {
		return 0, nil
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], size-1); err != nil {
		return 0, fmt.Errorf("journal: %w", err)
	}
	if last[0] == '\n' {
		return size, nil
	}
	start, _, err := tornTail(f, size)
	if err != nil {
		return 0, err
	}
	tail := make([]byte, size-start)
	if _, err := f.ReadAt(tail, start); err != nil {
		return 0, fmt.Errorf("journal: read a torn tail: %w", err)
	}
	kept, err := keepAside(path, tail)
	if err != nil {
		return 0, err
	}
	if err := f.Truncate(start); err != nil {
		return 0, fmt.Errorf("journal: cut a torn tail (kept in %s): %w", kept, err)
	}
	return start, nil
}

// openLocked opens the journal for appending, creating it if need be
// (created says so), and locks it against other processes. A file
// cleared (unlinked by Clear, in another process) while this one waited
// for its lock is not the journal any more: it opens the path again,
// so that an update acknowledged is never written to a file no one
// reads.
func (j *Journal) openLocked() (f *os.File, created bool, err error) {
	for {
		_, statErr := os.Stat(j.path)
		created = errors.Is(statErr, fs.ErrNotExist)
		if f, err = os.OpenFile(j.path, os.O_CREATE|os.O_APPEND|os.O_RDWR, 0o644); err != nil {
			return nil, false, fmt.Errorf("journal: %w", err)
		}
		if err := flock(f, syscall.LOCK_EX); err != nil {
			f.Close()
			return nil, false, err
		}
		held, ferr := f.Stat()
		now, perr := os.Stat(j.path)
		if ferr == nil && perr == nil && os.SameFile(held, now) {
			return f, created, nil
		}
		f.Close() // cleared meanwhile: the lock goes with it
		if ferr != nil {
			return nil, false, fmt.Errorf("journal: %w", ferr)
		}
		if perr != nil && !errors.Is(perr, fs.ErrNotExist) {
			return nil, false, fmt.Errorf("journal: %w", perr)
		}
	}
}

// flock locks f's whole file against other processes' journal code.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EINTR) {
			return fmt.Errorf("journal: lock %s: %w", f.Name(), err)
		}
	}
}

// Repaired says what Repair cut from the end of the journal.
type Repaired struct {
	// Cut is the number of bytes cut; 0 when the journal ended well.
	Cut int64 `json:"cut"`
	// At is where the cut began: the journal's length now.
	At int64 `json:"at"`
	// KeptIn is the file the cut bytes were saved to, beside the journal.
	KeptIn string `json:"kept_in"`
	// Reason says what was wrong with the last line.
	Reason string `json:"reason"`
}

// tornSuffix names the file beside the journal that keeps a torn tail:
// updates.jsonl.torn-UNIXTIME.
const tornSuffix = ".torn-"

// Repair cuts a torn tail off the journal: a last line without its
// newline (a crash or power cut in the middle of an append), or a last
// line that is not a valid update (such a tail with a later append joined
// onto it). The cut bytes are first saved in a file beside the journal
// (updates.jsonl.torn-UNIXTIME, synced) for the operator to inspect, then
// the journal is truncated and synced. Such a tail was never acknowledged
// as applied, except in a joined line, whose later update the saved file
// still holds. Only the last line is looked at: a bad line before it stays
// an error of every read, naming the line. A missing journal needs no
// repair. Repair runs at searchd's start and before a build replays the
// journal.
func (j *Journal) Repair() (Repaired, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	f, err := os.OpenFile(j.path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return Repaired{}, nil
	}
	if err != nil {
		return Repaired{}, fmt.Errorf("journal: repair: %w", err)
	}
	defer f.Close()
	if err := flock(f, syscall.LOCK_EX); err != nil {
		return Repaired{}, err
	}
	st, err := f.Stat()
	if err != nil {
		return Repaired{}, fmt.Errorf("journal: repair: %w", err)
	}
	start, reason, err := tornTail(f, st.Size())
	if err != nil || reason == "" {
		return Repaired{}, err
	}
	r := Repaired{Cut: st.Size() - start, At: start, Reason: reason}
	tail := make([]byte, r.Cut)
	if _, err := f.ReadAt(tail, start); err != nil {
		return Repaired{}, fmt.Errorf("journal: repair: read the torn tail: %w", err)
	}
	if r.KeptIn, err = keepAside(j.path, tail); err != nil {
		return Repaired{}, err
	}
	if err := f.Truncate(start); err != nil {
		return Repaired{}, fmt.Errorf("journal: repair: cut the torn tail (kept in %s): %w", r.KeptIn, err)
	}
	if err := f.Sync(); err != nil {
		return Repaired{}, fmt.Errorf("journal: repair: %w", err)
	}
	return r, nil
}

// tornTail finds the start of the journal's last line, if it is torn, and
// says why; reason is "" when the journal ends well.
func tornTail(f *os.File, size int64) (start int64, reason string, err error) {
	if size == 0 {
		return 0, "", nil
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], size-1); err != nil {
		return 0, "", fmt.Errorf("journal: repair: %w", err)
	}
	end := size // the end of the last line, its newline excluded
	if last[0] == '\n' {
		end = size - 1
	}
	// Back from end to the newline before the last line, a block at a time.
	start = 0
	block := make([]byte, 64<<10)
	for pos := end; pos > 0; {
		n := min(int64(len(block)), pos)
		pos -= n
		if _, err := f.ReadAt(block[:n], pos); err != nil {
			return 0, "", fmt.Errorf("journal: repair: %w", err)
		}
		if i := bytes.LastIndexByte(block[:n], '\n'); i >= 0 {
			start = pos + int64(i) + 1
			break
		}
	}
	if end == size {
		return start, fmt.Sprintf("the last line (%d bytes at byte %d) has no newline: an append cut short", size-start, start), nil
	}
	line := make([]byte, end-start)
	if _, err := f.ReadAt(line, start); err != nil {
		return 0, "", fmt.Errorf("journal: repair: %w", err)
	}
	if _, err := parseLine(line); err != nil {
		return start, fmt.Sprintf("the last line (%d bytes at byte %d) is not a valid update: %v", size-start, start, err), nil
	}
	return 0, "", nil
}

// keepAside saves a torn tail beside the journal, synced, and returns the
// file's path.
func keepAside(journal string, tail []byte) (string, error) {
	base := fmt.Sprintf("%s%s%d", journal, tornSuffix, time.Now().Unix())
	for i := 0; ; i++ {
		path := base
		if i > 0 {
			path = fmt.Sprintf("%s-%d", base, i)
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("journal: repair: keep the torn tail: %w", err)
		}
		_, err = f.Write(tail)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = syncDir(filepath.Dir(path))
		}
		if err != nil {
			os.Remove(path)
			return "", fmt.Errorf("journal: repair: keep the torn tail: %w", err)
		}
		return path, nil
	}
}

// journalLine is a line of the journal: one update, or a batch of them
// appended at once.
type journalLine struct {
	Upsert *newsdesk.Event `json:"upsert,omitempty"`
	Delete string          `json:"delete,omitempty"`
	Batch  []Update        `json:"batch,omitempty"`
}

// parseLine reads a line of the journal: one update, or {"batch":
// [UPDATE, ...]}, each of them exactly one of an upsert and a delete.
func parseLine(line []byte) ([]Update, error) {
	var l journalLine
	if err := json.Unmarshal(line, &l); err != nil {
		return nil, err
	}
	if l.Batch == nil {
		if (l.Upsert == nil) == (l.Delete == "") {
			return nil, errors.New(`want {"upsert": EVENT}, {"delete": "ID"} or {"batch": [...]}`)
		}
		return []Update{{Upsert: l.Upsert, Delete: l.Delete}}, nil
	}
	if l.Upsert != nil || l.Delete != "" || len(l.Batch) == 0 {
		return nil, errors.New(`a batch is {"batch": [UPDATE, ...]}, of one update or more, alone`)
	}
	for i, u := range l.Batch {
		if (u.Upsert == nil) == (u.Delete == "") {
			return nil, fmt.Errorf(`batch item %d: want {"upsert": EVENT} or {"delete": "ID"}`, i+1)
		}
	}
	return l.Batch, nil
}

// ParseUpdate reads one update in its JSON form, a line of the journal
// and of the bulk API: exactly one of an upsert and a delete. It does not
// check the upserted event (see newsdesk.Event.Validate).
func ParseUpdate(line []byte) (Update, error) {
	var u Update
	if err := json.Unmarshal(line, &u); err != nil {
		return u, err
	}
	if (u.Upsert == nil) == (u.Delete == "") {
		return u, errors.New(`want {"upsert": EVENT} or {"delete": "ID"}`)
	}
	return u, nil
}

// Read calls fn with each update in the journal, in order. A missing
// journal holds no update.
func (j *Journal) Read(fn func(Update) error) error {
	_, err := j.ReadFrom(0, fn)
	return err
}

// ReadFrom calls fn with each update from byte offset on, and returns the
// offset after the last complete one: where a later read resumes. A last
// line without its newline is left for Repair (its append never
// finished, so it was never acknowledged); any other line that is not a
// valid update is an error naming it.
func (j *Journal) ReadFrom(offset int64, fn func(Update) error) (int64, error) {
	return j.ReadLinesFrom(offset, func(_ int, u Update) error { return fn(u) })
}

// ReadLinesFrom is ReadFrom, with each update's line, counted from
// offset (1 for its line): the updates of one batch line share it.
func (j *Journal) ReadLinesFrom(offset int64, fn func(line int, u Update) error) (int64, error) {
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
	// The read stops at the journal's length when no append is under way
	// (the shared lock waits for the one that is): an append's lines are
	// in the file before its sync, and a failed sync cuts them off again,
	// so a read past that length could apply updates whose append failed.
	// The lock is held only to learn the length: a build replays the
	// journal while it indexes, which takes seconds, and searchd's appends
	// must not wait for it.
	if err := flock(f, syscall.LOCK_SH); err != nil {
		return offset, err
	}
	st, err := f.Stat()
	if uerr := flock(f, syscall.LOCK_UN); err == nil {
		err = uerr
	}
	if err != nil {
		return offset, fmt.Errorf("journal: %w", err)
	}
	if st.Size() < offset {
		offset = 0 // the journal was cleared and started again
	}
	r := bufio.NewReader(io.NewSectionReader(f, offset, st.Size()-offset))
	fromStart := offset == 0
	for line := 1; ; line++ {
		b, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return offset, nil // an unterminated last line was cut by a crash: never answered as applied
		}
		if err != nil {
			return offset, fmt.Errorf("journal: %w", err)
		}
		us, err := parseLine(b)
		if err != nil {
			// Where the line is, one way whatever the read began at: its
			// byte, and its line of the file when that is known (a read
			// from an offset counts none before it). "line 1 after byte
			// 375" read as the line after the bad one.
			if fromStart {
				return offset, fmt.Errorf("journal %s, line %d (at byte %d): %w", j.path, line, offset, err)
			}
			return offset, fmt.Errorf("journal %s, the line at byte %d: %w", j.path, offset, err)
		}
		for _, u := range us {
			if err := fn(line, u); err != nil {
				return offset, err
			}
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
// includes: what its build replayed. replaced is true when the journal is
// no longer the one the generation's build read (its offset is then 0):
// it was cleared or moved aside by hand since (a logrotate's
// copytruncate), and its lines, all written since, are all to apply.
// Before 2026-12-02, the offset was read into the new journal, and the
// updates acknowledged before it grew past it were lost at a restart.
func (d *Dir) JournalOffset(generation string) (offset int64, replaced bool) {
	b, err := os.ReadFile(filepath.Join(d.GenerationPath(generation), journalOffsetFile))
	if err != nil {
		return 0, false
	}
	first, mark, _ := strings.Cut(string(b), "\n")
	n, _ := strconv.ParseInt(strings.TrimSpace(first), 10, 64)
	mark = strings.TrimSpace(mark)
	if n <= 0 || mark == "" { // a generation of before the marks: its offset as it is
		return n, false
	}
	if d.Journal().mark(n) != mark {
		return 0, true
	}
	return n, false
}

// journalMarkBytes is how many of the journal's bytes before a
// generation's offset its mark hashes (Journal.markAt).
const journalMarkBytes = 512

// mark returns a hash of the journal's bytes before offset (at most
// journalMarkBytes of them: the end of the last lines a build read),
// which a generation keeps with its offset to tell, later, that the
// journal is still the one it read; noMark when they cannot be read (a
// journal shorter than offset, or gone).
func (j *Journal) mark(offset int64) string {
	j.mu.Lock()
	defer j.mu.Unlock()
	f, err := os.Open(j.path)
	if err != nil {
		return noMark
	}
	defer f.Close()
	start := max(0, offset-journalMarkBytes)
	buf := make([]byte, offset-start)
	if _, err := f.ReadAt(buf, start); err != nil {
		return noMark
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:8])
}

// noMark is the mark of a journal that could not be read there: it
// matches none, so that a generation whose build could not take the mark
// applies the journal from its start, rather than trust its offset into
// a journal it could not check (applying an update twice ends the same:
// upserts and deletes replace whole events, in order).
const noMark = "none"

// writeJournalOffset records in the generation at path how much of the
// journal it includes, with the journal's mark there (JournalOffset), as
// the build took it.
func (d *Dir) writeJournalOffset(path string, offset int64, mark string) error {
	content := strconv.FormatInt(offset, 10) + "\n"
	if offset > 0 && mark != "" {
		content += mark + "\n"
	}
	return writeDurably(filepath.Join(path, journalOffsetFile), content)
}

// journalEpochFile, in the directory, counts the journal's clears
// (JournalEpoch).
const journalEpochFile = "journal.epoch"

// JournalEpoch returns how many times the journal was cleared (0 when
// never): offsets into the journal of one epoch mean nothing in another,
// so a server holding a working copy of an earlier epoch (its updates
// applied, some since dropped) cannot go on from its offset.
func (d *Dir) JournalEpoch() int64 {
	b, err := os.ReadFile(filepath.Join(d.path, journalEpochFile))
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n
}

// ClearJournal drops the journal's first keep bytes (a build with
// -drop-updates drops what was journaled before it began; the updates
// acknowledged while it ran stay, as the journal's first lines) and sets
// the journal offset of every published generation to 0. Their offsets
// point into the journal cleared: once new updates grew the new one past
// them, a rollback to one of them would read from the middle of a line (and
// refuse the generation) or skip the first updates. From 0, it applies
// the updates kept and those made since. Call it holding the directory's
// lock (a Builder does).
func (d *Dir) ClearJournal(keep int64) error {
	// The epoch first: a server that sees the journal cleared sees a new
	// epoch too.
	if err := writeOffset(filepath.Join(d.path, journalEpochFile), d.JournalEpoch()+1); err != nil {
		return fmt.Errorf("journal epoch: %w", err)
	}
	// The offsets next, then the journal: an offset of 0 into the
	// journal not yet cleared replays updates a generation holds, which
	// is harmless (an upsert or a delete twice ends the same); an offset
	// left into the journal cleared (a crash between) would read the next
	// one from the middle of a line.
	names, err := d.Generations()
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for _, g := range names {
		if n, _ := d.JournalOffset(g); n != 0 {
			if err := writeOffset(filepath.Join(d.GenerationPath(g), journalOffsetFile), 0); err != nil {
				return fmt.Errorf("journal not cleared: generation %s: %w", g, err)
			}
		}
	}
	return d.Journal().DropFirst(keep)
}

// writeOffset replaces the offset file at path (journal.offset,
// stream.seq) durably: write a temporary file, fsync it, rename it over
// path, fsync the directory.
func writeOffset(path string, offset int64) error {
	return writeDurably(path, strconv.FormatInt(offset, 10)+"\n")
}

// writeDurably replaces the file at path with content durably: a
// temporary file written and synced, renamed over path, the directory
// synced.
func writeDurably(path, content string) error {
	name := filepath.Base(path)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	_, err = f.WriteString(content)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// DropFirst drops the journal's first n bytes, whole lines (the length
// LockedSize gave): the lines after them stay, as the journal's first;
// with none after them, the journal is removed.
func (j *Journal) DropFirst(n int64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	// Under the journal's lock: an append of another process (searchd's)
	// either ends before the drop, or opens the new journal after it.
	f, err := os.OpenFile(j.path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	if err := flock(f, syscall.LOCK_EX); err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if n >= st.Size() {
		if err := os.Remove(j.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("journal: %w", err)
		}
		return nil
	}
	// n is where a line began when it was taken; should a torn tail have
	// been cut and appended over since (a server killed in the middle of
	// an append), the line that now straddles it came later: it is kept.
	if n, err = lineStart(f, n); err != nil {
		return err
	}
	// The lines after the first n bytes go to a new journal, synced, put
	// in the old one's place.
	tail := make([]byte, st.Size()-n)
	if _, err := f.ReadAt(tail, n); err != nil {
		return fmt.Errorf("journal: read the updates kept: %w", err)
	}
	tmp := j.path + ".tmp"
	if err := writeSynced(tmp, tail); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if err := os.Rename(tmp, j.path); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return syncDir(filepath.Dir(j.path))
}

// lineStart returns the start of the line of f that holds byte n, or n
// when a line starts there.
func lineStart(f *os.File, n int64) (int64, error) {
	buf := make([]byte, 4096)
	for end := n; end > 0; {
		k := min(int64(len(buf)), end)
		if _, err := f.ReadAt(buf[:k], end-k); err != nil {
			return 0, fmt.Errorf("journal: %w", err)
		}
		if i := bytes.LastIndexByte(buf[:k], '\n'); i >= 0 {
			return end - k + int64(i) + 1, nil
		}
		end -= k
	}
	return 0, nil
}

// LockedSize returns the journal's length with no append in progress, to
// the end of its last whole line (0 when there is none): where the next
// append will start, a torn tail being cut first (cutTornTail).
func (j *Journal) LockedSize() (int64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	f, err := os.OpenFile(j.path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	if err := flock(f, syscall.LOCK_EX); err != nil {
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("journal: %w", err)
	}
	return lineStart(f, st.Size())
}

// writeSynced writes data to a new file at path and syncs it.
func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
	}
	return err
}
