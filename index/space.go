package index

import (
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/newsdesk/newsdesk"
)

// FreeSpace returns the bytes of d's filesystem available to this process.
func (d *Dir) FreeSpace() (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(d.path, &st); err != nil {
		return 0, fmt.Errorf("free space of %s: %w", d.path, err)
	}
	return st.Bavail * uint64(st.Bsize), nil
}

// CheckSpace returns an error wrapping newsdesk.ErrNoSpace when fewer than
// need bytes are free on d's filesystem, and one wrapping
// newsdesk.ErrUnavailable when that cannot be told (the directory gone):
// a bulk update answered 500 with the cause hidden, where a 503 says it.
func (d *Dir) CheckSpace(need uint64) error {
	free, err := d.FreeSpace()
	if err != nil {
		return fmt.Errorf("%w: %w", newsdesk.ErrUnavailable, err)
	}
	if free < need {
		return fmt.Errorf("%w (ENOSPC) in %s: %s free, %s needed", newsdesk.ErrNoSpace, d.path, bytesString(free), bytesString(need))
	}
	return nil
}

// isNoSpace reports whether err says the disk is full; Bleve's background
// errors carry the cause as text only.
func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || strings.Contains(err.Error(), syscall.ENOSPC.Error())
}

// bytesString says a size the way df does.
func bytesString(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
