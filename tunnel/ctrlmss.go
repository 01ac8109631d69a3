package tunnel

import (
	"context"
	"fmt"
	"net"
)

// connectControl dials a control connection as connect does, asking the
// server for small segments (see controlDialer). Only control connections
// do: visitor connections carry bulk data.
func (t *Tunnel) connectControl(ctx context.Context) (net.Conn, *frameReader, error) {
	dctx, cancel := context.WithTimeout(ctx, NetworkTimeout)
	defer cancel()
	conn, err := controlDialer(t.dialer).DialContext(dctx, "tcp", t.ctrlAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("could not connect to %s: %w", t.ctrlAddr, err)
	}
	return conn, newFrameReader(conn), nil
}
