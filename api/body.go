package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
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

// decodeBody decodes r's JSON body, of at most MaxBodyBytes, into v:
// unknown fields and a second value are errors, as an unknown query
// parameter is. emptyParam names what an empty body lacks.
func decodeBody(r *http.Request, v any, emptyParam, emptyHint string) *Error {
	if err := checkContentType(r, "application/json"); err != nil {
		return err
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return &Error{Status: http.StatusRequestEntityTooLarge, Code: codeTooLarge, Message: "the request body is larger than 64 KiB"}
		case errors.Is(err, io.EOF):
			return &Error{Status: http.StatusBadRequest, Code: codeInvalid, Param: emptyParam, Message: "the body is empty; send " + emptyHint}
		}
		msg := err.Error()
		if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			return &Error{Status: http.StatusBadRequest, Code: codeUnknownParam, Param: strings.Trim(f, `"`),
				Message: "unknown field " + f + " in the body"}
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return typeError(te)
		}
		return &Error{Status: http.StatusBadRequest, Code: codeInvalid, Message: "the body is not valid JSON for this endpoint: " + msg}
	}
	// Only white space may follow: More would let a stray "]" or "}" pass.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &Error{Status: http.StatusBadRequest, Code: codeInvalid, Message: "the body holds more than one JSON value, or text after it"}
	}
	return nil
}

// typeError is the 400 for a body field of the wrong JSON type, or a
// number its field cannot hold: it names the field by its path in the
// body ("size", "weights.topic") and what the field takes, in JSON's
// words rather than Go's.
func typeError(te *json.UnmarshalTypeError) *Error {
	want := "a " + te.Type.Kind().String()
	switch te.Type.Kind() {
	case reflect.Float32, reflect.Float64:
		want = "a number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		want = "a whole number"
	case reflect.String:
		want = "a string"
	case reflect.Bool:
		want = "true or false"
	case reflect.Slice, reflect.Array:
		want = "a list"
	case reflect.Struct, reflect.Map:
		want = "an object"
	}
	if n, ok := strings.CutPrefix(te.Value, "number "); ok && (want == "a number" || want == "a whole number") {
		if want == "a whole number" && strings.ContainsAny(n, ".eE") {
			return badParam(te.Field, "must be a whole number, got %s", n)
		}
		// The right type, but beyond what the field holds (1e309).
		return badParam(te.Field, "is out of range: got %s", n)
	}
	return badParam(te.Field, "must be %s, got %s", want, te.Value)
}
