package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog/hlog"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/ingest"
)

// Admin configures the /admin/ routes. Every one of them needs the header
// "Authorization: Bearer KEY".
type Admin struct {
	// Key is the bearer key; required. It is compared in constant time
	// and never logged.
	Key string
	// Reload loads the published generation now (POST /admin/reload) and
	// returns what it did.
	Reload func(ctx context.Context) (any, error)
	// Bulk applies updates to the served index (POST /admin/events/_bulk)
	// and returns the result of each: created, updated, deleted or
	// not_found. An error means nothing was applied, unless it wraps
	// ErrAccepted (with the results).
	Bulk func(ctx context.Context, updates []Update) ([]string, error)
}

// ErrAccepted, wrapped by an Admin.Bulk error that comes with results,
// says the updates are durable (journaled: every restart and rebuild
// applies them) but not visible to searches yet. The answer is 202, each
// such line's result "accepted".
var ErrAccepted = errors.New("updates accepted, not visible yet")

const codeUnauthorized = "unauthorized"

// installAdmin registers the admin routes.
func (s *Server) installAdmin(r *mux.Router) {
	r.Handle("/admin/reload", http.HandlerFunc(s.handleReload)).Methods(http.MethodPost)
	r.Handle("/admin/events/_bulk", http.HandlerFunc(s.handleBulk)).Methods(http.MethodPost)
}

func (s *Server) handleReload(w http.ResponseWriter, r *http.Request) {
	if _, err := parseParams(r, nil, nil); err != nil {
		writeError(w, r, err)
		return
	}
	res, err := s.cfg.Admin.Reload(r.Context())
	if err != nil {
		writeError(w, r, &Error{Status: http.StatusConflict, Code: "generation_refused", Message: err.Error()})
		return
	}
	writeJSON(w, r, http.StatusOK, res)
}

