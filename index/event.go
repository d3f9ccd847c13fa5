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
		if err == nil {
			err = DecodeField(&e, f.Name(), f.Value())
		}
	})
	return e, err
}

// DecodeField sets the field of e that the stored field name holds, from
// its value; stored fields come in the order they were indexed. Fields
// of no event field (Bleve's _id) are ignored.
func DecodeField(e *newsdesk.Event, name string, value []byte) error {
	switch name {
	case newsdesk.FieldText:
		if e.Text == "" { // the first value is the sentence; a second, the topic
			e.Text = string(value)
		}
	case newsdesk.FieldTopic:
		e.Topic = string(value)
	case newsdesk.FieldCategory:
		e.Category = string(value)
	case newsdesk.FieldContext:
		e.Context = append(e.Context, string(value))
	case newsdesk.FieldDate:
		e.Date = string(value)
	case newsdesk.FieldSources:
		if len(value) == 0 {
			return nil // stored empty when the event cites no source
		}
		if err := json.Unmarshal(value, &e.Sources); err != nil {
			return fmt.Errorf("event %s: stored sources: %w", e.ID, err)
		}
	}
	return nil
}
