// Package related finds the events most related to a given one, or to a
// draft, for the Related list of an event page: the lists an editor would
// choose, measured against editors' judgments (package judged, and
// cmd/relatedeval).
//
// The ranking, in the order it is applied:
//
//   - Words: the source's words as the index analyses them (stems), with
//     the other names, adjectives and demonyms of places mapped to the
//     place (Syrian → Syria; package entities), so that a word matches the
//     events holding any of its forms.
//   - Tags: the normal forms of the source's topic and context tags
//     (package entities: case, dashes, word order, parentheses and
//     demonyms do not matter), and of the tags of the index its text
//     names; year tags are never used, places count less than stories,
//     and each counts by how specific it is, ln(N/df).
//   - Stage 1, candidates: one accumulator over every event sharing a
//     chosen word or tag: BM25 × idf² of the source's best MaxTerms words
//     (up to MaxDFShare of the events, so that a story's defining entities
//     are kept), plus the MaxTags most specific tags, times a two-speed
//     date prior relative to the source's date: Floor + (1-Floor) ×
//     (Near × 2^(-d/HalfLifeDays) + (1-Near) × 2^(-d/SlowHalfLifeDays)),
//     for stories run for days and for years.
//   - Neighbour feedback: the tags the first pass's 10 best events agree
//     on are searched for too; a source without tags (a draft, mostly)
//     adopts the topic and context tags most of them share, then is
//     searched again; one without a category, the category most of them
//     have.
//   - Re-ranking: the best Candidates events are ranked by a linear model
//     over a few features read from the index (see features.go), with
//     weights fitted to the judgments by cross-validation.
//   - No self, no near-duplicates of the source or of each other (the same
//     event filed twice, wire copies: word sets alike beyond
//     DuplicateSimilarity), and variety: at most MaxPerDay items of one
//     day while others remain.
//
// Each item comes with a human-readable reason.
package related

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk"
)

// Weights are the ranking's parameters. DefaultWeights were fitted with
// cmd/relatedeval -fit on the judged set (see the README). The JSON of a
// Weights may give any subset of its fields: the others keep their
// defaults.
type Weights struct {
	// Stage 1: what finds the candidates.

	// Text scales the text similarity (BM25 × idf², 1 for the source's own
	// text).
	Text float64 `json:"text"`
	// Context scales each shared story tag, times its specificity.
	Context float64 `json:"context"`
	// Place scales each shared place tag (a country, a region), times its
	// specificity.
	Place float64 `json:"place"`
	// Topic is added for each shared tag that is the source's topic.
	Topic float64 `json:"topic"`
	// Feedback scales each tag the source's best neighbours agree on, times
	// their agreement and its specificity.
	Feedback float64 `json:"feedback"`
	// HalfLifeDays and SlowHalfLifeDays are the half-lives of the date
	// prior's two parts, Near the share of the first.
	HalfLifeDays     float64 `json:"half_life_days"`
	SlowHalfLifeDays float64 `json:"slow_half_life_days"`
	Near             float64 `json:"near"`
	// Floor is the date prior of events infinitely far apart, 0 to 1.
	Floor float64 `json:"floor"`
	// MaxTerms is the most words searched for, MaxTags the most tags.
	MaxTerms int `json:"max_terms"`
	MaxTags  int `json:"max_tags"`
	// MinDF and MaxDFShare bound the events a word may appear in to be
	// searched for: at least MinDF, at most MaxDFShare of all events (or
	// 50 events, whichever is more). Words beyond still count in
	// re-ranking.
	MinDF      int     `json:"min_df"`
	MaxDFShare float64 `json:"max_df_share"`
	// MaxPostings bounds what stage 1 reads of the words: the searched
	// words' postings, in all. Beyond it the commonest are left to
	// re-ranking (the best minSearched are always searched), so that a
	// related list's cost stops growing with the corpus. The default is
	// about twice the most a list of the real corpus reads (102,000
	// postings, tags included, over the benchmark's 3,500 lists), so it
	// changes none of them; at ten times the corpus it keeps a list by id
	// under its p99 target (README, "Searching").
	MaxPostings int `json:"max_postings"`
	// Adopt is the share of the best neighbours' weight from which a
	// source without tags adopts their topic or a context tag; above 1,
	// never.
	Adopt float64 `json:"adopt"`
	// Candidates is how many events stage 1 hands to re-ranking (ten
	// times as many, at most MaxCandidates, when near-duplicates leave
	// the list short).
	Candidates int `json:"candidates"`

	// Re-ranking: the weight of each feature of a candidate (features.go),
	// added to its stage-1 score relative to the best candidate's.

	// RankText: BM25 over all the source's words, relative to the best
	// candidate's; RankMatch: the share of the source's idf its words
	// matched.
	RankText  float64 `json:"rank_text"`
	RankMatch float64 `json:"rank_match"`
	// RankClassic: the classic more-like-this score (rare words, exact
	// tags, one-speed date decay), relative to the best candidate's.
	RankClassic float64 `json:"rank_classic"`
	// RankStory and RankPlace: the specificity of the shared story and
	// place tags; RankTopic: the candidate is on the source's story (its
	// topic among the other's tags).
	RankStory float64 `json:"rank_story"`
	RankPlace float64 `json:"rank_place"`
	RankTopic float64 `json:"rank_topic"`
	// RankWeek and RankMonth: e^(-days/7) and e^(-days/30).
	RankWeek  float64 `json:"rank_week"`
	RankMonth float64 `json:"rank_month"`
	// RankCategory: both events have a category, and they differ.
	RankCategory float64 `json:"rank_category"`
	// RankTextPosition and RankClassicPosition: 1/(1 + r/10) for the
	// candidate's rank r (0 first) among the candidates by text and by
	// the classic score.
	RankTextPosition    float64 `json:"rank_text_position"`
	RankClassicPosition float64 `json:"rank_classic_position"`
	// RankCommon: BM25 over the source's words written in lower case,
	// relative to the best candidate's.
	RankCommon float64 `json:"rank_common"`
	// RankAgree: the share of the source's words' idf the candidate
	// holds, each word weighed by how many of the 10 best candidates by
	// the other features hold it.
	RankAgree float64 `json:"rank_agree"`

	// The list.

	// DuplicateSimilarity is the share of words two texts have in common
	// (Jaccard) from which they are near-duplicates; above 1, none are.
	DuplicateSimilarity float64 `json:"duplicate_similarity"`
	// MaxPerDay is the most items of one day in a list.
	MaxPerDay int `json:"max_per_day"`
}

