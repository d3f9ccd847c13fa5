//go:build !linux

package natstest

import "os/exec"

// DieWithParent does nothing where the system cannot tie a child's life to
// its parent's; Linux's version says why it exists.
func DieWithParent(cmd *exec.Cmd) {}
