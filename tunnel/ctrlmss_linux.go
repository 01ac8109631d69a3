package tunnel

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// controlMSS is the largest segment a client asks the server to send on
// its control connection: Linux's smallest TCP_MAXSEG. Less the 12 bytes
// of TCP timestamps, each segment holds 76 bytes, more than a Connection
// frame (54 bytes).
const controlMSS = 88

// controlDialer returns d set to announce controlMSS in its SYN, when d is
// a *net.Dialer (its own Control, if any, still runs first).
//
// bore's server writes its control frames with Nagle's algorithm on, and
// after each Connection frame a Heartbeat. In a burst of visitors the first
// Connection frame leaves at once and the rest queue until it is
// acknowledged, a round trip later, unless a full segment is waiting:
// Nagle's algorithm never holds a full one. With segments this small the
// queued frames fill segments as the server writes them, so all but the
// last frame of a burst leave without waiting for the acknowledgement. Our
// server writes with Nagle off and is not affected either way.
func controlDialer(d Dialer) Dialer {
	nd, ok := d.(*net.Dialer)
	if !ok {
		return d
	}
	c := *nd
	prev := nd.Control
	c.Control = func(network, address string, rc syscall.RawConn) error {
		if prev != nil {
			if err := prev(network, address, rc); err != nil {
				return err
			}
		}
		// A kernel that refuses the option still connects, with the
		// usual segment size.
		_ = rc.Control(func(fd uintptr) {
			_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_MAXSEG, controlMSS)
		})
		return nil
	}
	return &c
}
