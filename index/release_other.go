//go:build !linux

package index

import (
	"time"

	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// releasePages does nothing where madvise's MADV_DONTNEED is not known to
// keep a shared file mapping's contents (see release_linux.go).
func releasePages([]segment.Segment, time.Duration) (stop func()) { return func() {} }
