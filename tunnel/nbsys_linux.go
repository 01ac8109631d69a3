package tunnel

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The copy path's reads, writes and half-closes are on non-blocking
// sockets and return at once, so they are made as raw system calls,
// without telling the Go scheduler. An ordinary system call made after
// the process was idle wakes the runtime's monitor thread, which then
// polls every 20 µs until the process is idle again: on a stream of short
// connections that was a sixth of a tunnel client's CPU, several thread
// wake-ups for every visitor. Only calls that cannot block may be made
// this way.

// readNB reads from the non-blocking socket fd.
func readNB(fd int, p []byte) (int, error) { return rawIO(unix.SYS_READ, fd, p) }

// writeNB writes to the non-blocking socket fd what it takes without
// waiting.
func writeNB(fd int, p []byte) (int, error) { return rawIO(unix.SYS_WRITE, fd, p) }

// rawIO makes the read or write system call trap on fd with p, again
// when a signal interrupted it.
func rawIO(trap uintptr, fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		r, _, e := unix.RawSyscall(trap, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
		switch e {
		case 0:
			return int(r), nil
		case unix.EINTR:
			continue
		}
		return 0, e
	}
}

// shutdownWriteNB shuts down the write side of the socket fd.
func shutdownWriteNB(fd int) error {
	if _, _, e := unix.RawSyscall(unix.SYS_SHUTDOWN, uintptr(fd), unix.SHUT_WR, 0); e != 0 {
		return e
	}
	return nil
}
