package newsdesk

// Field names of an event in the index, shared by the mapping that
// defines them and the code that reads them back. Text fields are analysed
// with the English analyzer; the others hold exact values.
const (
	FieldText     = "text"     // English text; stored, term vectors for highlighting
	FieldTopic    = "topic"    // English text of the topic; stored
	FieldTopicKW  = "topic_kw" // exact topic; doc values for facets
	FieldCategory = "category" // exact category; stored, doc values
	FieldContext  = "context"  // exact context tags; stored, doc values for facets
	FieldDate     = "date"     // datetime; stored, doc values for sort and histograms
	FieldSources  = "sources"  // JSON of the sources; stored only
)
