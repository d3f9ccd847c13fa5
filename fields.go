package newsdesk

// Field names of an event in the index, shared by the mapping that
// defines them and the code that reads them back. Text fields are analysed
// with the English analyzer; the others hold exact values.
const (
	FieldText     = "text"     // English text of the sentence, then of the topic; stored, term vectors
	FieldTopic    = "topic"    // exact topic; stored, doc values for facets
	FieldCategory = "category" // exact category; stored, doc values
	FieldContext  = "context"  // exact context tags; stored, doc values for facets
	FieldDate     = "date"     // exact YYYY-MM-DD; stored, doc values for sorting
	FieldSources  = "sources"  // JSON of the sources; stored only
)
