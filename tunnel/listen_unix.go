//go:build unix

package tunnel

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// v6only reads IPV6_V6ONLY of an IPv6 listener: 1 when it accepts IPv6
// only, 0 when IPv4 too, -1 when unknown.
func v6only(ln net.Listener) int {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return -1
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	v := -1
	raw.Control(func(fd uintptr) {
		if n, err := unix.GetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_V6ONLY); err == nil {
			v = min(n, 1)
		}
	})
	return v
}
