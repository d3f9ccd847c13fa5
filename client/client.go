// Package client calls a newsdesk searchd's HTTP API from Go: typed
// requests and answers (the API's own types: search.Request and
// search.Result, related.Request and related.Item, api.Update and
// api.BulkResult, api.Info), errors as values of type *Error carrying the
// API's error code, and retries of the answers that say "later" (429
// overloaded, 503 unavailable or timeout) after the Retry-After they
// give, a bounded number of times. Every call takes a context: its
// deadline or cancellation ends the call, waits between tries included.
//
//	c, err := client.New(client.Config{URL: "http://127.0.0.1:8080"})
//	res, err := c.Search(ctx, search.Request{Q: "peace talks", Size: 5})
//	var ae *client.Error
//	if errors.As(err, &ae) && ae.Code == "invalid_parameter" { ... ae.Param ... }
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/api"
	"github.com/newsdesk/newsdesk/related"
	"github.com/newsdesk/newsdesk/search"
	"github.com/newsdesk/newsdesk/serving"
)

// Defaults of Config.
const (
	DefaultRetries      = 3
	DefaultMaxRetryWait = 10 * time.Second
	// firstBackoff is the wait before the first retry when the answer
	// gives no Retry-After; it doubles at each retry.
	firstBackoff = 500 * time.Millisecond
	// maxErrorBody is how much of a non-JSON error answer is kept as its
	// message.
	maxErrorBody = 512
)

// Config configures a Client.
type Config struct {
	// URL is searchd's base URL, such as http://127.0.0.1:8080; required.
	URL string
	// Key is the admin key, sent as "Authorization: Bearer KEY" to the
	// admin routes (Bulk, Reload) only. Empty means none.
	Key string
	// HTTPClient sends the requests. Nil means a client of its own with
	// no overall timeout: a call's deadline comes from its context.
	HTTPClient *http.Client
	// Retries is how many times a call answered 429 or 503 is sent again
	// before its error is returned: zero means DefaultRetries; a negative
	// value, never (a load generator counting refusals wants that).
	Retries int
	// MaxRetryWait caps the wait before one retry; zero means
	// DefaultMaxRetryWait. The client's own backoff (when an answer gives
	// no Retry-After) is held to it; an answer asking for a longer wait
	// ends the retries: its error is returned at once.
	MaxRetryWait time.Duration
	// RequestID, if not nil, gives the X-Request-Id sent with each call
	// (searchd logs it and puts it in error bodies); nil lets searchd make
	// one, which Error.RequestID then holds.
	RequestID func(ctx context.Context) string
}

// Client calls one searchd. It is safe for concurrent use.
type Client struct {
	cfg  Config
	base *url.URL
}

// New returns a client for cfg.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(cfg.URL, "/"))
	// A query or a fragment would come before the paths the calls append.
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, fmt.Errorf("client: %q is not a base URL such as http://127.0.0.1:8080", cfg.URL)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	if cfg.Retries == 0 {
		cfg.Retries = DefaultRetries
	}
	if cfg.MaxRetryWait <= 0 {
		cfg.MaxRetryWait = DefaultMaxRetryWait
	}
	return &Client{cfg: cfg, base: u}, nil
}

// Error is an answer of the API other than a success: its status, and
// the API's error code, message and parameter (see the README's errors
// table); Code is empty when the answer was not the API's JSON error (a
// proxy's page, Go's plain-text 431).
type Error struct {
	Status    int    // HTTP status
	Code      string // the API's error code: invalid_parameter, not_found, overloaded...
	Message   string
	Param     string // the parameter or field at fault, if one is
	RequestID string // the request's id, for searchd's logs
	// RetryAfter is the wait the answer asked for before a retry (its
	// Retry-After header); zero when it asked for none.
	RetryAfter time.Duration
	asked      bool // the answer had a Retry-After
}

func (e *Error) Error() string {
	code := e.Code
	if code == "" {
		code = http.StatusText(e.Status)
	}
	return fmt.Sprintf("newsdesk: %d %s: %s", e.Status, code, e.Message)
}

