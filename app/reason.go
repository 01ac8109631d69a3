package app

import (
	"context"
	"errors"
	"net"
	"syscall"

	"github.com/boretray/bore/tunnel"
)

// reason words why a tunnel is reconnecting or failed, for the menu and
// notifications: what happened and, where it helps, what to do in the tray.
func reason(st tunnel.Status) string {
	if st.Misbehaving {
		return misbehavingReason(st)
	}
	if st.Err == nil {
		return st.Reason
	}
	return describe(st.Err)
}

// misbehavingReason words a server that keeps breaking bore's protocol:
// what it does, what that likely means, and that Bore keeps trying, but
// slowly.
func misbehavingReason(st tunnel.Status) string {
	what := "it keeps sending what bore's protocol does not allow"
	if st.Err != nil {
		what += " (" + describe(st.Err) + ")"
	}
	return "the server is misbehaving: " + what +
		"; it may not be a bore server, or not a working one. Bore keeps trying, but only now and then: check the server's address"
}

// misbehavingLine is the short form of misbehavingReason for a tunnel's
// line in the menu.
const misbehavingLine = "server misbehaving, retrying slowly"

// failReason is why a failed tunnel failed, never "".
func failReason(st tunnel.Status) string {
	if r := reason(st); r != "" {
		return r
	}
	return "the tunnel stopped"
}

// describe words a tunnel error in the tray's terms.
func describe(err error) string {
	var se *tunnel.ServerError
	switch {
	case errors.Is(err, tunnel.ErrInvalidSecret):
		return "the server refused the secret: check the secret for this server"
	case errors.Is(err, tunnel.ErrSecretRequired), errors.Is(err, tunnel.ErrAuthRequired):
		return "the server requires a secret: add one in the server's settings"
	case errors.Is(err, tunnel.ErrPortRange):
		return "the server does not allow that port: pick another or let it choose"
	case errors.Is(err, tunnel.ErrPortInUse):
		return "that port is already taken on the server"
	case errors.Is(err, tunnel.ErrNoFreePort):
		return "the server has no free port left"
	case errors.Is(err, tunnel.ErrTooManyTunnels):
		return "the server allows no more tunnels from this address"
	case errors.Is(err, tunnel.ErrServerBusy):
		return "the server is busy"
	case errors.As(err, &se):
		return "the server said: " + se.Text
	case errors.Is(err, tunnel.ErrNoAuthExpected):
		return "a secret was given but this server does not use one: remove it"
	case errors.Is(err, tunnel.ErrServerClosed):
		return "the server closed the connection"
	case errors.Is(err, tunnel.ErrNoHeartbeat):
		return "the server stopped responding"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "server unreachable: connection refused"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "server unreachable: cannot resolve " + dnsErr.Name
	}
	var ne net.Error
	if (errors.As(err, &ne) && ne.Timeout()) || errors.Is(err, context.DeadlineExceeded) {
		return "server unreachable: no answer within " + tunnel.NetworkTimeout.String()
	}
	var op *net.OpError
	if errors.As(err, &op) {
		if op.Err != nil {
			return "server unreachable: " + op.Err.Error()
		}
		return "server unreachable: " + err.Error()
	}
	return err.Error()
}
