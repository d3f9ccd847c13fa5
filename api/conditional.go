package api

import (
	"fmt"
	"hash/fnv"
	"net/http"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk/version"
)

// Conditional GETs. An answer of the read endpoints (search, suggest, an
// event, its related list) depends only on its URL, the served index (its
// generation, how far its journal of updates is applied, and what is
// derived from it in the background: Config.Derived) and the server's
// build (buildTag). Such an answer carries a weak ETag made of
// those, with "Cache-Control: no-cache" (a cache may keep it, and asks
// again each time), and a GET or HEAD whose If-None-Match names the
// current tag gets 304 Not Modified at once: no search and no in-flight
// slot. A related widget shown on every page view, behind a CDN or a
// browser's cache, then costs a search only when the index changes.
// Since the URL is in the tag, a client holds a tag only from a 200 of
// the same request: an error (a bad parameter, an unknown event) has no
// tag, and its request never gets 304. "*" matches any answer, so it is
// answered 304 only after the request succeeded (RFC 9110, 13.1.2:
// preconditions apply only to what would be a 2xx).

// cacheControl is the Cache-Control of the answers that carry an ETag.
const cacheControl = "no-cache"

// buildTag is the build's part of the entity tags: its version when that
// names the code exactly (a release, a stamp, or a commit of a clean
// tree), so that replicas of one build agree; otherwise, as for "(devel)"
// builds, it adds the process's start, so that another build never
// shares a tag with this one over the same index (a restart then
// revalidates each cached answer once).
var buildTag = func() string {
	i := version.Get()
	if !i.Modified && (i.Version != "(devel)" || i.Revision != "") {
		return version.String()
	}
	return fmt.Sprintf("%s started %d", version.String(), time.Now().UnixNano())
}()

// etag returns the weak entity tag of the answer to r now, or "" when
// there is none: not a GET or HEAD, no Position configured, nothing
// served.
func (s *Server) etag(r *http.Request) string {
	if s.cfg.Position == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return ""
	}
	gen, seq := s.cfg.Position()
	if gen == "" {
		return ""
	}
	var derived uint64
	if s.cfg.Derived != nil {
		derived = s.cfg.Derived()
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00%d\x00%s", buildTag, gen, seq, derived, r.URL.RequestURI())
	return fmt.Sprintf(`W/"%016x"`, h.Sum64())
}

// noneMatch reads the If-None-Match headers of r: whether they name tag,
// by the weak comparison RFC 9110 prescribes for them (W/ does not
// matter), and whether they hold "*".
func noneMatch(r *http.Request, tag string) (named, star bool) {
	want := strings.TrimPrefix(tag, "W/")
	for _, v := range r.Header.Values("If-None-Match") {
		for _, t := range strings.Split(v, ",") {
			switch t = strings.TrimSpace(t); {
			case t == "*":
				star = true
			case strings.TrimPrefix(t, "W/") == want:
				named = true
			}
		}
	}
	return named, star
}

// notModified answers 304 with tag.
func notModified(w http.ResponseWriter, tag string) {
	setTag(w, tag)
	w.WriteHeader(http.StatusNotModified)
}

// setTag sets the headers of an answer with entity tag tag.
func setTag(w http.ResponseWriter, tag string) {
	w.Header().Set("ETag", tag)
	w.Header().Set("Cache-Control", cacheControl)
}
