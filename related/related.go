// Package related finds the events most related to a given one, for the
// Related list of an event page: a more-like-this search (Bleve has none)
// tuned for news.
//
// The ranking, in the order it is applied:
//
//   - Text similarity, Lucene-style: the source's words (text and topic)
//     are weighed by tf × idf from the index; words too rare (fewer than
//     MinDF events) or too common (more than MaxDFShare of them) are left
//     out, and the best MaxTerms are searched for, each boosted by its
//     weight, with BM25 scoring.
//   - Shared context tags and topic, each boosted by how rare it is in the
//     index (its idf): a tag on every tenth event says little, a rare one
//     says much.
//   - Date proximity to the source event's date (not to now): the score is
//     multiplied by Floor + (1-Floor) × 2^(-days/HalfLifeDays), so a strong
//     older match is lowered, never hidden.
//   - No self, no near-duplicates of the source or of each other (the same
//     event filed twice, wire copies: word sets alike beyond
//     DuplicateSimilarity), and variety: at most MaxPerDay items of one day.
//
// Each item comes with a human-readable reason.
package related

import (
	"fmt"
	"math"
	"time"
)

// Weights are the ranking's parameters. DefaultWeights were tuned with
// cmd/relatedeval on the real corpus (see the README).
type Weights struct {
	// Text scales the text similarity.
	Text float64 `json:"text"`
	// Context scales each shared context tag, times the tag's idf.
	Context float64 `json:"context"`
	// Topic scales a shared topic, times the topic's idf.
	Topic float64 `json:"topic"`
	// HalfLifeDays is how many days apart halve the date factor's
	// decaying part.
	HalfLifeDays float64 `json:"half_life_days"`
	// Floor is the date factor of events infinitely far apart, 0 to 1.
	Floor float64 `json:"floor"`
	// MaxTerms is the most words searched for.
	MaxTerms int `json:"max_terms"`
	// MinDF and MaxDFShare bound the events a word may appear in to be
	// searched for: at least MinDF, at most MaxDFShare of all events (or
	// 50 events, whichever is more).
	MinDF      int     `json:"min_df"`
	MaxDFShare float64 `json:"max_df_share"`
	// DuplicateSimilarity is the share of words two texts have in common
	// (Jaccard) from which they are near-duplicates.
	DuplicateSimilarity float64 `json:"duplicate_similarity"`
	// MaxPerDay is the most items of one day in a list.
	MaxPerDay int `json:"max_per_day"`
	// Candidates is how many events the search returns for re-ranking.
	Candidates int `json:"candidates"`
}

// DefaultWeights are the tuned defaults.
var DefaultWeights = Weights{
	Text:                1,
	Context:             2,
	Topic:               3,
	HalfLifeDays:        180,
	Floor:               0.25,
	MaxTerms:            25,
	MinDF:               2,
	MaxDFShare:          0.02,
	DuplicateSimilarity: 0.7,
	MaxPerDay:           2,
	Candidates:          60,
}

// TextOnly are the weights of the plain more-like-this baseline: text
// similarity alone, no tags, no date, no duplicate or variety rules.
var TextOnly = Weights{
	Text: 1, MaxTerms: 25, MinDF: 2, MaxDFShare: 0.02, Floor: 1, HalfLifeDays: 1,
	DuplicateSimilarity: 1.01, MaxPerDay: 1 << 30, Candidates: 60,
}

// Ranges of the weights (README, "Related stories"). Bounded so that no
// weight can make a score NaN or infinite: 1e308 would overflow the sum
// of a list's scores, NaN compares false to everything.
const (
	MaxWeight       = 100   // of Text, Context and Topic
	MaxHalfLifeDays = 36500 // a century
)

