//go:build !linux

package tunnel

import "net"

// resetEnd reports whether c, whose read has just returned EOF, was reset
// rather than ended with a FIN. Only Linux can tell (resetend_linux.go);
// elsewhere the EOF stands.
func resetEnd(c net.Conn, sentFIN bool) bool { return false }
