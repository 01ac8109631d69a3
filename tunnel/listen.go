package tunnel

import (
	"context"
	"net"
)

// Listen opens a TCP listener on addr (host:port) the way an operator
// reads the address: an IPv4 address, 0.0.0.0 included, listens on IPv4
// only, as bore does; "::" listens on IPv6, and on IPv4 too where the
// system does dual-stack sockets; another IPv6 address listens on that
// address only. A host name listens on the address it resolves to.
// Opening 0.0.0.0 as plain "tcp" would listen dual-stack, and an operator
// who firewalls IPv4 would find the port open over IPv6.
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	return listenConfig().Listen(ctx, listenNetwork(host), addr)
}

// listenNetwork picks the network for Listen on host.
func listenNetwork(host string) string {
	ip := net.ParseIP(host)
	switch {
	case ip == nil:
		return "tcp"
	case ip.To4() != nil:
		return "tcp4"
	case ip.IsUnspecified():
		return "tcp" // "::": dual-stack where the system allows it
	}
	return "tcp6"
}

// ListenerFamilies says which IP versions ln accepts, for a startup log:
// "IPv4 only", "IPv6 only", or "IPv6 and IPv4".
func ListenerFamilies(ln net.Listener) string {
	a, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		return ln.Addr().Network()
	}
	if a.IP.To4() != nil {
		return "IPv4 only"
	}
	if !a.IP.IsUnspecified() {
		return "IPv6 only"
	}
	switch v6only(ln) {
	case 1:
		return "IPv6 only"
	case 0:
		return "IPv6 and IPv4"
	}
	return "IPv6, and IPv4 where the system allows dual-stack"
}