// temporary reports whether the answer says to try again later.
func (e *Error) temporary() bool {
	return e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable
}

// Search runs a keyword search (POST /v1/search).
func (c *Client) Search(ctx context.Context, r search.Request) (*search.Result, error) {
	body, err := jsonBody(api.NewSearchBody(r))
	if err != nil {
		return nil, err
	}
	var res search.Result
	if err := c.do(ctx, http.MethodPost, "/v1/search", nil, body, false, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Event returns the event with the given id (GET /v1/events/{id}); an
// unknown id is an *Error with Code "not_found".
func (c *Client) Event(ctx context.Context, id string) (newsdesk.Event, error) {
	var e newsdesk.Event
	err := c.do(ctx, http.MethodGet, "/v1/events/"+escapeID(id), nil, nil, false, &e)
	return e, err
}

// Suggest returns up to size topic and context names for a prefix
// (GET /v1/suggest); size 0 means the server's default.
func (c *Client) Suggest(ctx context.Context, prefix string, size int) ([]search.Name, error) {
	q := url.Values{"q": {prefix}}
	if size != 0 {
		q.Set("size", strconv.Itoa(size))
	}
	var res api.SuggestResult
	if err := c.do(ctx, http.MethodGet, "/v1/suggest", q, nil, false, &res); err != nil {
		return nil, err
	}
	// Last is not in the JSON (LastDate is): read back, so that a Name
	// is whole, as the server's own.
	for i, n := range res.Suggestions {
		if t, err := time.Parse(newsdesk.DateLayout, n.LastDate); err == nil {
			res.Suggestions[i].Last = t
		}
	}
	return res.Suggestions, nil
}

// Related returns the events related to an indexed event (r.ID: GET
// /v1/events/{id}/related) or to a draft (r.Draft: POST /v1/related).
func (c *Client) Related(ctx context.Context, r related.Request) ([]related.Item, error) {
	var res api.RelatedResult
	var err error
	switch { // the ID first, as the ranker reads a request with both
	case r.ID != "":
		q, qerr := api.RelatedQuery(r)
		if qerr != nil {
			return nil, qerr
		}
		err = c.do(ctx, http.MethodGet, "/v1/events/"+escapeID(r.ID)+"/related", q, nil, false, &res)
	case r.Draft != nil:
		body, berr := jsonBody(api.NewRelatedBody(r))
		if berr != nil {
			return nil, berr
		}
		err = c.do(ctx, http.MethodPost, "/v1/related", nil, body, false, &res)
	default:
		return nil, errors.New("client: a related request needs an ID or a Draft")
	}
	if err != nil {
		return nil, err
	}
	return res.Related, nil
}

// Info says which version serves which index (GET /v1/info).
func (c *Client) Info(ctx context.Context) (*api.Info, error) {
	var info api.Info
	if err := c.do(ctx, http.MethodGet, "/v1/info", nil, nil, false, &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// Live checks that searchd runs (GET /livez). It is not retried.
func (c *Client) Live(ctx context.Context) error {
	return c.once(ctx, http.MethodGet, "/livez", nil, nil, false, nil)
}

// Ready checks that searchd serves its index (GET /readyz): an *Error
// with status 503 says why not. It is not retried.
func (c *Client) Ready(ctx context.Context) error {
	return c.once(ctx, http.MethodGet, "/readyz", nil, nil, false, nil)
}

// Bulk applies upserts and deletes in one request (POST
// /admin/events/_bulk, with Config.Key). The answer has one item per
// update, in order: a refused update is an item with its status and
// error, not an error of the call; BulkResult.Errors says whether any
// was refused.
func (c *Client) Bulk(ctx context.Context, updates []api.Update) (*api.BulkResult, error) {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	for i, u := range updates {
		if p := invalidUTF8(u); p != "" {
			return nil, fmt.Errorf("client: bulk: update %d: %s is not valid UTF-8", i+1, p) // from 1, as the server's BulkItem.Line
		}
		if err := enc.Encode(u); err != nil {
			return nil, fmt.Errorf("client: bulk: encode %v: %w", u, err)
		}
	}
	var res api.BulkResult
	if err := c.do(ctx, http.MethodPost, "/admin/events/_bulk", nil, &payload{body.Bytes(), "application/x-ndjson"}, true, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Reload makes searchd load the published generation now (POST
// /admin/reload, with Config.Key); a refused generation is an *Error with
// Code "generation_refused".
func (c *Client) Reload(ctx context.Context) (*serving.Result, error) {
	var res serving.Result
	if err := c.do(ctx, http.MethodPost, "/admin/reload", nil, nil, true, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// payload is a request body, kept whole so that a retry can send it again.
type payload struct {
	b           []byte
	contentType string
}

// jsonBody encodes v as a JSON body. A string that is not valid UTF-8 and
// a weight JSON cannot hold (NaN, an infinity) fail.
func jsonBody(v any) (*payload, error) {
	if p := invalidUTF8(v); p != "" {
		return nil, fmt.Errorf("client: %s is not valid UTF-8", p)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	return &payload{b, "application/json"}, nil
}

// escapeID escapes an event id for a path: its slash stays one, as the
// API's routes expect (an escaped %2F is accepted too).
func escapeID(id string) string {
	parts := strings.Split(id, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// do sends a request, and sends it again while it is answered 429 or 503,
// up to Config.Retries times, waiting what the answer asks (Retry-After)
// or a doubling backoff, each wait at most Config.MaxRetryWait.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body *payload, admin bool, out any) error {
	backoff := firstBackoff
	for try := 0; ; try++ {
		err := c.once(ctx, method, path, q, body, admin, out)
		var ae *Error
		if err == nil || !errors.As(err, &ae) || !ae.temporary() || c.cfg.Retries < 0 || try >= c.cfg.Retries {
			return err
		}
		wait := ae.RetryAfter
		if !ae.asked {
			// The client's own backoff is capped; a wait the server asks
			// for beyond the cap ends the retries (Config.MaxRetryWait).
			wait = min(backoff, c.cfg.MaxRetryWait)
			// Held at the cap: doubled without end, it overflows (after
			// 35 retries) to no wait at all.
			backoff = min(2*backoff, c.cfg.MaxRetryWait)
		}
		if wait > c.cfg.MaxRetryWait {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (waiting to retry after: %w)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

// once sends one request and decodes a 2xx answer into out (unless nil);
// any other answer is an *Error.
func (c *Client) once(ctx context.Context, method, path string, q url.Values, body *payload, admin bool, out any) error {
	target := c.base.String() + path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body.b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", body.contentType)
	}
	req.Header.Set("Accept", "application/json")
	if admin && c.cfg.Key != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.Key)
	}
	if c.cfg.RequestID != nil {
		if id := c.cfg.RequestID(ctx); id != "" {
			req.Header.Set(api.RequestIDHeader, id)
		}
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return readError(resp)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("client: %s %s: %d answer not the API's JSON: %w", method, path, resp.StatusCode, err)
	}
	return nil
}

// readError reads an error answer: the API's JSON error, or anything else
// (kept as the message, cut short).
func readError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &Error{Status: resp.StatusCode, RequestID: resp.Header.Get(api.RequestIDHeader)}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			// Beyond what a Duration holds, the longest it holds: an
			// overflow would be a negative wait, a retry at once.
			e.RetryAfter, e.asked = time.Duration(min(int64(n), math.MaxInt64/int64(time.Second)))*time.Second, true
		} else if t, err := http.ParseTime(s); err == nil {
			e.RetryAfter, e.asked = max(time.Until(t), 0), true
		}
	}
	var body struct {
		Error *api.Error `json:"error"`
	}
	if json.Unmarshal(b, &body) == nil && body.Error != nil && body.Error.Code != "" {
		e.Code, e.Message, e.Param = body.Error.Code, body.Error.Message, body.Error.Param
		if body.Error.RequestID != "" {
			e.RequestID = body.Error.RequestID
		}
		return e
	}
	msg := strings.TrimSpace(string(b))
	msg = newsdesk.Clip(msg, maxErrorBody)
	if msg == "" {
		msg = resp.Status
	}
	e.Message = msg
	return e
}
