// Package testindex builds small indexes from fixture files for tests:
// built with the indexer's own build and opened as searchd serves them (a
// working copy of the generation, and snapshots of it).
package testindex

import (
	"context"
	"testing"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/build"
	"github.com/newsdesk/newsdesk/entities"
	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/mappings"
	"github.com/newsdesk/newsdesk/snapshot"
)

// Index is a fixture index, open.
type Index struct {
	Index  *index.Index
	Source *snapshot.Source
}

// Close closes the index.
func (x *Index) Close() error {
	err := x.Source.Close()
	if cerr := x.Index.Close(); err == nil {
		err = cerr
	}
	return err
}

// New builds files into the index directory dir and opens its generation
// as searchd does. The caller closes it.
func New(dir string, files ...string) (*Index, error) {
	return NewWith(dir, build.Config{Files: files})
}

// NewWith is New with a build configuration: its Dir is set to dir.
func NewWith(dir string, cfg build.Config) (*Index, error) {
	d, err := index.NewDir(dir)
	if err != nil {
		return nil, err
	}
	cfg.Dir = d
	gen, err := build.Run(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	idx, err := d.OpenWorking(gen.Generation, mappings.New(), nil)
	if err != nil {
		return nil, err
	}
	src, err := snapshot.Open(context.Background(), idx, snapshot.Config{})
	if err != nil {
		idx.Close()
		return nil, err
	}
	return &Index{Index: idx, Source: src}, nil
}

// Build builds files into the index directory dir (made if missing) and
// returns it, for tests that open it as a program does (searchd, an eval
// tool) or build it again.
func Build(t testing.TB, dir string, files ...string) *index.Dir {
	t.Helper()
	d, err := index.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := build.Run(context.Background(), build.Config{Dir: d, Files: files}); err != nil {
		t.Fatal(err)
	}
	return d
}

// Open is New in a temporary directory of t, closed by t's cleanup.
func Open(t testing.TB, files ...string) *Index {
	t.Helper()
	x, err := New(t.TempDir(), files...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return x
}

// Update indexes events as searchd's bulk updates do (their tags' keys
// included), and refreshes the Source to see them.
func (x *Index) Update(t testing.TB, events ...newsdesk.Event) {
	t.Helper()
	ents, err := entities.New()
	if err != nil {
		t.Fatal(err)
	}
	docs, err := mappings.NewDocs(ents)
	if err != nil {
		t.Fatal(err)
	}
	batch := x.Index.NewBatch()
	for i := range events {
		doc, err := docs.Doc(&events[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := batch.Index(events[i].ID, doc); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.Index.Batch(batch); err != nil {
		t.Fatal(err)
	}
	if err := x.Source.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Delete deletes events by id as searchd's bulk deletes do, and
// refreshes the Source to see it.
func (x *Index) Delete(t testing.TB, ids ...string) {
	t.Helper()
	batch := x.Index.NewBatch()
	for _, id := range ids {
		batch.Delete(id)
	}
	if err := x.Index.Batch(batch); err != nil {
		t.Fatal(err)
	}
	if err := x.Source.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
}
