package search

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/query"
)

// costlyQueries are the most expensive q found for the phrase and prefix
// paths (Bleve's searchers), each within the limits of q: 16 phrases of
// two of five common words in every order, which walk tens of thousands
// of candidates checking term positions; the same relaxed into
// any-phrase by a word no event has; 15 common phrases likewise; 19
// prefixes of common words likewise; 32 copies of one phrase (one, once
// deduplicated); and a phrase of one common word 32 times, alone and
// with a misspelt word (corrected, then relaxed: three walks).
func costlyQueries() map[string]string {
	words := []string{"united", "states", "said", "people", "new"}
	var pairs []string
	for _, a := range words {
		for _, b := range words {
			pairs = append(pairs, `"`+a+" "+b+`"`)
		}
	}
	pairs = append(pairs, `"united states said"`, `"said united states"`, `"states said united"`, `"people united states"`,
		`"new united states"`, `"united states people"`, `"united states new"`)
	common := []string{`"united states"`, `"prime minister"`, `"north korea"`, `"south korea"`, `"new york"`, `"human rights"`,
		`"civil war"`, `"world cup"`, `"death toll"`, `"hong kong"`, `"south africa"`, `"new zealand"`, `"middle east"`,
		`"white house"`, `"police said"`, `"air strike"`, `"oil price"`, `"car bomb"`, `"stock market"`, `"peace talks"`,
		`"al qaeda"`, `"pope francis"`, `"state media"`, `"health care"`, `"rebel forces"`, `"tax cuts"`, `"free trade"`,
		`"west bank"`, `"gaza strip"`, `"drug cartel"`, `"red cross"`}
	states := `"` + strings.TrimSpace(strings.Repeat("states ", query.MaxTerms)) + `"`
	return map[string]string{
		// A phrase's words count towards query.MaxTerms: 16 phrases of
		// two words are the most.
		"16 phrases of 5 words":        strings.Join(pairs[:16], " "),
		"15 of them relaxed":           strings.Join(pairs[:15], " ") + " zzqqx",
		"15 common phrases relaxed":    strings.Join(common[:15], " ") + " zzqqx",
		"19 prefixes relaxed":          "sta* pre* min* gov* pol* kil* peo* uni* new* for* cou* att* ele* mil* the* con* par* int* rep* zzqqx",
		"32 copies of united states":   strings.Repeat(`"united states" `, 32),
		"32 copies, relaxed by a word": strings.Repeat(`"united states" `, 31) + "zzqqx",
		"a phrase of 32 states":        states,
		"31 states and a misspelling":  states[:len(states)-len(` states"`)] + `" zebrra`,
	}
}

// TestDeadline_CostlyQueries runs costlyQueries with a 200 ms deadline,
// with facets and highlights, in relevance and date order: each answers,
// or fails with the deadline, within 250 ms. Run it on the real corpus
// (see benchIndex): go test ./search -run Deadline -index DIR -v.
func TestDeadline_CostlyQueries(t *testing.T) {
	var e *Engine
	if *benchIndex != "" {
		e = openIndex(t, *benchIndex)
	} else {
		e = fixtureEngine(t)
	}
	const deadline, bound = 200 * time.Millisecond, 250 * time.Millisecond
	for name, q := range costlyQueries() {
		if len(q) > query.MaxQueryBytes {
			t.Fatalf("%s: q is %d bytes, over the limit", name, len(q))
		}
		for _, sort := range []query.Sort{query.SortRelevance, query.SortDate} {
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			start := time.Now()
			res, err := e.Search(ctx, Request{Q: q, Sort: sort, Facets: 10, Highlight: true})
			took := time.Since(start)
			cancel()
			if err != nil && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s, %s: %v", name, sort, err)
			}
			if took > bound {
				t.Errorf("%s, %s: answered after %v, want within %v of a %v deadline", name, sort, took, bound, deadline)
			}
			total := uint64(0)
			if res != nil {
				total = res.Total
			}
			t.Logf("%-30s %-9s %8.1f ms  total %6d  err %v", name, sort, float64(took.Microseconds())/1000, total, err)
		}
	}
}

// TestSearch_RepeatedClauses: a clause given twice matches and scores
// exactly as once.
func TestSearch_RepeatedClauses(t *testing.T) {
	e := fixtureEngine(t)
	tests := []struct{ once, repeated string }{
		{`"peace talks"`, `"peace talks" "Peace  Talks" "peace talks"`},
		{"astana talks", "astana talks astana ASTANA"},
		{"astan* -ceasefire", "astan* -ceasefire astan* -ceasefire"},
		{`topic:"Syrian peace process" astana`, `topic:"Syrian peace process" topic:"syrian peace process" astana`},
	}
	for _, tc := range tests {
		once, err := e.Search(context.Background(), Request{Q: tc.once})
		if err != nil {
			t.Fatal(err)
		}
		repeated, err := e.Search(context.Background(), Request{Q: tc.repeated})
		if err != nil {
			t.Fatal(err)
		}
		if once.Total == 0 || !reflect.DeepEqual(once.Hits, repeated.Hits) || once.Total != repeated.Total {
			t.Errorf("%s: %d hits %v\n%s: %d hits %v", tc.once, once.Total, once.Hits, tc.repeated, repeated.Total, repeated.Hits)
		}
	}
}
