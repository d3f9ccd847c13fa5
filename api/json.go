package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/rs/zerolog/hlog"
)

// writeJSON encodes v before committing the status, so that an encoding
// failure is still a clean 500.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // highlights carry <mark>; keep them readable
	if err := enc.Encode(v); err != nil {
		// A value JSON cannot hold (NaN, an infinity) is a bug; the answer
		// still has the API's shape and type.
		hlog.FromRequest(r).Error().Err(err).Msg("encode response")
		internal, _ := json.Marshal(map[string]*Error{"error": {Code: codeInternal, Message: "internal error; it has been logged",
			RequestID: RequestID(r.Context())}})
		internal = append(internal, '\n')
		w.Header().Del("ETag") // not an answer of the tag's index
		w.Header().Del("Cache-Control")
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(internal)))
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write(internal)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// writeError answers err, logging server errors at error level and client
// errors at debug level. Not being ready (unavailable: starting, building
// the index, shutting down) is a state, not a failure: debug level too,
// or every probe of a load balancer during a first build would log an
// error.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := toError(err)
	if ae.Status >= 500 && ae.Code != codeUnavailable {
		hlog.FromRequest(r).Error().Err(err).Int("status", ae.Status).Msg("request failed")
	} else {
		hlog.FromRequest(r).Debug().Err(err).Int("status", ae.Status).Msg("request refused")
	}
	if ae.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(ae.RetryAfter))
	}
	if code, ok := r.Context().Value(codeKey{}).(*string); ok {
		*code = ae.Code // for the metrics of refusals (observe)
	}
	answer := *ae // a copy: errors may be shared values
	answer.RequestID = RequestID(r.Context())
	writeJSON(w, r, ae.Status, struct {
		Error *Error `json:"error"`
	}{&answer})
}
