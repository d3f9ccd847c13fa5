package index

import "errors"

// Errors returned by this package, besides the newsdesk sentinels.
var (
	// ErrLocked is returned by NewBuilder when another build holds the
	// directory's lock.
	ErrLocked = errors.New("index directory is locked")
	// ErrEmptyBuild is returned by Builder.Publish when no document was
	// added: publishing it would replace a good index with an empty one.
	ErrEmptyBuild = errors.New("build has no documents; nothing published")
)