// adminAuth guards every path under /admin/, known or not, so that an
// unauthenticated caller cannot even learn which admin routes exist; and
// /metrics when Config.MetricsKey is set.
func (s *Server) adminAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, what := true, ""
		switch {
		case strings.HasPrefix(r.URL.Path, "/admin/") || r.URL.Path == "/admin":
			// One answer whether the routes are off or the key is
			// wrong: a caller without the key learns nothing, and one
			// holding it learns to look at the server's -admin too.
			ok, what = s.cfg.Admin != nil && authorized(r, s.cfg.Admin.Key), "admin routes need searchd started with -admin, and"
		case r.URL.Path == "/metrics" && s.cfg.MetricsKey != "":
			ok, what = authorized(r, s.cfg.MetricsKey), "/metrics needs"
		}
		if !ok {
			// Counted as the admin routes, without saying which, or as
			// /metrics: "unmatched" mixed them with 404s.
			route := "/admin/"
			if r.URL.Path == "/metrics" {
				route = "/metrics"
			}
			nameRoute(r, route)
			w.Header().Set("WWW-Authenticate", `Bearer realm="newsdesk admin"`)
			writeError(w, r, &Error{Status: http.StatusUnauthorized, Code: codeUnauthorized,
				Message: what + " the header Authorization: Bearer <key>"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// authorized reports whether r carries "Authorization: Bearer key".
func authorized(r *http.Request, key string) bool {
	h := r.Header.Get("Authorization")
	const prefix = "Bearer "
	if key == "" || len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return false
	}
	// Hashing first makes the comparison take the same time whatever the
	// lengths.
	got, want := sha256.Sum256([]byte(h[len(prefix):])), sha256.Sum256([]byte(key))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// utf8BOM is the byte-order mark some editors begin a UTF-8 file with.
var utf8BOM = []byte("\xef\xbb\xbf")

// MaxBulkBytes is the largest bulk request body; other bodies are limited
// to MaxBodyBytes.
const MaxBulkBytes = 16 << 20

// Update is one line of a bulk request: {"upsert": EVENT} or
// {"delete": "ID"}, exactly one of them.
type Update struct {
	Upsert *newsdesk.Event `json:"upsert,omitempty"`
	Delete string          `json:"delete,omitempty"`
}

// BulkItem is the answer to one line of a bulk request.
type BulkItem struct {
	Line   int    `json:"line"`
	Op     string `json:"op,omitempty"` // upsert or delete
	ID     string `json:"id,omitempty"`
	Status int    `json:"status"` // 200 updated or deleted, 201 created, 404 not found, 400 bad line
	Result string `json:"result"` // created, updated, deleted, not_found or error
	Error  string `json:"error,omitempty"`
}

// BulkResult is the answer of POST /admin/events/_bulk: one item per line
// that is not blank, in order.
type BulkResult struct {
	TookMS int64      `json:"took_ms"`
	Errors bool       `json:"errors"` // some line was not applied
	Items  []BulkItem `json:"items"`
}

func (s *Server) handleBulk(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	// A body of up to 16 MiB is applied in one batch, which may take
	// longer than the server's write timeout, set for searches: the
	// answer must reach the client, who is otherwise told nothing of
	// updates applied and journaled.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	if _, err := parseParams(r, nil, nil); err != nil {
		writeError(w, r, err)
		return
	}
	if err := checkContentType(r, "application/x-ndjson", "application/ndjson", "application/json"); err != nil {
		writeError(w, r, err)
		return
	}
	res := BulkResult{Items: []BulkItem{}}
	var updates []Update
	var lines []int // index into res.Items of each update
	// Lines, not bufio.Scanner: a line over ingest.MaxLineLen is one bad
	// item, and the lines after it are still read and applied.
	body := ingest.NewLines(r.Body)
	for n := 1; ; n++ {
		line, size, err := body.Next()
		if err != nil && !errors.Is(err, io.EOF) {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				writeError(w, r, &Error{Status: http.StatusRequestEntityTooLarge, Code: codeTooLarge, Message: fmt.Sprintf("the bulk body is larger than %d MiB; send it in parts", MaxBulkBytes>>20)})
				return
			}
			writeError(w, r, &Error{Status: http.StatusBadRequest, Code: codeInvalid, Message: "reading the body: " + err.Error()})
			return
		}
		if n == 1 {
			line = bytes.TrimPrefix(line, utf8BOM) // as some editors save a file; the files' readers skip it too
		}
		if size > ingest.MaxLineLen {
			res.Items = append(res.Items, BulkItem{Line: n, Status: http.StatusBadRequest, Result: "error",
				Error: fmt.Sprintf("line %d is %d bytes, longer than the %d-byte limit of a line", n, size, ingest.MaxLineLen)})
			res.Errors = true
		} else if line = bytes.TrimSpace(line); len(line) > 0 {
			u, item := parseBulkLine(n, line)
			if item.Result == "error" {
				res.Items = append(res.Items, item)
				res.Errors = true
			} else {
				lines = append(lines, len(res.Items))
				res.Items = append(res.Items, item)
				updates = append(updates, u)
			}
		}
		if err != nil { // io.EOF: the body is read
			break
		}
	}
	if len(updates) > 0 {
		results, err := s.cfg.Admin.Bulk(r.Context(), updates)
		accepted := errors.Is(err, ErrAccepted) && len(results) == len(updates)
		if err != nil && !accepted {
			writeError(w, r, err)
			return
		}
		for i, result := range results {
			it := &res.Items[lines[i]]
			it.Result = result
			switch {
			case accepted && result != "not_found":
				it.Status, it.Result, it.Error, res.Errors = http.StatusAccepted, "accepted", err.Error(), true
			case result == "created":
				it.Status = http.StatusCreated
			case result == "not_found":
				it.Status, it.Error, res.Errors = http.StatusNotFound, "no event with this id", true
			default:
				it.Status = http.StatusOK
			}
		}
		if accepted {
			hlog.FromRequest(r).Error().Err(err).Msg("bulk updates journaled, not visible")
			res.TookMS = time.Since(start).Milliseconds()
			writeJSON(w, r, http.StatusAccepted, res)
			return
		}
	}
	if len(res.Items) == 0 {
		writeError(w, r, &Error{Status: http.StatusBadRequest, Code: codeInvalid, Message: `the body holds no line; send one JSON object per line: {"upsert": EVENT} or {"delete": "ID"}`})
		return
	}
	res.TookMS = time.Since(start).Milliseconds()
	writeJSON(w, r, http.StatusOK, res)
}

// maxEchoedID is the most of a delete's id a bulk answer echoes.
const maxEchoedID = 1024

// echoID returns id for a bulk answer's item: whole up to most bytes,
// else its first most bytes (whole characters) and "…".
func echoID(id string, most int) string {
	if len(id) <= most {
		return id
	}
	return strings.ToValidUTF8(id[:most], "") + "…"
}

// parseBulkLine reads {"upsert": EVENT} or {"delete": "ID"}.
func parseBulkLine(n int, line []byte) (Update, BulkItem) {
	item := BulkItem{Line: n}
	fail := func(format string, args ...any) (Update, BulkItem) {
		item.Status, item.Result, item.Error = http.StatusBadRequest, "error", fmt.Sprintf(format, args...)
		return Update{}, item
	}
	// Bad bytes are refused where they are on the line, whatever the
	// operation: an upsert's were counted from its event, and a delete's
	// id read with U+FFFD in their place (a 404 for an id never sent).
	if at := ingest.InvalidUTF8At(line); at >= 0 {
		return fail("invalid UTF-8 at byte %d of the line", at+1)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(line, &raw); err != nil {
		return fail("not a JSON object: %v", err)
	}
	if k, ok := ingest.RepeatedKey(line); ok {
		return fail(`a line holds exactly one operation; %q is given more than once`, k)
	}
	if len(raw) != 1 {
		return fail(`a line holds exactly one of {"upsert": EVENT} or {"delete": "ID"}, got %d keys`, len(raw))
	}
	for op, v := range raw {
		item.Op = op
		switch op {
		case "upsert":
			// The id, when it reads, names the event refused as well as
			// the line does: indexer push reports by it.
			var head struct {
				ID any `json:"id"`
			}
			if json.Unmarshal(v, &head) == nil {
				if id, ok := head.ID.(string); ok {
					// Not yet checked: a 200,000-byte id is cut, past the
					// longest a valid one can be, so that every valid id
					// comes back whole.
					item.ID = echoID(strings.TrimSpace(id), len("YYYY-MM-DD/")+newsdesk.MaxSlugLen)
				}
			}
			e, err := ingest.DecodeEvent(v)
			if err != nil {
				return fail("upsert: %v", err)
			}
			if k, ok := ingest.UnknownField(v); ok {
				return fail("upsert: unknown field %q; an event has id, date, text, topic, category, context and sources (a source, name and url)", k)
			}
			item.ID = e.ID
			return Update{Upsert: &e}, item
		case "delete":
			var id string
			if err := json.Unmarshal(v, &id); err != nil || strings.TrimSpace(id) == "" {
				return fail(`delete: want an event id string, got %s`, clip(string(v)))
			}
			id = strings.TrimSpace(id) // as an upsert's id is
			// Any id is deleted, an event's of before ids were checked
			// too; the answer does not echo a megabyte of one.
			item.ID = echoID(id, maxEchoedID)
			return Update{Delete: id}, item
		}
		item.Op = ""
		return fail(`unknown operation %q; use "upsert" or "delete"`, op)
	}
	return fail("empty line")
}
