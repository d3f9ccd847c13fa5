package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/related"
)

const astana = "2017-01-23/peace-talks-in-astana-kazakhstan-end-with-no-breakthrough-reported"

func TestRelatedByID(t *testing.T) {
	s := newServer(Config{})
	code, body, _ := get(t, s, "/v1/events/"+astana+"/related?size=3")
	if code != http.StatusOK {
		t.Fatalf("status %d: %v", code, body)
	}
	items := body["related"].([]any)
	if len(items) != 3 || body["id"] != astana {
		t.Fatalf("answer %v", body)
	}
	first := items[0].(map[string]any)
	for _, k := range []string{"id", "date", "text", "topic", "context", "reason", "score", "shared_context", "days_apart"} {
		if _, ok := first[k]; !ok {
			t.Errorf("item lacks %q: %v", k, first)
		}
	}
	for _, it := range items {
		if it.(map[string]any)["id"] == astana {
			t.Error("the event is in its own related list")
		}
	}
	if r := first["reason"].(string); !strings.Contains(r, "Syrian peace process") {
		t.Errorf("reason %q does not name the shared story", r)
	}
	code, body, _ = get(t, s, "/v1/events/"+astana+"/related?direction=after&context_weight=3&half_life_days=30")
	if code != http.StatusOK {
		t.Fatalf("with weights: status %d: %v", code, body)
	}
	for _, it := range body["related"].([]any) {
		if it.(map[string]any)["days_apart"].(float64) < 0 {
			t.Errorf("direction=after gave an earlier event: %v", it)
		}
	}
}

func TestRelatedByID_Errors(t *testing.T) {
	s := newServer(Config{})
	tests := []struct {
		target string
		status int
		param  string
	}{
		{"/v1/events/2017-01-23/no-such-event/related", http.StatusNotFound, "id"},
		{"/v1/events/" + astana + "/related?size=0", http.StatusBadRequest, "size"},
		{"/v1/events/" + astana + "/related?size=51", http.StatusBadRequest, "size"},
		{"/v1/events/" + astana + "/related?direction=up", http.StatusBadRequest, "direction"},
		{"/v1/events/" + astana + "/related?from=2017-99-01", http.StatusBadRequest, "from"},
		{"/v1/events/" + astana + "/related?from=2017-02-01&to=2017-01-01", http.StatusBadRequest, "to"},
		{"/v1/events/" + astana + "/related?text_weight=heavy", http.StatusBadRequest, "text_weight"},
		{"/v1/events/" + astana + "/related?date_floor=2", http.StatusBadRequest, "date_floor"},
		{"/v1/events/" + astana + "/related?q=x", http.StatusBadRequest, "q"},
	}
	for _, tc := range tests {
		code, body, _ := get(t, s, tc.target)
		e, _ := body["error"].(map[string]any)
		if code != tc.status || e["param"] != tc.param {
			t.Errorf("%s: %d %v, want %d for %q", tc.target, code, body, tc.status, tc.param)
		}
	}
}

func post(t *testing.T, s http.Handler, body, contentType string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/v1/related", strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("POST %s: %d, not JSON: %s", body, rec.Code, rec.Body.String())
	}
	return rec.Code, out
}

