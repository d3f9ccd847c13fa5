package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/newsdesk/newsdesk"
)

const testKey = "s3cret-admin-key-0123456789"

// TestAdminAuth walks every registered route: each admin route answers 401
// without the key and with a wrong one, and works with the right one.
func TestAdminAuth(t *testing.T) {
	var logs bytes.Buffer
	reloads := 0
	s := newServer(Config{Logger: zerolog.New(&logs).Level(zerolog.DebugLevel), Admin: &Admin{Key: testKey,
		Reload: func(context.Context) (any, error) { reloads++; return map[string]bool{"swapped": false}, nil }}})
	type route struct{ path, method string }
	var admin []route
	err := s.router.Walk(func(r *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tmpl, _ := r.GetPathTemplate()
		methods, _ := r.GetMethods()
		if strings.HasPrefix(tmpl, "/admin") {
			for _, m := range methods {
				admin = append(admin, route{tmpl, m})
			}
		}
		return nil
	})
	if err != nil || len(admin) == 0 {
		t.Fatalf("walk found %d admin routes (%v)", len(admin), err)
	}
	admin = append(admin, route{"/admin/no-such-route", http.MethodGet}, route{"/admin", http.MethodGet})
	for _, rt := range admin {
		for _, auth := range []string{"", "Bearer wrong-key", "Bearer " + testKey + "x", "Basic " + testKey, testKey, "Bearer "} {
			req := httptest.NewRequest(rt.method, rt.path, nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), codeUnauthorized) || rec.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s with %q: %d %s, want 401", rt.method, rt.path, auth, rec.Code, rec.Body.String())
			}
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/admin/reload", nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || reloads != 1 {
		t.Errorf("reload with the key: %d %s, %d reloads", rec.Code, rec.Body.String(), reloads)
	}
	if strings.Contains(logs.String(), testKey) || strings.Contains(logs.String(), "wrong-key") {
		t.Errorf("a key reached the logs:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "/admin/reload") {
		t.Error("the admin requests were not logged at all")
	}
}

func TestAdminDisabled(t *testing.T) {
	s := newServer(Config{})
	req := httptest.NewRequest(http.MethodPost, "/admin/reload", nil)
	req.Header.Set("Authorization", "Bearer anything")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("admin route without -admin: %d", rec.Code)
	}
}

// TestBulk_Outcomes checks what a bulk request answers for each outcome
// of applying it: applied, refused for want of disk space (nothing
// applied), failed (nothing applied), or journaled but not visible.
func TestBulk_Outcomes(t *testing.T) {
	body := `{"upsert": {"id": "2019-06-01/a-flamingo-escapes", "date": "2019-06-01", "text": "A flamingo escapes."}}` + "\n" +
		`{"delete": "2019-06-01/never-there"}` + "\n"
	tests := []struct {
		name       string
		results    []string
		err        error
		wantStatus int
		wantBody   []string
	}{
		{"applied", []string{"created", "not_found"}, nil, http.StatusOK, []string{`"result":"created"`, `"status":404`}},
		{"disk full", nil, fmt.Errorf("update refused: %w", newsdesk.ErrNoSpace), http.StatusInsufficientStorage,
			[]string{`"code":"insufficient_storage"`, "nothing was applied"}},
		{"failed", nil, errors.New("journal: input/output error"), http.StatusInternalServerError, []string{`"code":"internal"`}},
		{"journaled, not visible", []string{"created", "not_found"}, fmt.Errorf("%w: reopening failed", ErrAccepted), http.StatusAccepted,
			[]string{`"result":"accepted","error":"updates accepted, not visible yet: reopening failed"`, `"status":202`, `"result":"not_found"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(Config{Admin: &Admin{Key: testKey, Bulk: func(context.Context, []Update) ([]string, error) { return tc.results, tc.err }}})
			req := httptest.NewRequest(http.MethodPost, "/admin/events/_bulk", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+testKey)
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus {
				t.Errorf("status %d, want %d: %s", rec.Code, tc.wantStatus, rec.Body.String())
			}
			for _, want := range tc.wantBody {
				if !strings.Contains(rec.Body.String(), want) {
					t.Errorf("body %s lacks %s", rec.Body.String(), want)
				}
			}
		})
	}
}
