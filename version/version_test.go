package version

import (
	"runtime"
	"strings"
	"testing"
)

func TestGet(t *testing.T) {
	i := Get()
	if i.Version == "" || i.Go != runtime.Version() {
		t.Errorf("Get() = %+v, want a version and the toolchain %s", i, runtime.Version())
	}
	if s := String(); !strings.HasPrefix(s, i.Version) || !strings.HasSuffix(s, "("+runtime.Version()+")") {
		t.Errorf("String() = %q", s)
	}
}

func TestStamp(t *testing.T) {
	defer func(old string) { stamp = old }(stamp)
	stamp = "v1.2.3"
	if v := Get().Version; v != "v1.2.3" {
		t.Errorf("with a stamp, Version = %q", v)
	}
	if s := String(); !strings.HasPrefix(s, "v1.2.3") {
		t.Errorf("with a stamp, String() = %q", s)
	}
}
