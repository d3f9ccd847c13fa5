package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/newsdesk/newsdesk/ingest"
)

// curlForm is the Content-Type curl sends with -d unless told otherwise.
// The JSON endpoints take it as JSON: a caller of the API from a shell
// should not need -H to be understood, and a body that is really a form
// is not valid JSON and gets the 400 that says so. It opens nothing to
// browsers that they could not do already: a page of another origin may
// send such a POST without asking (a "simple" request), but the search
// and related endpoints only read and it cannot read their answers, and
// the admin routes need an Authorization header, which such a request
// cannot carry.
const curlForm = "application/x-www-form-urlencoded"

// checkContentType answers whether r's body may be read as one of the
// media types in want (the first is the one named to the caller): no
// Content-Type, one of want, or curl's default. Otherwise it returns the
// 415 to answer, naming the type to send.
func checkContentType(r *http.Request, want ...string) *Error {
	// A compressed body would be read as its bytes ("invalid character
	// '\x1f'"), and plain JSON labelled gzip taken.
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return &Error{Status: http.StatusUnsupportedMediaType, Code: codeInvalid, Param: "Content-Encoding",
			Message: "the body is encoded " + quote(ce) + "; send it uncompressed, without Content-Encoding"}
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil {
		if mt == curlForm {
			return nil
		}
		for _, w := range want {
			if mt == w {
				return nil
			}
		}
	}
	return &Error{Status: http.StatusUnsupportedMediaType, Code: codeInvalid, Param: "Content-Type",
		Message: "the body is " + quote(ct) + "; send it as " + want[0] + " (Content-Type: " + want[0] + ")"}
}

// bufferBody reads r's body (of at most MaxBodyBytes, as the routes
// limit it) into memory, where handlers read it from.
func bufferBody(r *http.Request) *Error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	data, err := readBody(r)
	if err != nil {
		return err
	}
	r.Body = io.NopCloser(bytes.NewReader(data))
	return nil
}

// readBody reads r's body, of at most MaxBodyBytes.
func readBody(r *http.Request) ([]byte, *Error) {
	data, err := io.ReadAll(r.Body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, &Error{Status: http.StatusRequestEntityTooLarge, Code: codeTooLarge, Message: "the request body is larger than 64 KiB"}
	}
	if err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Code: codeInvalid, Message: "reading the body: " + err.Error()}
	}
	return data, nil
}

// decodeBody decodes r's JSON body, of at most MaxBodyBytes, into v:
// unknown fields and a second value are errors, as an unknown query
// parameter is. emptyParam names what an empty body lacks.
func decodeBody(r *http.Request, v any, emptyParam, emptyHint string) *Error {
	if err := checkContentType(r, "application/json"); err != nil {
		return err
	}
	data, rerr := readBody(r)
	if rerr != nil {
		return rerr
	}
	// encoding/json would read bad bytes as U+FFFD, and search for what
	// the same q in a URL is refused for.
	if at := ingest.InvalidUTF8At(data); at >= 0 {
		return &Error{Status: http.StatusBadRequest, Code: codeInvalid, Message: fmt.Sprintf("the body is not valid UTF-8 (at byte %d)", at+1)}
	}
	dec := json.NewDecoder(bytes.NewReader(wholeNumbers(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return &Error{Status: http.StatusBadRequest, Code: codeInvalid, Param: emptyParam, Message: "the body is empty; send " + emptyHint}
		}
		msg := err.Error()
		if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			return &Error{Status: http.StatusBadRequest, Code: codeUnknownParam, Param: strings.Trim(f, `"`),
				Message: "unknown field " + f + " in the body"}
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			path, declared := ingest.JSONPath(reflect.TypeOf(v), te.Field)
			return typeError(te, path, declared)
		}
		if errors.As(err, &te) { // the body itself: not Go's "value of type api.SearchBody"
			return &Error{Status: http.StatusBadRequest, Code: codeInvalid, Message: "the body must be a JSON object, got " + jsonKind(te.Value)}
		}
		return &Error{Status: http.StatusBadRequest, Code: codeInvalid, Message: "the body is not valid JSON for this endpoint: " + msg}
	}
	// Only white space may follow: More would let a stray "]" or "}" pass.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &Error{Status: http.StatusBadRequest, Code: codeInvalid, Message: "the body holds more than one JSON value, or text after it"}
	}
	// encoding/json matches field names in any case: "Q" would set q,
	// and {"q": "war", "Q": "x"} search for x.
	return exactKeys(data, reflect.TypeOf(v), "")
}

