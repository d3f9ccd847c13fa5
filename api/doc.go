// Package api serves newsdesk's HTTP API: keyword search, events, name
// suggestions and health, as JSON. All routes are in routes.go; errors
// have one JSON shape and one status table (errors.go); query parameters
// are parsed strictly into typed requests (params.go).
//
// The package depends on what it serves through the small Searcher
// interface, which search.Engine implements.
package api
