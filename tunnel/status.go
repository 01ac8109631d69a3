package tunnel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"
)

// TunnelID names one tunnel started by a Manager. IDs are never reused
// within one Manager.
type TunnelID uint64

// State is where a tunnel is in its life.
type State int

// The states a tunnel moves through. A tunnel starts Connecting, becomes
// Open when the server has given it a public port, goes to Reconnecting when
// the connection drops (and back to Open), and ends Failed (a permanent error
// such as a wrong secret) or Stopped (asked to stop).
const (
	StateConnecting State = iota
	StateOpen
	StateReconnecting
	StateFailed
	StateStopped
)

// String returns the state's name in lower case, as shown to people.
func (s State) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateOpen:
		return "open"
	case StateReconnecting:
		return "reconnecting"
	case StateFailed:
		return "failed"
	case StateStopped:
		return "stopped"
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// Status is an immutable picture of one tunnel.
type Status struct {
	// ID identifies the tunnel within its Manager.
	ID TunnelID
	// Server is the server's host name as the user gave it (no port).
	Server string
	// ControlPort is the server's control port.
	ControlPort uint16
	// LocalHost and LocalPort name the local service being shared.
	LocalHost string
	LocalPort uint16
	// RequestedPort is the public port asked for; 0 means any.
	RequestedPort uint16

	// State is the tunnel's current state.
	State State
	// Since is when the tunnel entered State.
	Since time.Time
	// RemotePort is the public port the server gave; it keeps the last
	// known value while reconnecting, and is 0 before the first success.
	RemotePort uint16
	// Err is why the tunnel is reconnecting, failed or stopped by itself;
	// nil in other states. Callers that show it to people word it
	// themselves (errors.Is against the sentinels, *ServerError).
	Err error
	// Reason is Err in the engine's own short words, for logs and
	// diagnostics; "" when Err is nil.
	Reason string
	// NextAttempt is when the next connection attempt is due, while
	// reconnecting.
	NextAttempt time.Time
	// Attempt counts the failed attempts since the tunnel was last open.
	Attempt int
	// Misbehaving is set while the server keeps breaking bore's protocol
	// (frames that do not parse, replies out of place) before a session
	// could behave; the tunnel then retries only at its slowest pace and
	// Reason says why.
	Misbehaving bool
	// LocalError describes the last failure to reach the local service
	// when a visitor arrived; it is empty once a visitor got through.
	LocalError string

	// Active is the number of visitor connections being forwarded now.
	Active int64
	// Total is the number of visitor connections forwarded so far.
	Total int64
	// BytesIn counts bytes from visitors to the local service.
	BytesIn int64
	// BytesOut counts bytes from the local service to visitors.
	BytesOut int64
}

// PublicAddr returns the tunnel's public address as host:port, or "" while
// no port is known.
func (s Status) PublicAddr() string {
	if s.RemotePort == 0 {
		return ""
	}
	return joinHostPort(s.Server, s.RemotePort)
}

// LocalAddr returns the local service's address as host:port.
func (s Status) LocalAddr() string {
	return joinHostPort(s.LocalHost, s.LocalPort)
}

// Snapshot is the state of every tunnel of a Manager at one moment, ordered
// by ID.
type Snapshot struct {
	Tunnels []Status
}

// Find returns the status of the tunnel with the given ID.
func (s Snapshot) Find(id TunnelID) (Status, bool) {
	for _, t := range s.Tunnels {
		if t.ID == id {
			return t, true
		}
	}
	return Status{}, false
}

// reasonText words err in the engine's terms: what went wrong, with no
// advice on what to do, which depends on the program showing it.
func reasonText(err error) string {
	if err == nil {
		return ""
	}
	var se *ServerError
	if errors.As(err, &se) {
		switch se.Text {
		case errTextInvalidSecret:
			return "the server refused the secret"
		case errTextSecretRequired:
			return "the server requires a secret"
		case errTextPortRange:
			return "the server does not allow that port"
		case errTextPortInUse:
			return "that port is already taken on the server"
		case errTextNoFreePort:
			return "the server has no free port left"
		case errTextTooManyTunnels:
			return "the server allows no more tunnels from this address"
		case errTextServerBusy:
			return "the server is busy"
		}
		return "the server said: " + se.Text
	}
	switch {
	case errors.Is(err, ErrAuthRequired):
		return "the server requires a secret"
	case errors.Is(err, ErrNoAuthExpected):
		return "a secret was given but this server does not use one"
	case errors.Is(err, ErrServerClosed):
		return "the server closed the connection"
	case errors.Is(err, ErrNoHeartbeat):
		return "the server stopped responding"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "server unreachable: connection refused"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "server unreachable: cannot resolve " + dnsErr.Name
	}
	if isTimeout(err) || errors.Is(err, context.DeadlineExceeded) {
		return "server unreachable: no answer within " + NetworkTimeout.String()
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return "server unreachable: " + unwrapOp(err).Error()
	}
	return err.Error()
}
