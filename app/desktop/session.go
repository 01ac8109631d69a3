package desktop

import (
	"os"
	"path/filepath"
)

// hasSessionBus reports whether a session bus can be found without
// auto-launching one: DBUS_SESSION_BUS_ADDRESS, or the socket at
// $XDG_RUNTIME_DIR/bus, where godbus also looks. It is the one check both
// CheckSession and Notifier use.
func hasSessionBus() bool {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") != "" {
		return true
	}
	if rt := os.Getenv("XDG_RUNTIME_DIR"); rt != "" {
		if fi, err := os.Stat(filepath.Join(rt, "bus")); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return true
		}
	}
	return false
}
