package index

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/blevesearch/bleve/v2"
	bmapping "github.com/blevesearch/bleve/v2/mapping"

	"github.com/newsdesk/newsdesk"
)

// Index is an open, read-only generation of the index.
//
// It is safe for concurrent use. Whoever opens it closes it.
type Index struct {
	bleve.Index
	// Generation is the name of the open generation. Immutable.
	Generation string
}

// Open opens d's current generation read-only. It fails with an error
// wrapping newsdesk.ErrNoGeneration when nothing is published, and with
// newsdesk.ErrMappingMismatch when the generation was built with a mapping
// other than m.
func (d *Dir) Open(m bmapping.IndexMapping) (*Index, error) {
	name, err := d.Current()
	if err != nil {
		return nil, err
	}
	return d.OpenGeneration(name, m)
}

// OpenGeneration opens the named published generation read-only; see Open.
func (d *Dir) OpenGeneration(name string, m bmapping.IndexMapping) (*Index, error) {
	idx, err := openChecked(d.GenerationPath(name), m)
	if err != nil {
		return nil, fmt.Errorf("open generation %s: %w", name, err)
	}
	return &Index{Index: idx, Generation: name}, nil
}

func openChecked(path string, m bmapping.IndexMapping) (_ bleve.Index, err error) {
	idx, err := bleve.OpenUsing(path, map[string]interface{}{"read_only": true})
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = idx.Close()
		}
	}()
	stored, err := json.Marshal(idx.Mapping())
	if err != nil {
		return nil, fmt.Errorf("read stored mapping: %w", err)
	}
	want, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode mapping: %w", err)
	}
	if !bytes.Equal(stored, want) {
		return nil, fmt.Errorf("%w: rebuild the index with this version (indexer build)", newsdesk.ErrMappingMismatch)
	}
	return idx, nil
}
