package ingest

import (
	"encoding/json"
	"slices"
	"strings"
)

// RepeatedKey returns a key that the JSON object b (already known to be
// valid JSON) gives more than once at its top level, compared as
// encoding/json matches a struct's fields: in any case. encoding/json
// keeps the last value of a repeated key, so that {"text": "A", "text":
// "B"} would be filed as B and {"delete": "a", "delete": "b"} delete b
// alone, where the writer meant something else. It scans the bytes once,
// without decoding the values: it runs for every line of a build.
func RepeatedKey(b []byte) (string, bool) {
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
			key := string(b[start+1 : i])
			if strings.IndexByte(key, '\\') >= 0 {
				if json.Unmarshal(b[start:i+1], &key) != nil {
					continue
				}
			}
			key = strings.ToLower(key)
			if n < len(seen) {
				for _, k := range seen[:n] {
					if k == key {
						return key, true
					}
				}
				seen[n] = key
				n++
				continue
			}
			for _, k := range seen {
				if k == key {
					return key, true
				}
			}
			for _, k := range extra {
				if k == key {
					return key, true
				}
			}
			extra = append(extra, key)
		}
	}
	return "", false
}

// eventFields are the fields of an event in the events.jsonl schema.
var eventFields = []string{"id", "date", "category", "topic", "context", "text", "sources"}

// UnknownField returns a top-level key of the JSON object b (already
// known to be valid) that is no field of an event, in any case: what the
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
		if !slices.Contains(eventFields, strings.ToLower(k)) {
			return k, true
		}
	}
	return "", false
}
