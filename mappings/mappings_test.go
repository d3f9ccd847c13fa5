package mappings

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/entities"
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

// TestLegacyGolden checks that the legacy mapping is exactly the one
// generations built before the ranking fields carry: servers still open
// them.
func TestLegacyGolden(t *testing.T) {
	got, err := json.MarshalIndent(Legacy(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/mapping.v1.golden.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(append(got, '\n'), want) {
		t.Errorf("the legacy mapping differs from testdata/mapping.v1.golden.json:\n%s", got)
	}
}

// TestWithoutFormsGolden checks that the mapping before the forms field
// is exactly the one generations built before it carry: servers still
// open them, ranked as today's without the form boost.
func TestWithoutFormsGolden(t *testing.T) {
	got, err := json.MarshalIndent(WithoutForms(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/mapping.v2.golden.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, bytes.TrimSuffix(want, []byte("\n"))) && !bytes.Equal(append(got, '\n'), want) {
		t.Errorf("the mapping without forms differs from testdata/mapping.v2.golden.json:\n%s", got)
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

func TestDocs_Doc(t *testing.T) {
	ents, err := entities.New()
	if err != nil {
		t.Fatal(err)
	}
	docs, err := NewDocs(ents)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		e       newsdesk.Event
		keys    []string
		stub    bool
		textLen int
	}{
		{"event", newsdesk.Event{ID: "2017-01-23/talks", Date: "2017-01-23", Topic: "Syrian peace process",
			Context: []string{"Syrian Civil War", "2017", "Estonia–Russia relations (2014–present)"},
			Text:    "Peace talks in Astana end without a breakthrough."},
			[]string{"peac process syria", "civil syria war", "2017", "estonia relat russia"}, false, 18},
		{"heading only", newsdesk.Event{ID: "2022-03-01/x", Date: "2022-03-01", Topic: "Russian invasion of Ukraine",
			Context: []string{"Russian invasion of Ukraine", "Siege of Mariupol"},
			Text:    "Russian invasion of Ukraine, Siege of Mariupol"}, []string{"invas russia ukrain", "mariupol sieg"}, true, 13},
		{"a few words", newsdesk.Event{ID: "2003-03-20/x", Date: "2003-03-20", Text: "Coalition of the willing"}, nil, true, 2},
		{"a short sentence", newsdesk.Event{ID: "2003-03-20/y", Date: "2003-03-20", Text: "The war begins."}, nil, false, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := docs.Doc(&tc.e)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(d.Keys, tc.keys) {
				t.Errorf("keys %q, want %q", d.Keys, tc.keys)
			}
			if got := slices.Contains(d.Flags, FlagStub); got != tc.stub {
				t.Errorf("stub %v, want %v", got, tc.stub)
			}
			if got := d.TextLength(); got != tc.textLen {
				t.Errorf("text length %d, want %d", got, tc.textLen)
			}
			if want := append([]string{tc.e.Text, tc.e.Topic}, tc.e.Context...); tc.e.Topic != "" && !slices.Equal(d.Text, want) {
				t.Errorf("text %q, want the sentence, the topic and the context tags", d.Text)
			}
		})
	}
}
