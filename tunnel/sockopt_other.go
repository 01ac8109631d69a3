//go:build !linux

package tunnel

import (
	"net"
	"time"
)

// setUserTimeout does nothing where TCP_USER_TIMEOUT is not available;
// keepalive and write deadlines still bound a vanished peer.
func setUserTimeout(c net.Conn, d time.Duration) {}

// quickAck does nothing where TCP_QUICKACK is not available.
func quickAck(c net.Conn) {}

// listenConfig is how Listen opens listeners: Go's default, keepalive
// set on each accepted connection.
func listenConfig() *net.ListenConfig { return new(net.ListenConfig) }