// DefaultWeights are the fitted defaults.
var DefaultWeights = Weights{
	Text:                1,
	Context:             0.02,
	Place:               0.08,
	Topic:               0,
	Feedback:            0.04,
	HalfLifeDays:        30,
	SlowHalfLifeDays:    1100,
	Near:                0.7,
	Floor:               0.3,
	MaxTerms:            25,
	MaxTags:             8,
	MinDF:               2,
	MaxDFShare:          0.10,
	MaxPostings:         200_000,
	Adopt:               0.5,
	Candidates:          100,
	RankText:            0.5,
	RankMatch:           0,
	RankClassic:         0.25,
	RankStory:           0.01,
	RankPlace:           0,
	RankWeek:            0.1,
	RankMonth:           0,
	RankCategory:        -0.1,
	RankTextPosition:    0.25,
	RankClassicPosition: 0.25,
	RankCommon:          0.1,
	RankAgree:           0.1,
	DuplicateSimilarity: 0.7,
	MaxPerDay:           2,
}

// TextOnly are the weights of a plain more-like-this baseline: text
// similarity alone, no tags, no date, no neighbours, no re-ranking, no
// duplicate or variety rules.
var TextOnly = Weights{
	Text: 1, MaxTerms: 25, MinDF: 2, MaxDFShare: 0.10, MaxPostings: 200_000, Floor: 1, Near: 1, HalfLifeDays: 1, SlowHalfLifeDays: 1,
	Adopt: 2, Candidates: 100, DuplicateSimilarity: 2, MaxPerDay: 1 << 30,
}

// UnmarshalJSON reads a JSON object of weights over the defaults: fields
// left out keep their DefaultWeights value. Unknown fields are an error.
func (w *Weights) UnmarshalJSON(b []byte) error {
	type plain Weights // without this method
	p := plain(DefaultWeights)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		// A value of the wrong type is returned as it is: a decoder of a
		// body that holds the weights prefixes its field with where they
		// are ("weights.topic"), which the error then names. An unknown
		// field is named with its path too.
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return te
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return fmt.Errorf("json: unknown field \"weights.%s\"", strings.Trim(f, `"`))
		}
		return fmt.Errorf("weights: %w", err)
	}
	*w = Weights(p)
	return nil
}

