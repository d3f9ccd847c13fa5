// Package testindex builds small indexes from fixture files for tests:
// built with the indexer's own build, opened for serving and compacted,
// as searchd would serve them.
package testindex

import (
	"context"
	"testing"

	"github.com/newsdesk/newsdesk/build"
	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/mappings"
)

// New builds files into the index directory dir and opens its generation
// for serving. The caller closes it.
func New(dir string, files ...string) (*index.Index, error) {
	d, err := index.NewDir(dir)
	if err != nil {
		return nil, err
	}
	if _, err := build.Run(context.Background(), build.Config{Dir: d, Files: files}); err != nil {
		return nil, err
	}
	idx, err := d.OpenServing(mappings.New())
	if err != nil {
		return nil, err
	}
	if err := idx.Compact(context.Background()); err != nil {
		idx.Close()
		return nil, err
	}
	return idx, nil
}

// Open is New in a temporary directory of t, closed by t's cleanup.
func Open(t testing.TB, files ...string) *index.Index {
	t.Helper()
	idx, err := New(t.TempDir(), files...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	return idx
}
