package newsdesk

import "errors"

// Errors shared across packages; callers match them with errors.Is.
var (
	// ErrInvalidEvent is wrapped by Event.Validate and the readers when a
	// record cannot become an Event.
	ErrInvalidEvent = errors.New("invalid event")
	// ErrNotFound is returned when an event or index generation does not exist.
	ErrNotFound = errors.New("not found")
	// ErrMappingMismatch is returned when an index on disk was built with a
	// mapping other than the one this build of the code uses.
	ErrMappingMismatch = errors.New("index mapping differs from the code's mapping")
	// ErrNoGeneration is returned when an index directory has no published
	// generation yet.
	ErrNoGeneration = errors.New("no published index generation")
	// ErrNoSpace is returned when a build or an update is refused, or a
	// background write of the index fails, for want of disk space.
	ErrNoSpace = errors.New("not enough disk space")
	// ErrUnavailable is returned when a service the request needs does not
	// answer now (a replica's NATS): the caller may retry.
	ErrUnavailable = errors.New("temporarily unavailable")
)
