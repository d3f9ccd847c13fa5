package mappings

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/newsdesk/newsdesk"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const golden = "testdata/mapping.golden.json"

// TestMappingGolden makes every change to the mapping a visible diff:
// run "go test ./mappings -update" and review the golden file's change.
func TestMappingGolden(t *testing.T) {
	got, err := JSON()
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("mapping differs from %s; if the change is intended, run go test ./mappings -update\n got: %s", golden, got)
	}
	if err := New().Validate(); err != nil {
		t.Errorf("mapping does not validate: %v", err)
	}
}

// TestMappingIndexes checks the fields behave as documented: English
// analysis on text, exact values on category and context, dates in
// ranges, sources stored but not searchable.
func TestMappingIndexes(t *testing.T) {
	idx, err := bleve.NewMemOnly(New())
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	e := newsdesk.Event{ID: "2017-01-23/talks", Date: "2017-01-23", Category: "Politics and elections",
		Topic: "Syrian peace process", Context: []string{"Syrian Civil War", "Astana"},
		Text:    "Peace talks in Astana end without a breakthrough.",
		Sources: []newsdesk.Source{{Name: "Reuters", URL: "https://reuters.example/x"}}}
	doc, err := NewDoc(&e)
	if err != nil {
		t.Fatal(err)
	}
	if err := idx.Index(e.ID, doc); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		query string
		hits  uint64
	}{
		{"stemmed text", "text:talk", 1},
		{"stop words dropped", "text:the", 0},
		{"topic words searchable in text", "text:process", 1},
		{"phrase within the sentence", `text:"peace talks"`, 1},
		{"no phrase across sentence and topic", `text:"breakthrough syrian"`, 0},
		{"exact topic", "=topic=Syrian peace process", 1},
		{"topic not analysed", "topic:peace", 0},
		{"exact category", "=category=Politics and elections", 1},
		{"category not analysed", "category:politics", 0},
		{"exact context", "=context=Syrian Civil War", 1},
		{"context not analysed", "context:syrian", 0},
		{"exact date", "=date=2017-01-23", 1},
		{"other day", "=date=2017-01-24", 0},
		{"sources not searchable", "sources:reuters", 0},
		{"no _all field", "_all:breakthrough", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var q query.Query = bleve.NewQueryStringQuery(tc.query)
			if field, value, ok := strings.Cut(strings.TrimPrefix(tc.query, "="), "="); ok && strings.HasPrefix(tc.query, "=") {
				tq := bleve.NewTermQuery(value) // exact fields are matched by term, as the query package does
				tq.SetField(field)
				q = tq
			}
			res, err := idx.Search(bleve.NewSearchRequest(q))
			if err != nil {
				t.Fatal(err)
			}
			if res.Total != tc.hits {
				t.Errorf("%s: %d hits, want %d", tc.query, res.Total, tc.hits)
			}
		})
	}
}
