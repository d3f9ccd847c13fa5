// Package newsdesk holds the domain types shared by the newsdesk search
// engine: the news Event, its Sources, the rules for event ids and dates,
// and the sentinel errors the other packages wrap.
//
// The packages beside it do the work: ingest reads input files into Events,
// mappings describes how an Event is indexed, index owns the Bleve index
// and its generations, and cmd/indexer and cmd/searchd wire them together.
package newsdesk
