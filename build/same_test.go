package build_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/build"
	"github.com/newsdesk/newsdesk/mappings"
	"github.com/newsdesk/newsdesk/query"
	"github.com/newsdesk/newsdesk/related"
	"github.com/newsdesk/newsdesk/search"
	"github.com/newsdesk/newsdesk/testindex"
)

var update = flag.Bool("update", false, "rewrite the golden files of TestSameIndex")

// sameFiles are the fixture files of TestSameIndex: every input format,
// duplicates merged field by field, stubs and heading lists, bad records,
// and texts that try the analyser (Unicode, apostrophes, numbers, dashes).
var sameFiles = []string{
	"testdata/same/tricky.jsonl",
	"../search/testdata/events.jsonl",
	"../search/testdata/ranking.jsonl",
	"../cmd/indexer/testdata/good.jsonl",
	"../cmd/indexer/testdata/portal.wiki",
	"testdata/mixed.jsonl",
	"testdata/page.md",
}

// TestSameIndex checks that a build makes the same index as the build the
// golden files were written with (Bleve's document path, before the build
// wrote its segments itself): every term of every field with its postings
// (frequency, norm, positions, offsets), the stored fields and doc values
// of every event, the internal data; and the same answers to searches and
// related lists, scores included, and the same stored events.
//
// Bleve's batches numbered a batch's documents in map order, so answers
// with tied events could differ between two builds of that code: -update
// builds the fixture several times and keeps the answers that came out
// the same every time, and the test requires most of them to be kept.
func TestSameIndex(t *testing.T) {
	builds := 1
	if *update {
		builds = 6
	}
	var dump []byte
	var answers map[string]json.RawMessage
	for i := range builds {
		d, a := buildSame(t, 0)
		if i == 0 {
			dump, answers = d, a
			continue
		}
		if string(d) != string(dump) {
			t.Fatal("two builds of the fixture made different indexes")
		}
		for k, v := range answers {
			if string(a[k]) != string(v) {
				delete(answers, k)
			}
		}
	}
	compareGolden(t, "testdata/same/index.golden.txt", dump)
	if !*update {
		// Segments of one event, over a hundred: merged by
		// index.MergeFanIn in the background (index.MaxFinalFanIn) and
		// the rest at the end, with the replaced copies of duplicates
		// left out.
		d, _ := buildSame(t, 1)
		compareGolden(t, "testdata/same/index.golden.txt", d)
	}

	const path = "testdata/same/answers.golden.json"
	if *update {
		b, err := json.MarshalIndent(answers, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]json.RawMessage
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	// The answers that depend on tied events' order are left out (a sixth
	// of them); compacted, as json.Marshal wrote the answers the test has.
	if got, asked := len(want), len(answers); !*update && got < asked*3/4 {
		t.Fatalf("the golden file holds %d answers of the %d asked: rewrite it with -update", got, asked)
	}
	keys := slices.Sorted(maps.Keys(want))
	for _, k := range keys {
		var buf bytes.Buffer
		if err := json.Compact(&buf, want[k]); err != nil {
			t.Fatal(err)
		}
		if got := answers[k]; string(got) != buf.String() {
			t.Errorf("%s:\ngot:  %s\nwant: %s", k, got, buf.String())
		}
	}
}

// buildSame builds the fixture, batch events a segment (zero: the
// default), and returns the dump of its index and the answers to the
// test's questions.
func buildSame(t *testing.T, batch int) ([]byte, map[string]json.RawMessage) {
	x, err := testindex.NewWith(t.TempDir(), build.Config{Files: sameFiles, BatchSize: batch})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	r, err := x.Index.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dump, err := dumpIndex(r)
	if err != nil {
		t.Fatal(err)
	}
	e, err := search.New(x.Source, mappings.New(), x.Index.Legacy)
	if err != nil {
		t.Fatal(err)
	}
	answers, err := sameAnswers(e, r)
	if err != nil {
		t.Fatal(err)
	}
	return dump, answers
}

// compareGolden compares got with the golden file at path, or rewrites
// the file with -update.
func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) == string(want) {
		return
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(gl), len(wl)) {
		g, w := "<end>", "<end>"
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("%s differs at line %d (got %d lines, want %d):\ngot:  %.300s\nwant: %.300s",
				path, i+1, len(gl), len(wl), g, w)
		}
	}
}

