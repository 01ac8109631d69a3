//go:build !unix

package tunnel

import "net"

// copyConn copies src to dst until src ends (io.EOF) or either fails,
// calling add after bytes moved.
func copyConn(dst, src net.Conn, add func(int64)) error {
	return copyPlain(dst, src, add)
}

// closeWrite passes a clean end on to c (a half-close).
func closeWrite(c closeWriter) error { return c.CloseWrite() }
