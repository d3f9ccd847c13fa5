package index

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	bmapping "github.com/blevesearch/bleve/v2/mapping"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/mappings"
)

// Index is an open generation of the index: read-only (OpenGeneration),
// or a server's writable working copy of it (OpenWorking).
//
// It is safe for concurrent use. Whoever opens it closes it.
type Index struct {
	bleve.Index
	// Generation is the name of the open generation. Immutable.
	Generation string
	// Legacy reports that the generation was built with one of the older
	// mappings its opener accepts, not the current one. Immutable.
	Legacy  bool
	path    string       // the directory Bleve keeps it in
	faults  *faults      // of a working copy; nil otherwise
	cleanup func() error // removes a working copy; nil otherwise
}

// Close closes the index, and removes it if it is a working copy.
func (x *Index) Close() error {
	if x.faults != nil {
		x.faults.close() // a background goroutine waiting to retry must not hold Close up
	}
	err := x.Index.Close()
	if x.cleanup != nil {
		if cerr := x.cleanup(); err == nil && cerr != nil {
			err = fmt.Errorf("remove working copy of %s: %w", x.Generation, cerr)
		}
	}
	return err
}

// Open opens d's current generation read-only. It fails with an error
// wrapping newsdesk.ErrNoGeneration when nothing is published, and with
// newsdesk.ErrMappingMismatch when the generation was built with a mapping
// other than m or one of older (an older one sets Index.Legacy).
func (d *Dir) Open(m bmapping.IndexMapping, older ...bmapping.IndexMapping) (*Index, error) {
	name, err := d.Current()
	if err != nil {
		return nil, err
	}
	return d.OpenGeneration(name, m, older...)
}

// OpenGeneration opens the named published generation read-only; see Open.
func (d *Dir) OpenGeneration(name string, m bmapping.IndexMapping, older ...bmapping.IndexMapping) (*Index, error) {
	idx, legacy, err := openChecked(d.GenerationPath(name), readOnly, m, older...)
	if err != nil {
		return nil, fmt.Errorf("open generation %s: %w", name, err)
	}
	return &Index{Index: idx, Generation: name, Legacy: legacy, path: d.GenerationPath(name)}, nil
}

// CheckGeneration opens the named published generation read-only, as a
// server would (its mapping m or one of older), and counts its
// documents: an error says why it would not be served.
func (d *Dir) CheckGeneration(name string, m bmapping.IndexMapping, older ...bmapping.IndexMapping) error {
	idx, err := d.OpenGeneration(name, m, older...)
	if err != nil {
		return err
	}
	defer idx.Close()
	n, err := idx.DocCount()
	if err != nil {
		return fmt.Errorf("generation %s: count documents: %w", name, err)
	}
	if n == 0 {
		return fmt.Errorf("generation %s holds no document", name)
	}
	return nil
}

// DiskBytes returns the size of the index's files. A working copy's
// segments are hard links to its generation's: they are counted, as the
// copy would need them were the generation removed.
func (x *Index) DiskBytes() (int64, error) {
	var n int64
	err := filepath.WalkDir(x.path, func(_ string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // a segment Bleve merged away meanwhile
			}
			return err
		}
		if e.Type().IsRegular() {
			if info, err := e.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("index size: %w", err)
	}
	return n, nil
}

// Reader opens a reader over the index's current snapshot: what it reads
// does not change under it, whatever is written meanwhile. Close it.
func (x *Index) Reader() (bindex.IndexReader, error) {
	adv, err := x.Advanced()
	if err != nil {
		return nil, err
	}
	return adv.Reader()
}

var (
	readOnly  = map[string]interface{}{"read_only": true, "bolt_timeout": "1s"}
	readWrite = map[string]interface{}{"bolt_timeout": "1s"}
)

// openChecked opens the Bleve index at path and checks that it was built
// with the mapping m, or one of older (then legacy is true).
func openChecked(path string, config map[string]interface{}, m bmapping.IndexMapping, older ...bmapping.IndexMapping) (_ bleve.Index, legacy bool, err error) {
	idx, err := bleve.OpenUsing(path, config)
	if err != nil {
		if strings.Contains(err.Error(), "timeout") {
			return nil, false, fmt.Errorf("%w (another process, such as a running searchd, holds it open for writing)", err)
		}
		return nil, false, err
	}
	defer func() {
		if err != nil {
			_ = idx.Close()
		}
	}()
	stored, err := json.Marshal(idx.Mapping())
	if err != nil {
		return nil, false, fmt.Errorf("read stored mapping: %w", err)
	}
	for i, want := range append([]bmapping.IndexMapping{m}, older...) {
		b, err := json.Marshal(want)
		if err != nil {
			return nil, false, fmt.Errorf("encode mapping: %w", err)
		}
		if bytes.Equal(stored, b) {
			// The mapping Bleve read from the index analyses the
			// documents of its batches (live updates).
			mappings.FixLowercase(idx.Mapping())
			// Legacy is the mapping before the ranking fields; another
			// older one (before the forms field) is ranked as today's.
			legacy, err := json.Marshal(mappings.Legacy())
			if err != nil {
				return nil, false, fmt.Errorf("encode mapping: %w", err)
			}
			return idx, i > 0 && bytes.Equal(stored, legacy), nil
		}
	}
	return nil, false, fmt.Errorf("%w: rebuild the index with this version (indexer build)", newsdesk.ErrMappingMismatch)
}

// GarbledTerms counts the terms of idx's field that are not valid UTF-8
// or hold U+FFFD (the stemmer's reading of an invalid byte): what Bleve's
// lower-case filter made of a word holding İ or ẞ (package english,
// "i\uFFFDzmi" for İzmir) in a generation built before newsdesk lowered
// them itself. Queries are lowered correctly now, so such a
// generation's words with those letters are found by no spelling until
// it is rebuilt. It reads the field's dictionary once (65,793 terms on
// the corpus).
func GarbledTerms(idx bleve.Index, field string) (int, error) {
	d, err := idx.FieldDict(field)
	if err != nil {
		return 0, fmt.Errorf("read %s terms: %w", field, err)
	}
	defer d.Close()
	n := 0
	for e, err := d.Next(); e != nil || err != nil; e, err = d.Next() {
		if err != nil {
			return n, fmt.Errorf("read %s terms: %w", field, err)
		}
		if !utf8.ValidString(e.Term) || strings.ContainsRune(e.Term, utf8.RuneError) {
			n++
		}
	}
	return n, nil
}