// Validate reports the first weight out of its range, as an
// *InvalidError whose Param is "weights." and the weight's JSON name.
func (w Weights) Validate() error {
	for _, f := range []struct {
		name     string
		v        float64
		lo, hi   float64
		aboveLow bool // the range excludes lo
	}{
		{"text", w.Text, 0, MaxWeight, false},
		{"context", w.Context, 0, MaxWeight, false},
		{"topic", w.Topic, 0, MaxWeight, false},
		{"half_life_days", w.HalfLifeDays, 0, MaxHalfLifeDays, true},
		{"floor", w.Floor, 0, 1, false},
		{"max_df_share", w.MaxDFShare, 0, 1, true},
		// Above 1, no two events are near-duplicates (TextOnly).
		{"duplicate_similarity", w.DuplicateSimilarity, 0, 2, false},
	} {
		if math.IsNaN(f.v) || f.v < f.lo || f.v > f.hi || (f.aboveLow && f.v == f.lo) {
			from := "from"
			if f.aboveLow {
				from = "above"
			}
			return invalid("weights."+f.name, "must be a number %s %v to %v, got %v", from, f.lo, f.hi, f.v)
		}
	}
	switch {
	case w.Text+w.Context+w.Topic == 0:
		return invalid("weights.text", "at least one of the text, context and topic weights must be positive")
	case w.MaxTerms < 1 || w.MaxTerms > 100:
		return invalid("weights.max_terms", "must be a whole number from 1 to 100, got %d", w.MaxTerms)
	case w.MinDF < 1:
		return invalid("weights.min_df", "must be a whole number of at least 1, got %d", w.MinDF)
	case w.MaxPerDay < 1:
		return invalid("weights.max_per_day", "must be a whole number of at least 1, got %d", w.MaxPerDay)
	case w.Candidates < 1 || w.Candidates > 1000:
		return invalid("weights.candidates", "must be a whole number from 1 to 1000, got %d", w.Candidates)
	}
	return nil
}

// Direction limits related events to one side of the source's date.
type Direction string

// Directions.
const (
	Both   Direction = "both"
	Before Direction = "before" // background: what led to it
	After  Direction = "after"  // what happened next
)

// Limits of a request.
const (
	DefaultSize  = 5
	MaxSize      = 50
	MaxDraftText = 20000 // bytes of a draft's text
)

// Request asks for the events related to one event or to a draft.
type Request struct {
	// ID names an indexed event; when empty, Draft is used.
	ID string
	// Draft is an event not (necessarily) in the index: Text is required;
	// Topic, Context and Date help. Its ID, if any, is excluded from the
	// answer.
	Draft *Draft
	// Size is how many items to return; zero means DefaultSize.
	Size int
	// From and To limit the dates of related events, both inclusive; zero
	// means open.
	From, To time.Time
	// Direction keeps only events before or after the source's date.
	Direction Direction
	// Weights tune the ranking; the zero value means DefaultWeights.
	Weights *Weights
}

// Draft is the text of a story being written, with what is known of it.
type Draft struct {
	ID      string   `json:"id,omitempty"`
	Text    string   `json:"text"`
	Topic   string   `json:"topic,omitempty"`
	Context []string `json:"context,omitempty"`
	Date    string   `json:"date,omitempty"`
}

// Item is one related event.
type Item struct {
	ID      string   `json:"id"`
	Date    string   `json:"date"`
	Text    string   `json:"text"`
	Topic   string   `json:"topic"`
	Context []string `json:"context"`
	Score   float64  `json:"score"`
	// Reason says in words why the event is related.
	Reason string `json:"reason"`
	// SharedContext, SharedTerms, SameTopic and DaysApart are the reason's
	// parts: DaysApart is negative for events before the source.
	SharedContext []string `json:"shared_context"`
	SharedTerms   []string `json:"shared_terms"`
	SameTopic     bool     `json:"same_topic"`
	DaysApart     int      `json:"days_apart"`
}

// InvalidError is a request the ranker cannot answer; Param names what
// was wrong.
type InvalidError struct {
	Param string
	Msg   string
}

func (e *InvalidError) Error() string { return e.Param + ": " + e.Msg }

func invalid(param, format string, args ...any) error {
	return &InvalidError{Param: param, Msg: fmt.Sprintf(format, args...)}
}
