// Package mappings builds the Bleve index mapping for newsdesk events.
//
// The mapping is explicit and static: only the fields listed here are
// indexed, nothing dynamic, no _all field. A copy of its JSON lives in
// testdata/mapping.golden.json so that every change to it shows up as a
// diff; a changed mapping needs a rebuilt index (index.Open refuses a
// stored mapping that differs from New's).
package mappings

import (
	"encoding/json"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	bmapping "github.com/blevesearch/bleve/v2/mapping"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/newsdesk/newsdesk"
)

// DocType is the only document type in the index.
const DocType = "event"

// Doc is the shape an Event takes in the index. Build it with NewDoc.
type Doc struct {
	// Text holds the event's sentence and, when it has one, its topic: the
	// words of a story's name then match its events even when their
	// sentence does not repeat them, at the cost of one field, where a
	// second analysed field for the topic doubled the cost of each query.
	// The sentence comes first; phrases do not span the two.
	Text     []string `json:"text"`
	Topic    string   `json:"topic"`
	Category string   `json:"category"`
	Context  []string `json:"context"`
	// Date is the exact YYYY-MM-DD: sortable as text, and filtered by
	// range through the search engine's date bitmaps. A Bleve datetime
	// field indexes 16 terms per value and cost a fifth of the build time.
	Date    string `json:"date"`
	Sources string `json:"sources"`
}

// BleveType tells Bleve which document mapping Doc uses.
func (Doc) BleveType() string { return DocType }

// NewDoc converts a valid Event into its indexed form.
func NewDoc(e *newsdesk.Event) (Doc, error) {
	if _, err := e.Time(); err != nil {
		return Doc{}, err
	}
	var src []byte
	if len(e.Sources) > 0 {
		var err error
		if src, err = json.Marshal(e.Sources); err != nil {
			return Doc{}, err
		}
	}
	text := []string{e.Text}
	if e.Topic != "" {
		text = append(text, e.Topic)
	}
	return Doc{
		Text:     text,
		Topic:    e.Topic,
		Category: e.Category,
		Context:  e.Context,
		Date:     e.Date,
		Sources:  string(src),
	}, nil
}

// New returns the index mapping for events. Each call returns a fresh
// value that the caller may keep; it is not modified afterwards.
func New() *bmapping.IndexMappingImpl {
	english := func(name string, store, vectors bool) *bmapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Name = name
		f.Analyzer = en.AnalyzerName
		f.Store = store
		f.IncludeTermVectors = vectors
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	exact := func(name string, store bool) *bmapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Name = name
		f.Store = store
		f.IncludeTermVectors = false
		f.IncludeInAll = false
		f.DocValues = true
		return f
	}

	sources := bleve.NewTextFieldMapping()
	sources.Name = newsdesk.FieldSources
	sources.Index = false
	sources.Store = true
	sources.IncludeInAll = false
	sources.IncludeTermVectors = false
	sources.DocValues = false

	doc := bleve.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt("text", english(newsdesk.FieldText, true, true))
	doc.AddFieldMappingsAt("topic", exact(newsdesk.FieldTopic, true))
	doc.AddFieldMappingsAt("category", exact(newsdesk.FieldCategory, true))
	// Context tags are matched exactly, not as English text: their words
	// nearly always appear in the text already, and a second analysed copy
	// cost a tenth of the build time for little recall.
	doc.AddFieldMappingsAt("context", exact(newsdesk.FieldContext, true))
	doc.AddFieldMappingsAt("date", exact(newsdesk.FieldDate, true))

	doc.AddFieldMappingsAt("sources", sources)
	doc.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())
	for _, p := range doc.Properties {
		p.Dynamic = false // static all the way down: unknown sub-fields are ignored
	}

	m := bleve.NewIndexMapping()
	m.AddDocumentMapping(DocType, doc)
	m.DefaultMapping = bleve.NewDocumentDisabledMapping()
	m.DefaultType = DocType
	m.DefaultAnalyzer = en.AnalyzerName
	m.DefaultField = newsdesk.FieldText
	m.IndexDynamic = false
	m.StoreDynamic = false
	m.DocValuesDynamic = false
	m.ScoringModel = bindex.BM25Scoring
	return m
}

// JSON returns the canonical JSON of the mapping, the form Bleve stores in
// an index and the golden file holds.
func JSON() ([]byte, error) {
	return json.MarshalIndent(New(), "", "  ")
}
