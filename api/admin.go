package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/gorilla/mux"
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
}

const codeUnauthorized = "unauthorized"

// installAdmin registers the admin routes.
func (s *Server) installAdmin(r *mux.Router) {
	r.Handle("/admin/reload", http.HandlerFunc(s.handleReload)).Methods(http.MethodPost)
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
// unauthenticated caller cannot even learn which admin routes exist.
func (s *Server) adminAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/admin/") && r.URL.Path != "/admin" {
			next.ServeHTTP(w, r)
			return
		}
		if s.cfg.Admin == nil || !s.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="newsdesk admin"`)
			writeError(w, r, &Error{Status: http.StatusUnauthorized, Code: codeUnauthorized,
				Message: "admin routes need the header Authorization: Bearer <key>"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	const prefix = "Bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return false
	}
	// Hashing first makes the comparison take the same time whatever the
	// lengths.
	got, want := sha256.Sum256([]byte(h[len(prefix):])), sha256.Sum256([]byte(s.cfg.Admin.Key))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}
