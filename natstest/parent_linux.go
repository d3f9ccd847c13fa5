package natstest

import (
	"os/exec"
	"syscall"
)

// DieWithParent has cmd killed when the process that starts it dies: a
// test that times out panics without its cleanups, and its NATS servers
// and searchd replicas kept running (and a core busy) after it.
func DieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