func TestRelatedDraft(t *testing.T) {
	s := newServer(Config{})
	code, body := post(t, s, `{"text": "Ceasefire talks in Astana between the Syrian opposition and the government", "date": "2017-01-25", "context": ["Astana"], "size": 2}`, "application/json")
	if code != http.StatusOK || len(body["related"].([]any)) != 2 {
		t.Fatalf("draft: %d %v", code, body)
	}
	first := body["related"].([]any)[0].(map[string]any)
	if !strings.Contains(first["text"].(string), "Astana") {
		t.Errorf("first related of an Astana draft: %v", first)
	}
	// Whole numbers written as floats (a client holding every number as
	// a float) ask for the same list.
	code, floats := post(t, s, `{"text": "Ceasefire talks in Astana between the Syrian opposition and the government", "date": "2017-01-25", "context": ["Astana"], "size": 2.0, "weights": {"max_per_day": 2.0, "candidates": 1e2}}`, "application/json")
	if a, b := floats["related"], body["related"]; code != http.StatusOK || !reflect.DeepEqual(a, b) {
		t.Errorf("draft with size 2.0: %d %v, want the list of size 2: %v", code, a, b)
	}
	tests := []struct {
		name, body, contentType string
		status                  int
		param                   string
	}{
		{"empty body", "", "application/json", http.StatusBadRequest, "text"},
		{"empty draft", `{}`, "application/json", http.StatusBadRequest, "text"},
		{"blank text", `{"text": "   "}`, "application/json", http.StatusBadRequest, "text"},
		{"not JSON", `text=hello`, "application/json", http.StatusBadRequest, ""},
		{"unknown field", `{"text": "x", "colour": "red"}`, "application/json", http.StatusBadRequest, ""},
		{"two values", `{"text": "x"} {"text": "y"}`, "application/json", http.StatusBadRequest, ""},
		{"a stray bracket after the body", `{"text": "x"}]`, "application/json", http.StatusBadRequest, ""},
		{"braces and text after the body", `{"text": "x"}}}garbage`, "application/json", http.StatusBadRequest, ""},
		{"bad date", `{"text": "x", "date": "tomorrow"}`, "application/json", http.StatusBadRequest, "date"},
		{"a long bad date", `{"text": "x", "date": "` + strings.Repeat("9", 30000) + `"}`, "application/json", http.StatusBadRequest, "date"},
		{"bad from", `{"text": "x", "from": "2017"}`, "application/json", http.StatusBadRequest, "from"},
		{"to before from", `{"text": "x", "from": "2017-02-01", "to": "2017-01-01"}`, "application/json", http.StatusBadRequest, "to"},
		{"bad size", `{"text": "x", "size": 99}`, "application/json", http.StatusBadRequest, "size"},
		{"size 0", `{"text": "x", "size": 0}`, "application/json", http.StatusBadRequest, "size"},
		{"bad weights", `{"text": "x", "weights": {"text": 1, "floor": 3, "half_life_days": 1, "max_terms": 5, "min_df": 1, "max_df_share": 0.1, "max_per_day": 1, "candidates": 10}}`, "application/json", http.StatusBadRequest, "weights.floor"},
		{"bad partial weights", `{"text": "x", "weights": {"near": -1}}`, "application/json", http.StatusBadRequest, "weights.near"},
		{"unknown weight", `{"text": "x", "weights": {"tex": 1}}`, "application/json", http.StatusBadRequest, "weights.tex"},
		{"weights not an object", `{"text": "x", "weights": [1]}`, "application/json", http.StatusBadRequest, "weights"},
		{"a weight not a number", `{"text": "x", "weights": {"topic": "x"}}`, "application/json", http.StatusBadRequest, "weights.topic"},
		{"a whole number weight with a fraction", `{"text": "x", "weights": {"max_per_day": 1.5}}`, "application/json", http.StatusBadRequest, "weights.max_per_day"},
		{"size not a number", `{"text": "x", "size": "5"}`, "application/json", http.StatusBadRequest, "size"},
		{"text not a string", `{"text": 5}`, "application/json", http.StatusBadRequest, "text"},
		{"context not strings", `{"text": "x", "context": [1]}`, "application/json", http.StatusBadRequest, "context"},
		{"a field in capitals", `{"Text": "x"}`, "application/json", http.StatusBadRequest, "Text"},
		{"a field twice, in two cases", `{"text": "x", "Text": "y"}`, "application/json", http.StatusBadRequest, "Text"},
		{"a weight in capitals", `{"text": "x", "weights": {"Topic": 1}}`, "application/json", http.StatusBadRequest, "weights.Topic"},
		{"wrong content type", `{"text": "x"}`, "text/plain", http.StatusUnsupportedMediaType, ""},
		{"too large", `{"text": "` + strings.Repeat("a", MaxBodyBytes) + `"}`, "", http.StatusRequestEntityTooLarge, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := post(t, s, tc.body, tc.contentType)
			e, _ := body["error"].(map[string]any)
			if code != tc.status || e == nil || (tc.param != "" && e["param"] != tc.param) || e["message"] == "" {
				t.Errorf("%d %v, want %d for %q", code, body, tc.status, tc.param)
			}
			if m, _ := e["message"].(string); len(m) > 300 {
				t.Errorf("a message of %d bytes: the value it quotes is not cut", len(m))
			}
		})
	}
}

