package index

import (
	"context"
	"encoding/json"
	"fmt"

	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/newsdesk/newsdesk"
)

// Event returns the stored event with the given id, or an error wrapping
// newsdesk.ErrNotFound.
func (x *Index) Event(ctx context.Context, id string) (newsdesk.Event, error) {
	if err := ctx.Err(); err != nil {
		return newsdesk.Event{}, err
	}
	d, err := x.Document(id)
	if err != nil {
		return newsdesk.Event{}, fmt.Errorf("load event %s: %w", id, err)
	}
	if d == nil {
		return newsdesk.Event{}, fmt.Errorf("event %q: %w", id, newsdesk.ErrNotFound)
	}
	return EventFromDocument(d)
}

// EventFromDocument rebuilds an event from a stored Bleve document.
func EventFromDocument(d bindex.Document) (newsdesk.Event, error) {
	e := newsdesk.Event{ID: d.ID()}
	var err error
	d.VisitFields(func(f bindex.Field) {
		switch f.Name() {
		case newsdesk.FieldText:
			if e.Text == "" { // the first value is the sentence; a second, the topic
				e.Text = string(f.Value())
			}
		case newsdesk.FieldTopic:
			e.Topic = string(f.Value())
		case newsdesk.FieldCategory:
			e.Category = string(f.Value())
		case newsdesk.FieldContext:
			e.Context = append(e.Context, string(f.Value()))
		case newsdesk.FieldDate:
			e.Date = string(f.Value())
		case newsdesk.FieldSources:
			if len(f.Value()) == 0 {
				return // stored empty when the event cites no source
			}
			if jerr := json.Unmarshal(f.Value(), &e.Sources); jerr != nil {
				err = fmt.Errorf("event %s: stored sources: %w", d.ID(), jerr)
			}
		}
	})
	return e, err
}
