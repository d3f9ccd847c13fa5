package mappings

import (
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	bmapping "github.com/blevesearch/bleve/v2/mapping"

	"github.com/newsdesk/newsdesk/english"
)

// FixLowercase replaces, in m's English analyser, Bleve's lower-case
// filter with one that does not garble İ or ẞ (package english). A
// mapping caches its analysers: fixing the cached one serves every later
// use of m (analysing queries, and the documents of a Bleve batch); it
// must happen before m is shared.
func FixLowercase(m bmapping.IndexMapping) {
	english.Fix(m.AnalyzerNamed(en.AnalyzerName))
}
