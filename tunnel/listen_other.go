//go:build !unix

package tunnel

import "net"

// v6only reports -1: unknown on this platform.
func v6only(net.Listener) int { return -1 }
