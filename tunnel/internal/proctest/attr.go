//go:build linux

package proctest

import "syscall"

// childAttr makes the kernel kill a child when its parent dies, so an
// interrupted benchmark leaves no bore processes behind.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
