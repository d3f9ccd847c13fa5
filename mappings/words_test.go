package mappings

import (
	"fmt"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2/analysis/lang/en"
)

// TestSharedWords_Bounded checks that a SharedWords remembers at most
// maxSharedForms forms, none longer than maxSharedForm bytes, however many
// distinct words it is given, and still analyses every one.
func TestSharedWords_Bounded(t *testing.T) {
	an := New().AnalyzerNamed(en.AnalyzerName)
	w, err := NewSharedWords(an)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 * maxSharedForms {
		word := fmt.Sprintf("zq%dx", i)
		var got []string
		w.Each([]byte(word), func(term []byte, _, _, _ int) { got = append(got, string(term)) })
		if len(got) != 1 || got[0] != word {
			t.Fatalf("%s: terms %q", word, got)
		}
	}
	if n := w.forms(); n > maxSharedForms || n < maxSharedForms/4 {
		t.Errorf("%d forms remembered after %d, want at most %d (and a good part of it)", n, 3*maxSharedForms, maxSharedForms)
	}
	long := strings.Repeat("abc", maxSharedForm) // ASCII letters: one word
	before := w.forms()
	for range 2 {
		var got []string
		w.Each([]byte(long), func(term []byte, _, _, _ int) { got = append(got, string(term)) })
		if want := an.Analyze([]byte(long)); len(got) != 1 || len(want) != 1 || got[0] != string(want[0].Term) {
			t.Fatalf("a word of %d bytes: terms %q", len(long), got)
		}
	}
	if after := w.forms(); after > before {
		t.Errorf("a word of %d bytes was remembered: %d forms, %d before", len(long), after, before)
	}
}

// forms returns how many forms w remembers.
func (w *SharedWords) forms() int {
	n := 0
	for i := range w.shards {
		sh := &w.shards[i]
		sh.mu.RLock()
		n += len(sh.memo)
		sh.mu.RUnlock()
	}
	return n
}

// TestLongestWord: the longest word is measured as the analysers cut
// words (newsdesk.MaxWordBytes bounds it): numbers joined by commas are
// one, a run of dots none, Thai without spaces none, a soft hyphen joins.
func TestLongestWord(t *testing.T) {
	for _, tc := range []struct {
		text  string
		n, at int
	}{
		{"", 0, 0},
		{"A flamingo escapes.", 8, 2},
		{"Stephen O'Brien visits 3.14159.", 7, 0}, // the first of the longest
		{"Wait" + strings.Repeat(".", 1100), 4, 0},
		{strings.Repeat("1,", 500) + "1", 1001, 0},
		{"a " + strings.Repeat("x_", 600), 1200, 2},
		{"Ready " + strings.Repeat("ab\u00ad", 400), 1600, 6}, // a soft hyphen is inside a word
		{strings.Repeat("ภาษาไทย", 100), 0, 0},                // no word of Thai
		{strings.Repeat("中国举行会议", 100), 3, 0},                 // a Chinese character is a word
		{"Côte d'Ivoire", 8, 6},
	} {
		if n, at := LongestWord(tc.text); n != tc.n || at != tc.at {
			t.Errorf("LongestWord(%.40q) = %d at %d, want %d at %d", tc.text, n, at, tc.n, tc.at)
		}
	}
}
