// Package api serves newsdesk's HTTP API: keyword search, events, name
// suggestions, related stories, server information, health and the admin
// routes, as JSON. All routes are in routes.go; errors have one JSON
// shape and one status table (errors.go); query parameters and JSON
// bodies are parsed strictly into typed requests (params.go, body.go);
// every request has an id (requestid.go). openapi.json describes every
// route, and is served at /openapi.json; its test holds the router to it.
//
// The package depends on what it serves through the small Searcher
// interface, which search.Engine implements. Its request and answer types
// (SearchBody, RelatedBody, Update; SuggestResult, RelatedResult,
// BulkResult, Info, Error) are the wire format that package client uses.
package api