// TestRelatedDraft_PartialWeights: a weights object gives any subset of
// the weights, the others keep their defaults; an empty one is the
// defaults.
func TestRelatedDraft_PartialWeights(t *testing.T) {
	s := newServer(Config{})
	const draft = `"text": "Ceasefire talks in Astana between the Syrian opposition and the government", "date": "2017-01-25", "size": 3`
	_, plain := post(t, s, `{`+draft+`}`, "application/json")
	for _, tc := range []struct {
		name, weights string
		same          bool // the same list as without weights
	}{
		{"empty", `{}`, true},
		{"one", `{"floor": 0.9}`, false},
		{"two", `{"text": 0, "context": 1}`, false},
		{"all defaults spelt out", `{"duplicate_similarity": 0.7, "max_per_day": 2}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := post(t, s, `{`+draft+`, "weights": `+tc.weights+`}`, "application/json")
			if code != http.StatusOK {
				t.Fatalf("%d %v", code, body)
			}
			if got, want := relatedIDs(body), relatedIDs(plain); tc.same && strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("weights %s gave %v, want the defaults' %v", tc.weights, got, want)
			}
		})
	}
}

func relatedIDs(body map[string]any) []string {
	var out []string
	items, _ := body["related"].([]any)
	for _, it := range items {
		out = append(out, it.(map[string]any)["id"].(string))
	}
	return out
}

// TestDateParams_Range sends dates outside newsdesk.MinDate..MaxDate to
// every endpoint that takes one: each is a 400 naming the parameter and
// the accepted range; the range's own ends are accepted.
func TestDateParams_Range(t *testing.T) {
	s := newServer(Config{})
	const accepted = "must be a date YYYY-MM-DD from 1800-01-01 to 2199-12-31"
	tests := []struct {
		method, target, body string
		status               int
		param                string
	}{
		{"GET", "/v1/search?q=cyclone&from=0001-01-01", "", 400, "from"},
		{"GET", "/v1/search?q=cyclone&to=9999-12-31", "", 400, "to"},
		{"GET", "/v1/search?q=cyclone&from=1799-12-31", "", 400, "from"},
		{"GET", "/v1/search?q=cyclone&to=2200-01-01", "", 400, "to"},
		{"GET", "/v1/search?from=0000-01-01", "", 400, "from"},
		{"GET", "/v1/search?q=cyclone&from=1800-01-01&to=2199-12-31", "", 200, ""},
		{"GET", "/v1/events/" + astana + "/related?from=0001-01-01", "", 400, "from"},
		{"GET", "/v1/events/" + astana + "/related?to=9999-12-31", "", 400, "to"},
		{"GET", "/v1/events/" + astana + "/related?from=1800-01-01&to=2199-12-31", "", 200, ""},
		{"POST", "/v1/related", `{"text": "Astana talks", "from": "0001-01-01"}`, 400, "from"},
		{"POST", "/v1/related", `{"text": "Astana talks", "to": "2200-01-01"}`, 400, "to"},
		{"POST", "/v1/related", `{"text": "Astana talks", "date": "0001-01-01"}`, 400, "date"},
		{"POST", "/v1/related", `{"text": "Astana talks", "date": "2199-12-31", "from": "1800-01-01"}`, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.target+" "+tc.body, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != tc.status {
				t.Fatalf("%d %s, want %d", rec.Code, rec.Body.String(), tc.status)
			}
			if tc.status == 200 {
				return
			}
			e, _ := body["error"].(map[string]any)
			if e["code"] != codeInvalid || e["param"] != tc.param || !strings.Contains(e["message"].(string), accepted) {
				t.Errorf("error %v, want invalid_parameter %q saying %q", e, tc.param, accepted)
			}
		})
	}
}

// TestRelated_WeightsFinite sends NaN, infinities and 1e308 as weights,
// as query parameters and in the JSON body: each is a 400 naming the
// weight, never a 500.
func TestRelated_WeightsFinite(t *testing.T) {
	s := newServer(Config{})
	tests := []struct {
		method, target, body string
		param                string
	}{
		{"GET", "text_weight=NaN", "", "text_weight"},
		{"GET", "context_weight=Inf", "", "context_weight"},
		{"GET", "topic_weight=-Inf", "", "topic_weight"},
		{"GET", "topic_weight=1e308", "", "topic_weight"},
		{"GET", "text_weight=1e999", "", "text_weight"},
		{"GET", "half_life_days=NaN", "", "half_life_days"},
		{"GET", "half_life_days=1e308", "", "half_life_days"},
		{"GET", "date_floor=NaN", "", "date_floor"},
		{"GET", "max_per_day=1e308", "", "max_per_day"},
		{"GET", "max_per_day=2.5", "", "max_per_day"},
		// Go's own forms of numbers are no numbers in a URL.
		{"GET", "text_weight=1_0", "", "text_weight"},
		{"GET", "text_weight=0x1p4", "", "text_weight"},
		{"POST", "", `{"text": "Astana talks", "weights": {"text": 1e308, "context": 2, "topic": 3, "half_life_days": 180, "floor": 0.25, "max_terms": 25, "min_df": 2, "max_df_share": 0.02, "duplicate_similarity": 0.7, "max_per_day": 2, "candidates": 60}}`, "weights.text"},
		{"POST", "", `{"text": "Astana talks", "weights": {"text": 1, "context": 2, "topic": 3, "half_life_days": 1e308, "floor": 0.25, "max_terms": 25, "min_df": 2, "max_df_share": 0.02, "duplicate_similarity": 0.7, "max_per_day": 2, "candidates": 60}}`, "weights.half_life_days"},
		{"POST", "", `{"text": "Astana talks", "weights": {"text": 1, "context": 1e308, "topic": 1e308, "half_life_days": 180, "floor": 0.25, "max_terms": 25, "min_df": 2, "max_df_share": 0.02, "duplicate_similarity": 0.7, "max_per_day": 2, "candidates": 60}}`, "weights.context"},
		{"POST", "", `{"text": "Astana talks", "weights": {"text": NaN}}`, ""},
		{"POST", "", `{"text": "Astana talks", "weights": {"text": 1e999}}`, "weights.text"},
		{"POST", "", `{"text": "Astana talks", "weights": {"topic": 1e309}}`, "weights.topic"},
	}
	// A whole number beyond an int's is out of range, as in a JSON body,
	// not "not a whole number".
	for _, v := range []string{"99999999999999999999", "-99999999999999999999"} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/events/"+astana+"/related?max_per_day="+v, nil))
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "out of range") {
			t.Errorf("max_per_day=%s: %d %s, want 400 out of range", v, rec.Code, rec.Body.String())
		}
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.target+tc.body, func(t *testing.T) {
			target := "/v1/related"
			if tc.method == "GET" {
				target = "/v1/events/" + astana + "/related?" + tc.target
			}
			req := httptest.NewRequest(tc.method, target, strings.NewReader(tc.body))
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != http.StatusBadRequest {
				t.Fatalf("%d %q %s, want a JSON 400", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
			}
			e, _ := body["error"].(map[string]any)
			if e["code"] != codeInvalid || (tc.param != "" && e["param"] != tc.param) {
				t.Errorf("error %v, want invalid_parameter naming %q", e, tc.param)
			}

		})
	}
}

// TestRelatedQuery: GET takes six of the weights as query parameters; a
// request whose other weights differ from the defaults is an error, not a
// list ranked with weights other than those asked for.
func TestRelatedQuery(t *testing.T) {
	with := func(set func(w *related.Weights)) *related.Weights {
		w := related.DefaultWeights
		set(&w)
		return &w
	}
	tests := []struct {
		name    string
		weights *related.Weights
		want    string // the query, or "" for an error
	}{
		{"no weights", nil, "size=3"},
		{"the defaults", with(func(w *related.Weights) {}), "context_weight=0.02&date_floor=0.3&half_life_days=30&max_per_day=2&size=3&text_weight=1&topic_weight=0"},
		{"the six", with(func(w *related.Weights) {
			w.Text, w.Context, w.Topic, w.HalfLifeDays, w.Floor, w.MaxPerDay = 2, 0.1, 0.5, 60, 0.5, 1
		}), "context_weight=0.1&date_floor=0.5&half_life_days=60&max_per_day=1&size=3&text_weight=2&topic_weight=0.5"},
		{"max_terms", with(func(w *related.Weights) { w.MaxTerms = 3 }), ""},
		{"rank_common", with(func(w *related.Weights) { w.RankCommon = 0 }), ""},
		{"max_postings", with(func(w *related.Weights) { w.MaxPostings = 1000 }), ""},
		{"place", with(func(w *related.Weights) { w.Place = 0 }), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := RelatedQuery(related.Request{ID: "x", Size: 3, Weights: tc.weights})
			switch {
			case tc.want == "" && err == nil:
				t.Errorf("query %q, want an error", q.Encode())
			case tc.want != "" && err != nil:
				t.Errorf("error %v, want %q", err, tc.want)
			case tc.want != "" && q.Encode() != tc.want:
				t.Errorf("query %q, want %q", q.Encode(), tc.want)
			}
		})
	}
}

// TestRelatedDraft_ElementOfTheWrongType: an element of a list of the
// wrong type is named as such, in JSON's words: the list is what the
// field takes (it read "context must be a string, got number").
func TestRelatedDraft_ElementOfTheWrongType(t *testing.T) {
	s := newServer(Config{})
	code, body := post(t, s, `{"text": "x", "context": ["Astana", 1]}`, "application/json")
	e, _ := body["error"].(map[string]any)
	if m, _ := e["message"].(string); code != http.StatusBadRequest || e["param"] != "context" || !strings.Contains(m, "must be a list of strings, got a list holding a number") {
		t.Errorf("%d %v; want a 400 naming context, a list of strings holding a number", code, body)
	}
}

// TestRelatedDraft_WholePast2To53: a whole number written with an
// exponent past 2^53 is refused for what it is, not as "not a whole
// number" (1e16 is whole; a float there names no exact integer: a
// review's finding).
func TestRelatedDraft_WholePast2To53(t *testing.T) {
	s := newServer(Config{})
	for body, want := range map[string]string{
		`{"text": "x", "weights": {"max_per_day": 1e16}}`:   "written in digits past 2^53",
		`{"text": "x", "weights": {"max_per_day": 1.5}}`:    "must be a whole number, got 1.5",
		`{"text": "x", "weights": {"max_per_day": 2.55e1}}`: "must be a whole number, got 2.55e1",
	} {
		code, res := post(t, s, body, "application/json")
		e, _ := res["error"].(map[string]any)
		if m, _ := e["message"].(string); code != http.StatusBadRequest || !strings.Contains(m, want) {
			t.Errorf("%s: %d %v, want a 400 saying %q", body, code, res, want)
		}
	}
}
