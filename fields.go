package newsdesk

// Field names of an event in the index, shared by the mapping that
// defines them and the code that reads them back. Text fields are analysed
// with the English analyzer; the others hold exact values.
const (
	FieldText     = "text"     // English text of the sentence, then of the topic and context tags; stored, term vectors
	FieldTopic    = "topic"    // exact topic; stored, doc values for facets
	FieldCategory = "category" // exact category; stored, doc values
	FieldContext  = "context"  // exact context tags; stored, doc values for facets
	FieldDate     = "date"     // exact YYYY-MM-DD; stored, doc values for sorting
	FieldSources  = "sources"  // JSON of the sources; stored only
	FieldKeys     = "keys"     // exact normal forms of the tags (package entities); doc values
	FieldFlags    = "flags"    // exact ranking flags (a heading-only stub); doc values
	FieldLead     = "lead"     // English text of the sentence's first words; for the search box
	FieldForms    = "forms"    // the sentence's word forms (english.Form); for the search box
)

// InternalFieldLengths is the key, in a generation's Bleve internal data,
// of the JSON of its FieldLengths.
const InternalFieldLengths = "newsdesk/field_lengths"

// FieldLengths are the average lengths, in indexed words, of a
// generation's fields over its events, as its build counted them: the
// search engine's BM25 length normalisation divides by them.
type FieldLengths struct {
	Text float64 `json:"text"`
}
