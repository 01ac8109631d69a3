//go:build unix

package tunnel

import (
	"net"
	"syscall"
)

// peekAlive reports whether c, a connection that should have nothing to
// read, is still open: no EOF, no reset and no unexpected bytes. It never
// blocks and consumes nothing.
func peekAlive(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	alive := false
	var buf [1]byte
	err = raw.Read(func(fd uintptr) bool {
		_, _, e := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// EAGAIN: nothing to read, the connection is open. Anything else
		// is an EOF (0 bytes), a reset, or bytes a ready connection
		// should not have.
		alive = e == syscall.EAGAIN || e == syscall.EWOULDBLOCK
		return true
	})
	return alive && err == nil
}