// Ranges of the weights (README, "Related stories"). Bounded so that no
// weight can make a score NaN or infinite: 1e308 would overflow the sum
// of a list's scores, NaN compares false to everything.
const (
	MaxWeight       = 100   // of every weight but the date prior's
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
		{"place", w.Place, 0, MaxWeight, false},
		{"topic", w.Topic, 0, MaxWeight, false},
		{"feedback", w.Feedback, 0, MaxWeight, false},
		{"half_life_days", w.HalfLifeDays, 0, MaxHalfLifeDays, true},
		{"slow_half_life_days", w.SlowHalfLifeDays, 0, MaxHalfLifeDays, true},
		{"near", w.Near, 0, 1, false},
		{"floor", w.Floor, 0, 1, false},
		{"max_df_share", w.MaxDFShare, 0, 1, true},
		{"adopt", w.Adopt, 0, 2, false},
		// Re-ranking weights may be negative: a feature may count against.
		{"rank_text", w.RankText, -MaxWeight, MaxWeight, false},
		{"rank_match", w.RankMatch, -MaxWeight, MaxWeight, false},
		{"rank_classic", w.RankClassic, -MaxWeight, MaxWeight, false},
		{"rank_story", w.RankStory, -MaxWeight, MaxWeight, false},
		{"rank_place", w.RankPlace, -MaxWeight, MaxWeight, false},
		{"rank_topic", w.RankTopic, -MaxWeight, MaxWeight, false},
		{"rank_week", w.RankWeek, -MaxWeight, MaxWeight, false},
		{"rank_month", w.RankMonth, -MaxWeight, MaxWeight, false},
		{"rank_category", w.RankCategory, -MaxWeight, MaxWeight, false},
		{"rank_text_position", w.RankTextPosition, -MaxWeight, MaxWeight, false},
		{"rank_classic_position", w.RankClassicPosition, -MaxWeight, MaxWeight, false},
		{"rank_common", w.RankCommon, -MaxWeight, MaxWeight, false},
		{"rank_agree", w.RankAgree, -MaxWeight, MaxWeight, false},
		// Above 1, no two events are near-duplicates (TextOnly); at 0
		// every event would be one of the source's, and a list empty.
		{"duplicate_similarity", w.DuplicateSimilarity, 0, 2, true},
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
	case w.Text+w.Context+w.Place+w.Topic == 0:
		return invalid("weights.text", "at least one of the text, context, place and topic weights must be positive")
	case w.MaxTerms < 1 || w.MaxTerms > 100:
		return invalid("weights.max_terms", "must be a whole number from 1 to 100, got %d", w.MaxTerms)
	case w.MaxTags < 0 || w.MaxTags > 50:
		return invalid("weights.max_tags", "must be a whole number from 0 to 50, got %d", w.MaxTags)
	case w.MinDF < 1:
		return invalid("weights.min_df", "must be a whole number of at least 1, got %d", w.MinDF)
	case w.MaxPostings < 1:
		return invalid("weights.max_postings", "must be a whole number of at least 1, got %d", w.MaxPostings)
	case w.MaxPerDay < 1:
		return invalid("weights.max_per_day", "must be a whole number of at least 1, got %d", w.MaxPerDay)
	case w.Candidates < 1 || w.Candidates > MaxCandidates:
		return invalid("weights.candidates", "must be a whole number from 1 to %d, got %d", MaxCandidates, w.Candidates)
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
	// MaxDraftTag and MaxDraftTags bound a draft's topic and context tags
	// (the corpus's longest tag is 203 bytes, its most tags on an event
	// 10): analysed like the text, a 62 KB topic cost seven times the
	// longest text.
	MaxDraftTag  = newsdesk.MaxTagBytes // as an event's
	MaxDraftTags = newsdesk.MaxTags
	// MaxCandidates is the most candidates re-ranked (Weights.Candidates).
	MaxCandidates = 1000
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
	// Weights tune the ranking; nil means DefaultWeights.
	Weights *Weights
	// Spellings, if set, gives the other spellings of a word's term the
	// index may hold, with or without accents (erdoğan for erdogan),
	// which count as the word itself (search.Names.Spellings).
	Spellings func(term string) []string `json:"-"`
}

// Draft is the text of a story being written, with what is known of it.
type Draft struct {
	ID      string   `json:"id,omitempty"`
	Text    string   `json:"text"`
	Topic   string   `json:"topic,omitempty"`
	Context []string `json:"context,omitempty"`
	Date    string   `json:"date,omitempty"`
	// Category is the draft's section, as the index's events have one
	// (any case): events of another rank lower (RankCategory), as for
	// an event by id. One the index has not counts as none, and the
	// draft takes its neighbours' (a newsroom's section may be new).
	Category string `json:"category,omitempty"`
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
	// parts: SharedContext holds the event's tags that name one of the
	// source's (by normal form: "Syrian civil war" for "Syrian Civil
	// War"), SharedTerms the source's words it holds (in any of their
	// forms), DaysApart is negative for events before the source, and
	// nil (null) when the source has no date (a draft without one).
	SharedContext []string `json:"shared_context"`
	SharedTerms   []string `json:"shared_terms"`
	SameTopic     bool     `json:"same_topic"`
	DaysApart     *int     `json:"days_apart"`
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
