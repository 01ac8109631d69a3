//go:build linux

package proctest

import (
	"context"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// StartTimeout bounds how long StartServer and StartClient wait for bore
// to come up.
const StartTimeout = 15 * time.Second

// ServerReady matches the line "bore server" logs once it listens; the
// submatch is its control port.
func ServerReady() *regexp.Regexp {
	return regexp.MustCompile(`server listening addr=\S*:(\d+)`)
}

// ClientReady matches the line "bore local" logs each time it has
// connected to its server; the submatch is the public port.
func ClientReady() *regexp.Regexp {
	return regexp.MustCompile(`connected to server remote_port=(\d+)`)
}

// ClientLost matches the line "bore local" logs each time it lost its
// server and is about to try again.
func ClientLost() *regexp.Regexp {
	return regexp.MustCompile(`connection lost; reconnecting`)
}

// StartServer runs "bore server" (the binary bore) on 127.0.0.1 with
// control port ctrl, or a free one when ctrl is 0, and extra arguments,
// and waits until it listens. It returns the process and its control
// port.
//
// Public ports are 10000-30000, below Linux's ephemeral range, so that the
// caller's own connections never take one. A free port may be taken by
// another program before the server binds it, and a fixed one may linger
// for a moment after its last server stopped: when the port is in use,
// StartServer tries again, up to five times in all.
func StartServer(ctx context.Context, bore string, ctrl int, extra ...string) (*Proc, int, error) {
	for attempt := 0; ; attempt++ {
		port := ctrl
		if port == 0 {
			var err error
			if port, err = FreePort(); err != nil {
				return nil, 0, err
			}
		}
		args := append([]string{"server", "--bind-addr", "127.0.0.1", "--control-port", strconv.Itoa(port),
			"--min-port", "10000", "--max-port", "30000"}, extra...)
		srv, err := Start(bore, "bore server", nil, args...)
		if err != nil {
			return nil, 0, err
		}
		if _, err = srv.WaitFor(ctx, ServerReady(), 0, StartTimeout); err == nil {
			return srv, port, nil
		}
		srv.Stop()
		if attempt == 4 || !strings.Contains(err.Error(), "address already in use") {
			return nil, 0, err
		}
		if ctrl != 0 {
			t := time.NewTimer(time.Second)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, 0, err
			case <-t.C:
			}
		}
	}
}

// StartClient runs "bore local" (the binary bore), named name in error
// messages, to expose 127.0.0.1:localPort through the server on
// 127.0.0.1:ctrl, with extra arguments, and waits until it has connected.
// It returns the process and the tunnel's public address.
func StartClient(ctx context.Context, bore, name string, ctrl, localPort int, extra ...string) (*Proc, string, error) {
	args := append([]string{"local", strconv.Itoa(localPort),
		"--local-host", "127.0.0.1", "--to", "127.0.0.1", "--control-port", strconv.Itoa(ctrl)}, extra...)
	cli, err := Start(bore, name, nil, args...)
	if err != nil {
		return nil, "", err
	}
	port, err := cli.WaitFor(ctx, ClientReady(), 0, StartTimeout)
	if err != nil {
		cli.Stop()
		return nil, "", err
	}
	return cli, net.JoinHostPort("127.0.0.1", port), nil
}
