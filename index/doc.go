// Package index owns newsdesk's Bleve indexes on disk: their layout in
// generations, building a new generation, publishing it atomically, and
// opening the published one.
//
// An index directory looks like this:
//
//	DIR/CURRENT              name of the published generation, replaced atomically
//	DIR/generations/NAME/    one complete, closed Bleve index per generation
//	DIR/tmp/NAME/            a generation being built; never opened by readers
//	DIR/lock                 held (flock) by the one process building
//	DIR/reports/             bad-input reports of builds
//
// A build writes into tmp/, closes and syncs the index, checks that it
// opens with the expected document count, renames it into generations/
// and only then points CURRENT at it (write, fsync, rename, fsync). A
// crash at any moment therefore leaves CURRENT naming a complete
// generation, and the previous generation stays servable until the swap.
//
// The package takes the mapping as a parameter and never imports the
// mappings package: callers pass mappings.New().
package index
