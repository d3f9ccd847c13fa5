// Package version says which build of newsdesk is running, from what the
// Go toolchain records in every binary (runtime/debug.ReadBuildInfo): the
// module version, or for a build from a work tree the commit it was
// built from, its time, and whether the tree had changes. searchd and
// indexer print it for -version, and searchd answers it in /v1/info.
package version

import (
	"runtime/debug"
	"strings"
)

// stamp, when set at link time (go build -ldflags "-X
// github.com/newsdesk/newsdesk/version.stamp=v1.2.3"), is the version
// reported, ahead of the build info: for builds from a copy of the source
// without its Git history, such as a container build given a release tag.
var stamp string

// Info is what a binary knows of its build.
type Info struct {
	// Version is the release tag, the stamp, or a pseudo-version the Go
	// toolchain derives from the commit (v0.0.0-20261130133500-bacba4e1f2a3);
	// "(devel)" when none is known, as under go run or go test.
	Version string `json:"version"`
	// Revision is the Git commit the binary was built from, when known.
	Revision string `json:"revision,omitempty"`
	// Time is the commit's time, RFC 3339, when known.
	Time string `json:"time,omitempty"`
	// Modified says the work tree had uncommitted changes.
	Modified bool `json:"modified,omitempty"`
	// Go is the toolchain that built the binary.
	Go string `json:"go"`
}

// Get returns the running binary's build information.
func Get() Info {
	info := Info{Version: "(devel)"}
	bi, ok := debug.ReadBuildInfo()
	if ok {
		info.Go = bi.GoVersion
		if v := bi.Main.Version; v != "" {
			info.Version = v
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Revision = s.Value
			case "vcs.time":
				info.Time = s.Value
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	}
	if stamp != "" {
		info.Version = stamp
	}
	return info
}

// String returns the version on one line, as -version prints it:
// "v0.0.0-20261130133500-bacba4e1f2a3+dirty (go1.26.0)", or with the
// commit when the version says nothing of it: "(devel) bacba4e1f2a3
// 2026-11-30T13:35:00Z (go1.26.0)".
func String() string {
	i := Get()
	var b strings.Builder
	b.WriteString(i.Version)
	if i.Revision != "" && !strings.Contains(i.Version, shortRev(i.Revision)) {
		b.WriteString(" " + shortRev(i.Revision))
		if i.Modified {
			b.WriteString("+dirty")
		}
		if i.Time != "" {
			b.WriteString(" " + i.Time)
		}
	}
	if i.Go != "" {
		b.WriteString(" (" + i.Go + ")")
	}
	return b.String()
}

// shortRev is the first 12 characters of a commit hash, as Go's
// pseudo-versions hold it.
func shortRev(rev string) string { return rev[:min(len(rev), 12)] }
