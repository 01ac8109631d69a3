package desktop

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

// trayWatcher is the bus name of the tray host panels provide.
const trayWatcher = "org.kde.StatusNotifierWatcher"

// WaitForHost returns nil once a system tray host (a StatusNotifierWatcher)
// is on the session bus, at once if one is there already, or ctx's error
// when ctx ends first. The systray shell registers with a host that appears
// by itself; this only lets the app say so. It uses a private connection.
func WaitForHost(ctx context.Context) error {
	conn, err := privateSession()
	if err != nil {
		return fmt.Errorf("cannot watch for a tray host: %w", err)
	}
	defer conn.Close()
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

// TrayItemName is the bus name fyne.io/systray exports this process's
// tray item under.
func TrayItemName() string {
	return fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", os.Getpid())
}

// EnsureRegistered makes sure the tray host lists the item exported as
// name, once a host has appeared. The systray shell registers by itself
// when a host appears, but misses one that appears while it is still
// setting up; so when the host has not listed the item within wait, this
// registers it on its behalf. A host that does not say which items it lists
// is trusted.
func EnsureRegistered(ctx context.Context, name string, wait time.Duration) error {
	conn, err := privateSession()
	if err != nil {
		return err
	}
	defer conn.Close()
	var owner string
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.GetNameOwner", 0, name).Store(&owner); err != nil {
		return fmt.Errorf("the tray item %s is not on the bus: %w", name, err)
	}
	watcher := conn.Object(trayWatcher, "/StatusNotifierWatcher")
	deadline := time.Now().Add(wait)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		v, err := watcher.GetProperty(trayWatcher + ".RegisteredStatusNotifierItems")
		if err != nil {
			return nil // cannot tell: trust the shell's own registration
		}
		items, _ := v.Value().([]string)
		for _, it := range items {
			if strings.HasPrefix(it, owner) || strings.HasPrefix(it, name) {
				return nil
			}
		}
		if time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	if err := watcher.CallWithContext(ctx, trayWatcher+".RegisterStatusNotifierItem", 0, name).Err; err != nil {
		return fmt.Errorf("cannot register the tray icon with the tray host: %w", err)
	}
	return nil
}

// privateSession opens a private, authenticated session bus connection.
func privateSession() (*dbus.Conn, error) {
	conn, err := dbus.SessionBusPrivate()
	if err != nil {
		return nil, fmt.Errorf("cannot reach the session bus: %w", err)
	}
	if err := conn.Auth(nil); err != nil {
		conn.Close()
		return nil, fmt.Errorf("cannot reach the session bus: %w", err)
	}
	if err := conn.Hello(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("cannot reach the session bus: %w", err)
	}
	return conn, nil
}
