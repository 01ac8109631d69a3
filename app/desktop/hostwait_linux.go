package desktop

import (
	"context"
	"fmt"

	"github.com/godbus/dbus/v5"
)

// trayWatcher is the bus name of the tray host panels provide.
const trayWatcher = "org.kde.StatusNotifierWatcher"

// WaitForHost returns nil once a system tray host (a StatusNotifierWatcher)
// is on the session bus, at once if one is there already, or ctx's error
// when ctx ends first. The systray shell registers with a host that appears
// by itself; this only lets the app say so. It uses a private connection.
func WaitForHost(ctx context.Context) error {
	conn, err := dbus.SessionBusPrivate()
	if err != nil {
		return fmt.Errorf("cannot watch for a tray host: %w", err)
	}
	defer conn.Close()
	if err := conn.Auth(nil); err != nil {
		return fmt.Errorf("cannot watch for a tray host: %w", err)
	}
	if err := conn.Hello(); err != nil {
		return fmt.Errorf("cannot watch for a tray host: %w", err)
	}
	// Subscribe first, then look: a host starting in between is not missed.
	if err := conn.AddMatchSignal(
		dbus.WithMatchObjectPath("/org/freedesktop/DBus"),
		dbus.WithMatchInterface("org.freedesktop.DBus"),
		dbus.WithMatchMember("NameOwnerChanged"),
		dbus.WithMatchArg(0, trayWatcher),
	); err != nil {
		return fmt.Errorf("cannot watch for a tray host: %w", err)
	}
	signals := make(chan *dbus.Signal, 8)
	conn.Signal(signals)
	var has bool
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, trayWatcher).Store(&has); err != nil {
		return fmt.Errorf("cannot watch for a tray host: %w", err)
	}
	if has {
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case sig, ok := <-signals:
			if !ok || sig == nil {
				return fmt.Errorf("cannot watch for a tray host: the session bus closed")
			}
			if len(sig.Body) == 3 {
				if owner, _ := sig.Body[2].(string); owner != "" {
					return nil
				}
			}
		}
	}
}
