package tunnel

import (
	"context"
	"log/slog"
	"net"
	"strconv"
)

// Dialer opens network connections. *net.Dialer satisfies it; tests may
// inject their own.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// ClientConfig describes one client tunnel: which local service to share,
// through which server.
type ClientConfig struct {
	// Server is the server's host name or IP address, optionally with a
	// ":port" naming its control port (bore's --to).
	Server string
	// ControlPort is the server's control port, used when Server names no
	// port. Zero means DefaultControlPort.
	ControlPort uint16
	// LocalHost is the local service's host; empty means "localhost".
	LocalHost string
	// LocalPort is the local service's port.
	LocalPort uint16
	// RemotePort is the public port to ask for; 0 lets the server choose.
	RemotePort uint16
	// Secret, when not empty, answers the server's authentication
	// challenge. It is never logged.
	Secret string
	// NoReconnect makes the client end when the control connection drops,
	// as bore does, instead of reconnecting.
	NoReconnect bool
	// Logger receives the client's logs; nil discards them.
	Logger *slog.Logger
	// Dialer opens connections to the server and the local service; nil
	// means a *net.Dialer with TCP keepalive.
	Dialer Dialer
	// MaxConns caps the visitor connections one tunnel forwards or sets
	// up at once; zero means DefaultMaxConns. Visitors the server
	// announces beyond it are not accepted (the server drops them after
	// its pending timeout) and the tunnel stays up.
	MaxConns int
	// MaxSetups caps visitor setups in flight (accept connection and
	// local dial not yet done); zero means DefaultMaxSetups.
	MaxSetups int
	// WarmConns caps the ready accept connections kept open to the
	// server so that a visitor is accepted without a connect; zero means
	// DefaultWarmConns, a negative value keeps none.
	WarmConns int
	// WrapLocal, when set, is given each visitor's connection to the local
	// service before any byte moves, and the tunnel copies through the
	// connection it returns; an inspector uses it to watch the traffic.
	// Nil keeps the direct (spliced) path.
	WrapLocal ConnWrapper
}

// ConnWrapper wraps a connection. The connection Wrap returns must pass
// bytes on unchanged, close the one it wraps, and should implement
// CloseWrite so half-closes get through, and NetConn (returning the
// connection it wraps) so an abort reaches the local service as a reset.
type ConnWrapper interface {
	Wrap(local net.Conn) net.Conn
}

func joinHostPort(host string, port uint16) string {
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}