// exactKeys checks that every key of the JSON object data (and of the
// objects in it) is a field name of t, a struct, as spelled; prefix is
// the path of data in the body.
func exactKeys(data []byte, t reflect.Type, prefix string) *Error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) != nil {
		return nil // not an object (null): the decoding judged it
	}
	if k, ok := repeatedKey(data); ok {
		// encoding/json keeps the last: {"q": "syria", "q": "brexit"}
		// searched brexit, where q twice in a URL is refused.
		return &Error{Status: http.StatusBadRequest, Code: codeInvalid, Param: prefix + k,
			Message: "field " + quote(prefix+k) + " is given more than once in the body"}
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	fields := jsonFields(t)
	for _, k := range keys {
		ft, ok := fields[k]
		if !ok {
			return &Error{Status: http.StatusBadRequest, Code: codeUnknownParam, Param: prefix + k,
				Message: "unknown field " + quote(prefix+k) + " in the body (field names are lower case, as documented)"}
		}
		if err := exactKeys(obj[k], ft, prefix+k+"."); err != nil {
			return err
		}
	}
	return nil
}

// jsonFields returns the JSON names of struct t's fields, with their
// types; an embedded struct without a name of its own gives its fields.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for n, ft := range jsonFields(f.Type) {
				out[n] = ft
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// typeError is the 400 for a body field of the wrong JSON type, or a
// number its field cannot hold: it names the field by its path in the
// body ("size", "weights.topic") and what the field takes, in JSON's
// words rather than Go's.
func typeError(te *json.UnmarshalTypeError, path string, declared reflect.Type) *Error {
	want, got := ingest.TypeMismatch(declared, te)
	field := strings.ReplaceAll(path, "[]", "") // the parameter: context, not context[]
	if n, ok := strings.CutPrefix(te.Value, "number "); ok && (want == "a number" || want == "a whole number") {
		if want == "a whole number" && strings.ContainsAny(n, ".eE") {
			if f, err := strconv.ParseFloat(n, 64); err == nil && f == math.Trunc(f) && math.Abs(f) >= 1<<53 {
				// Whole, but past where a float says which integer: 1e16
				// was "not a whole number" (a review's finding).
				return badParam(field, "must be written in digits past 2^53 (9007199254740992), where a number with a fraction or an exponent names no exact whole number, got %s", n)
			}
			return badParam(field, "must be a whole number, got %s", n)
		}
		// The right type, but beyond what the field holds (1e309).
		return badParam(field, "is out of range: got %s", n)
	}
	return badParam(field, "must be %s, got %s", want, got)
}

// wholeNumbers returns data with each number written with a fraction or
// an exponent whose value is whole ("size": 5.0, 1e2) written as the
// integer it is: JSON has one kind of number, and clients that hold every
// number as a float (Python's json.dumps(5.0), many JavaScript libraries)
// send 5.0 for 5, which encoding/json refuses for a Go int. A number
// with a fraction (1.5) stays, to be refused for a whole-number field;
// beyond 2^53 a float no longer says which integer was meant, so those
// stay too. Invalid JSON is returned as it is, so that its error's
// offset is the one in the body sent.
func wholeNumbers(data []byte) []byte {
	if !json.Valid(data) || !bytes.ContainsAny(data, ".eE") {
		return data
	}
	var out []byte
	last, inString := 0, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case inString:
			if c == '\\' {
				i++
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == '-' || c >= '0' && c <= '9':
			j := i
			for j < len(data) && strings.IndexByte("+-0123456789.eE", data[j]) >= 0 {
				j++
			}
			lit := data[i:j]
			if bytes.ContainsAny(lit, ".eE") {
				if f, err := strconv.ParseFloat(string(lit), 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
					out = append(out, data[last:i]...)
					out = strconv.AppendInt(out, int64(f), 10)
					last = j
				}
			}
			i = j - 1
		}
	}
	if out == nil {
		return data
	}
	return append(out, data[last:]...)
}

// repeatedKey returns the first key that the JSON object data holds
// twice, if any.
func repeatedKey(data []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", false
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return "", false
		}
		k, _ := t.(string)
		if seen[k] {
			return k, true
		}
		seen[k] = true
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return "", false
		}
	}
	return "", false
}

// jsonKind names the JSON kind encoding/json reports a value as ("array",
// "string", "number 5"), with its article.
func jsonKind(v string) string {
	switch {
	case v == "array" || v == "object":
		return "an " + v
	case strings.HasPrefix(v, "number"):
		return "a number"
	case v == "bool":
		return "true or false"
	case v == "":
		return "something else"
	}
	return "a " + v
}
