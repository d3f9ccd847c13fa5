package ingest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// eventFields are the fields of an event in the events.jsonl schema.
var eventFields = []string{"id", "date", "category", "topic", "context", "text", "sources"}

// RepeatedKey returns a key that the JSON object b (already known to be
// valid JSON) gives more than once at its top level, compared as
// encoding/json matches a struct's fields: in any case, by Unicode simple
// folding (ſources is sources). encoding/json keeps the last value of a
// repeated key, so that {"delete": "a", "delete": "b"} would delete b
// alone, where the writer meant something else.
func RepeatedKey(b []byte) (string, bool) { return repeatedKey(b, nil, nil) }

// foldedEventFields are eventFields as foldName folds them.
var foldedEventFields = func() []string {
	out := make([]string, len(eventFields))
	for i, f := range eventFields {
		out[i] = foldName(f)
	}
	return out
}()

// repeatedKey is RepeatedKey among the fields whose folded names are
// folded (all keys when nil), reported by their names: the keys of no
// field are a file's own, never read, and repeating them is no mistake to
// report ({"text": "A", "text": "B"} would be filed as B). It scans the
// bytes once without decoding the values: it runs for every line of a
// build.
func repeatedKey(b []byte, folded, names []string) (string, bool) {
	var seen [8]string // an event has 7 fields; more spill into extra
	var extra []string
	n := 0
	depth := 0
	expectKey := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '{':
			depth++
			expectKey = depth == 1
		case '[':
			depth++
		case '}', ']':
			depth--
		case ',':
			expectKey = depth == 1
		case '"':
			start := i
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if !expectKey {
				continue
			}
			expectKey = false
			raw := string(b[start+1 : i])
			if strings.IndexByte(raw, '\\') >= 0 {
				if json.Unmarshal(b[start:i+1], &raw) != nil {
					continue
				}
			}
			key, name := foldName(raw), strings.ToLower(raw)
			if folded != nil {
				j := slices.Index(folded, key)
				if j < 0 {
					continue
				}
				name = names[j]
			}
			if slices.Contains(seen[:n], key) || slices.Contains(extra, key) {
				return name, true
			}
			if n < len(seen) {
				seen[n] = key
				n++
			} else {
				extra = append(extra, key)
			}
		}
	}
	return "", false
}

// foldName folds a JSON key as encoding/json does to match it to a
// field: ASCII letters upper-cased, other runes to the smallest of their
// simple-folding orbit.
func foldName(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		ascii = ascii && s[i] < utf8.RuneSelf
	}
	if ascii {
		return strings.ToUpper(s) // no copy when it has no lower-case letter
	}
	var b strings.Builder
	for _, r := range s {
		if r < utf8.RuneSelf {
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			continue
		}
		for {
			r2 := unicode.SimpleFold(r)
			if r2 <= r {
				r = r2
				break
			}
			r = r2
		}
		b.WriteRune(r)
	}
	return b.String()
}

// UnknownField returns a key of the JSON object b (already known to be
// valid) that is no field of an event, or of a source of its sources
// ("sources[0].link"), in any case: what the
// bulk API refuses, since a misspelt field ("contxt") would otherwise
// drop its value without a word. Files may carry fields of their own.
func UnknownField(b []byte) (string, bool) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(b, &obj) != nil {
		return "", false
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(foldedEventFields, foldName(k)) {
			return k, true
		}
	}
	// A source's fields too: {"name": "BBC", "link": "…"} stored the
	// source without its URL.
	for _, k := range keys {
		if foldName(k) != foldName("sources") {
			continue
		}
		var sources []map[string]json.RawMessage
		if json.Unmarshal(obj[k], &sources) != nil {
			return "", false // not a list of objects: decoding says so
		}
		for i, src := range sources {
			names := make([]string, 0, len(src))
			for n := range src {
				names = append(names, n)
			}
			slices.Sort(names)
			for _, n := range names {
				if f := foldName(n); f != foldName("name") && f != foldName("url") {
					return fmt.Sprintf("%s[%d].%s", k, i, n), true
				}
			}
		}
	}
	return "", false
}
