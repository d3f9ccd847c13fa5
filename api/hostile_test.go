package api

import (
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// hostileQueries returns n search box inputs meant to break a parser: long
// ones, deep and unbalanced quotes, wildcards and regular expressions,
// operators alone, control characters, invalid UTF-8, field syntax abuse,
// and random bytes. The seed is fixed, so the list is the same each run.
func hostileQueries(n int) []string {
	fixed := []string{
		"*a*", "/.*/", "*", "**", "?", "a*", "ab*", "abc*", "*abc", "a?c", `"`, `""`, `"""`, `"a`, `a"`,
		strings.Repeat(`"`, 500), strings.Repeat(`"a `, 100), strings.Repeat("(", 500), strings.Repeat("-", 512),
		strings.Repeat("a", 512), strings.Repeat("a", 513), strings.Repeat("é", 300), strings.Repeat("a ", 40),
		"topic:", "topic:\"", `topic:"`, "context:*", "category:/.*/", `topic:"a" topic:"b" -topic:""`, ":::", "topic::x",
		"\x00", "\x00\x01\x02", "\xff\xfe\xfd", "caf\xe9", "\xed\xa0\x80", "a\u202eb", "\u200b\u200b", "𝕏𝕐ℤ", "😀 😀*",
		"NOT AND OR", "+a +b -c", "-", "+", "- -", "a:b:c:d", "\\", `\"`, "%00", "<script>alert(1)</script>",
		"' OR 1=1 --", "${jndi:ldap://x}", "../../etc/passwd", "a\nb\rc\td", "\t\t", strings.Repeat("\u00a0", 10),
	}
	rng := rand.New(rand.NewPCG(2026, 11))
	alphabet := []rune(`abc xyz"*?-+:/\.()[]{}~^!|&é😀` + "\x00\x01\t\n")
	out := append([]string(nil), fixed...)
	for len(out) < n {
		switch rng.IntN(3) {
		case 0: // random runes from a hostile alphabet
			r := make([]rune, rng.IntN(80))
			for i := range r {
				r[i] = alphabet[rng.IntN(len(alphabet))]
			}
			out = append(out, string(r))
		case 1: // random bytes, often invalid UTF-8
			b := make([]byte, rng.IntN(60))
			for i := range b {
				b[i] = byte(rng.IntN(256))
			}
			out = append(out, string(b))
		default: // long mixtures
			var sb strings.Builder
			for sb.Len() < 400+rng.IntN(300) {
				sb.WriteString([]string{`"`, "*", "a", "topic:", "-", " ", "?", "peace", "/", "astan*"}[rng.IntN(10)])
			}
			out = append(out, sb.String())
		}
	}
	return out[:n]
}

// TestHostileQueries replays 1,000 hostile q strings: each must get 200 or
// 400, never a 5xx, and within the per-request deadline.
func TestHostileQueries(t *testing.T) {
	const deadline = 2 * time.Second
	s := newServer(Config{Timeout: deadline})
	counts := map[int]int{}
	for _, q := range hostileQueries(1000) {
		rec := httptest.NewRecorder()
		start := time.Now()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/search?facets=5&highlight=true&q="+url.QueryEscape(q), nil))
		took := time.Since(start)
		counts[rec.Code]++
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Errorf("q=%q: status %d: %s", q, rec.Code, rec.Body.String())
		}
		if took > deadline {
			t.Errorf("q=%q took %v, past the %v deadline", q, took, deadline)
		}
	}
	t.Logf("statuses: %v", counts)
}
