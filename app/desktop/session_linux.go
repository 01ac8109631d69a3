package desktop

import (
	"errors"
	"fmt"

	"github.com/godbus/dbus/v5"
)

// CheckSession makes sure the tray can be shown: on Linux the tray speaks
// D-Bus, so it needs a session bus (err, fatal) and a tray host, the
// StatusNotifierWatcher (noHost, not fatal: the icon appears as soon as a
// host starts).
//
// It looks for the bus itself (hasSessionBus) because godbus would otherwise
// spawn dbus-launch, leaving a stray daemon, and systray's Quit panics when
// it never connected. It uses a private connection, never the shared one
// systray relies on.
func CheckSession() (noHost, err error) {
	if !hasSessionBus() {
		return nil, errors.New("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set): " +
			"the tray app needs a desktop session; from a terminal, use \"bore local <port>\" instead")
	}
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return nil, fmt.Errorf("cannot reach the D-Bus session bus (%w): "+
			"the tray app needs a desktop session; from a terminal, use \"bore local <port>\" instead", err)
	}
	defer conn.Close()
	var has bool
	err = conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.kde.StatusNotifierWatcher").Store(&has)
	if err != nil || !has {
		return errors.New("no system tray host is running: the icon appears when one starts " +
			"(on GNOME, enable the AppIndicator extension)"), nil
	}
	return nil, nil
}
