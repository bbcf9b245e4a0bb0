package clustertest

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel SIGKILL a child when the test process
// dies, so that a test killed by its timeout leaves nothing running.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
