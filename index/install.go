package index

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// streamSeqFile, in a generation's directory, holds the sequence number of
// the last message of the update stream the generation includes, when it
// was built from one (indexer build -nats): a replica applies the stream's
// messages after it. journal.offset is its twin for the directory's
// journal.
const streamSeqFile = "stream.seq"

// SetStreamSeq records that the build includes the update stream up to
// message seq; the published generation remembers it (see Dir.StreamSeq).
func (b *Builder) SetStreamSeq(seq uint64) { b.streamSeq = &seq }

// streamIDFile, in a generation's directory, holds the ID of the update
// stream whose messages stream.seq counts (cluster.StreamState.ID): a
// stream made again after its deletion numbers its messages from 1 again.
// Generations built before it was written have none.
const streamIDFile = "stream.id"

// SetStreamID records which update stream SetStreamSeq's position is of.
func (b *Builder) SetStreamID(id string) { b.streamID = id }

// StreamID returns the ID of the update stream whose messages the named
// generation's StreamSeq counts, or "" when it records none.
func (d *Dir) StreamID(generation string) (string, error) {
	b, err := os.ReadFile(filepath.Join(d.GenerationPath(generation), streamIDFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s of %s: %w", streamIDFile, generation, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// streamDropFile, in a generation's directory, holds the sequence number
// of the update stream's last message the build dropped (indexer build
// -nats -drop-updates): those messages are purged once the generation is
// published, by the build or, when it could not publish, by indexer
// publish.
const streamDropFile = "stream.drop"

// SetStreamDrop records that the build dropped the update stream's
// messages up to seq (see Dir.StreamDrop).
func (b *Builder) SetStreamDrop(seq uint64) { b.streamDrop = &seq }

// StreamSeq returns the sequence number of the last message of the update
// stream the named generation includes. ok is false when the generation
// was not built from a stream.
func (d *Dir) StreamSeq(generation string) (seq uint64, ok bool, err error) {
	return d.readSeq(generation, streamSeqFile)
}

// StreamDrop returns the sequence number of the update stream's last
// message the named generation's build dropped, to purge once it is
// published. ok is false when it dropped none.
func (d *Dir) StreamDrop(generation string) (seq uint64, ok bool, err error) {
	return d.readSeq(generation, streamDropFile)
}

// readSeq reads a sequence number a generation holds in file.
func (d *Dir) readSeq(generation, file string) (seq uint64, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(d.GenerationPath(generation), file))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read %s of %s: %w", file, generation, err)
	}
	seq, err = strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("read %s of %s: %w", file, generation, err)
	}
	return seq, true, nil
}

// Install publishes a generation built elsewhere and copied here, as a
// replica does with the generations it downloads: fill writes the
// generation's files into an empty directory, which is then synced, moved
// into generations/ and made current, as Builder.Publish does; generations
// older than the previous one are removed. It takes the build lock, and
// clears what an install or build cut short left in tmp/. On error nothing
// is published.
func (d *Dir) Install(name string, fill func(dir string) error) (err error) {
	if !validName(name) {
		return fmt.Errorf("install: %q is not a generation name", name)
	}
	unlock, err := d.lock()
	if err != nil {
		return err
	}
	defer unlock()
	if err := d.cleanTmp(); err != nil {
		return err
	}
	path := filepath.Join(d.path, tmpDir, name)
	defer func() {
		if err != nil {
			_ = os.RemoveAll(path)
		}
	}()
	if err := os.MkdirAll(path, 0o755); err != nil {
		return fmt.Errorf("install %s: %w", name, err)
	}
	if err := fill(path); err != nil {
		return fmt.Errorf("install %s: %w", name, err)
	}
	if err := syncTree(path); err != nil {
		return fmt.Errorf("install %s: %w", name, err)
	}
	previous, _ := d.Current()
	final := d.GenerationPath(name)
	if err := os.RemoveAll(final); err != nil { // a copy installed before, then superseded
		return fmt.Errorf("install %s: %w", name, err)
	}
	if err := os.Rename(path, final); err != nil {
		return fmt.Errorf("install %s: %w", name, err)
	}
	if err := syncDir(filepath.Dir(final)); err != nil {
		return err
	}
	if err := d.setCurrent(name); err != nil {
		return err
	}
	keep := []string{name}
	if previous != "" {
		keep = append(keep, previous)
	}
	return d.prune(keep...)
}
