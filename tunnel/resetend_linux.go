package tunnel

import (
	"net"
	"unsafe"

	"golang.org/x/sys/unix"
)

// tcpClose is TCP_CLOSE, the state of a TCP socket that is closed: reset,
// or done with TIME_WAIT (include/net/tcp_states.h).
const tcpClose = 7

// resetEnd reports whether c, a connection whose read has just returned
// EOF, was reset rather than ended with a FIN. After a FIN from the peer
// the socket is in CLOSE_WAIT (or, once it has sent its own, in a later
// state); after a reset it is closed. A socket that had sent its own FIN
// first (sentFIN) is closed after a clean end too, but then nothing was
// written to it to take the reset, so its read reported the reset itself.
// A connection closed meanwhile counts as reset: only an abort closes it
// while it is being copied. It costs one system call, made raw (readNB
// says why).
func resetEnd(c net.Conn, sentFIN bool) bool {
	tc, ok := c.(*net.TCPConn)
	if sentFIN || !ok {
		return false
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return false
	}
	var state [1]byte // the first byte of struct tcp_info, tcpi_state
	n := uint32(len(state))
	var e unix.Errno
	if err := raw.Control(func(fd uintptr) {
		_, _, e = unix.RawSyscall6(unix.SYS_GETSOCKOPT, fd, unix.IPPROTO_TCP, unix.TCP_INFO,
			uintptr(unsafe.Pointer(&state[0])), uintptr(unsafe.Pointer(&n)), 0)
	}); err != nil {
		return true
	}
	if e != 0 || n < 1 {
		return false
	}
	return state[0] == tcpClose
}