// dumpIndex writes the index's contents as text, in an order that does not
// depend on document numbers: the internal data, then per field each term
// with the events holding it, then per event its stored fields and doc
// values.
func dumpIndex(r bindex.IndexReader) ([]byte, error) {
	var b strings.Builder
	n, err := r.DocCount()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(&b, "docs %d\n", n)
	for _, k := range []string{"_mapping", newsdesk.InternalFieldLengths} {
		v, err := r.GetInternal([]byte(k))
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "internal %s %s\n", k, v)
	}
	fields, err := r.Fields()
	if err != nil {
		return nil, err
	}
	slices.Sort(fields)
	ids := map[string]bool{}
	for _, f := range fields {
		fmt.Fprintf(&b, "field %s\n", f)
		dict, err := r.FieldDict(f)
		if err != nil {
			return nil, err
		}
		for {
			de, err := dict.Next()
			if err != nil {
				return nil, err
			}
			if de == nil {
				break
			}
			postings, err := dumpPostings(r, f, de.Term)
			if err != nil {
				return nil, err
			}
			// The number of postings, not the dictionary's count: zap's
			// merged dictionaries count some terms short (1 for a term of
			// 3 events), by how the segments were merged, where the
			// postings are the same.
			fmt.Fprintf(&b, "  %q %d\n", de.Term, len(postings))
			for _, p := range postings {
				b.WriteString("    " + p + "\n")
				if f == "_id" {
					ids[de.Term] = true
				}
			}
		}
		if err := dict.Close(); err != nil {
			return nil, err
		}
	}
	sorted := make([]string, 0, len(ids))
	for id := range ids {
		sorted = append(sorted, id)
	}
	slices.Sort(sorted)
	dvFields := []string{newsdesk.FieldTopic, newsdesk.FieldCategory, newsdesk.FieldContext, newsdesk.FieldDate, newsdesk.FieldKeys, newsdesk.FieldFlags}
	dvr, err := r.DocValueReader(dvFields)
	if err != nil {
		return nil, err
	}
	for _, id := range sorted {
		num, err := r.InternalID(id)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "doc %s\n", id)
		doc, err := r.Document(id)
		if err != nil {
			return nil, err
		}
		var stored []string
		doc.VisitFields(func(f bindex.Field) {
			stored = append(stored, fmt.Sprintf("  stored %s %v %q", f.Name(), f.ArrayPositions(), f.Value()))
		})
		slices.Sort(stored)
		b.WriteString(strings.Join(stored, "\n") + "\n")
		var dv []string
		err = dvr.VisitDocValues(num, func(field string, term []byte) {
			dv = append(dv, fmt.Sprintf("  docvalue %s %q", field, term))
		})
		if err != nil {
			return nil, err
		}
		slices.Sort(dv)
		b.WriteString(strings.Join(dv, "\n") + "\n")
	}
	return []byte(b.String()), nil
}

// dumpPostings returns one line per event holding term in field: its id,
// frequency, norm and term vectors, sorted by id.
func dumpPostings(r bindex.IndexReader, field, term string) ([]string, error) {
	tfr, err := r.TermFieldReader(context.Background(), []byte(term), field, true, true, true)
	if err != nil {
		return nil, err
	}
	defer tfr.Close()
	var out []string
	for {
		d, err := tfr.Next(nil)
		if err != nil {
			return nil, err
		}
		if d == nil {
			break
		}
		id, err := r.ExternalID(d.ID)
		if err != nil {
			return nil, err
		}
		line := fmt.Sprintf("%s freq=%d norm=%g", id, d.Freq, d.Norm)
		for _, v := range d.Vectors {
			line += fmt.Sprintf(" [%s %v %d %d-%d]", v.Field, v.ArrayPositions, v.Pos, v.Start, v.End)
		}
		out = append(out, line)
	}
	slices.Sort(out)
	return out, nil
}

// sameAnswers returns the engine's answers to a set of searches and
// related lists, and every stored event, each as JSON under a key naming
// the question.
func sameAnswers(e *search.Engine, r bindex.IndexReader) (map[string]json.RawMessage, error) {
	ctx := context.Background()
	day := func(s string) time.Time {
		t, _ := time.Parse(time.DateOnly, s)
		return t
	}
	out := map[string]json.RawMessage{}
	put := func(key string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		out[key] = b
		return nil
	}
	queries := []string{
		"peace talks", "astana", "syria", "cyclone idai", "earthquake chile", "u.s. trade", "britain's",
		"doesn't", "zürich", "東京", "москва", "e-mail", "12:30", "3.5 billion", "the", "talking",
		"\"peace talks\"", "peace -astana", "topic:\"Syrian peace process\"", "category:Sports",
		"context:Astana", "world cup 2019", "floods march 2019", "freedonia", "port elba", "covid-19",
		"o'neill", "rock 'n' roll", "mosul", "stock markets", "bundestag", "ceasfire", "mozambiqe",
		"supercalifragilisticexpialidocious", "5g", "v1.2", "2.0.1", "sylvania grain", "zebra",
	}
	variants := []struct {
		name string
		set  func(r *search.Request)
	}{
		{"default", func(r *search.Request) {}},
		{"range", func(r *search.Request) { r.From, r.To = day("2017-01-01"), day("2019-01-15") }},
		{"by date, facets, highlight", func(r *search.Request) { r.Sort = query.SortDateDesc; r.Facets = 5; r.Highlight = true }},
		{"category", func(r *search.Request) { r.Categories = []string{"Politics and elections"}; r.Facets = 10 }},
	}
	for _, q := range queries {
		for _, v := range variants {
			req := search.Request{Q: q}
			v.set(&req)
			key := fmt.Sprintf("search %q %s", q, v.name)
			res, err := e.Search(ctx, req)
			if err != nil {
				if err := put(key, err.Error()); err != nil {
					return nil, err
				}
				continue
			}
			res.TookMS = 0
			if err := put(key, res); err != nil {
				return nil, err
			}
		}
	}
	ids, err := allIDs(r)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		ev, err := e.Event(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := put("event "+id, ev); err != nil {
			return nil, err
		}
		items, err := e.Related(ctx, related.Request{ID: id, Size: 5})
		if err != nil {
			return nil, fmt.Errorf("related %s: %w", id, err)
		}
		if err := put("related "+id, items); err != nil {
			return nil, err
		}
	}
	items, err := e.Related(ctx, related.Request{Draft: &related.Draft{
		Text: "Syrian government and opposition delegations meet for ceasefire talks in Astana", Date: "2019-02-20"}})
	if err != nil {
		return nil, err
	}
	return out, put("related draft", items)
}

func allIDs(r bindex.IndexReader) ([]string, error) {
	dict, err := r.FieldDict("_id")
	if err != nil {
		return nil, err
	}
	defer dict.Close()
	var ids []string
	for {
		de, err := dict.Next()
		if err != nil {
			return nil, err
		}
		if de == nil {
			return ids, nil
		}
		ids = append(ids, de.Term)
	}
}
