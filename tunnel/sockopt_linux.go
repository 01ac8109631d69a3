package tunnel

import (
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// setUserTimeout sets TCP_USER_TIMEOUT: the kernel drops the connection
// when data stays unacknowledged for d. A peer that vanished without a FIN
// or RST is then noticed within d of the next write, not after the ~15
// minutes of retransmissions Linux allows by default.
func setUserTimeout(c net.Conn, d time.Duration) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, int(d/time.Millisecond))
	})
}

// quickAck asks the kernel to acknowledge what c receives at once instead
// of delaying the ACK (TCP_QUICKACK; Linux drops back to delayed ACKs by
// itself, so it is set again after each read). A server that writes its
// Connection frames with Nagle's algorithm on, as bore's does, holds back
// each burst's later frames until the first is acknowledged: a delayed ACK
// would cost those visitors up to 40 ms more.
func quickAck(c net.Conn) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_QUICKACK, 1)
	})
}
