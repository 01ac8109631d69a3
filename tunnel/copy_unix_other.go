//go:build unix && !linux

package tunnel

import (
	"net"
	"syscall"
)

// copyBurst moves the rest of a burst with pooled buffers, reading only
// what the socket has without waiting.
func copyBurst(dst net.Conn, sraw, _ syscall.RawConn, add func(int64)) error {
	return copyBurstPlain(dst, sraw, add)
}
