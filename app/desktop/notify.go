package desktop

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/adrg/xdg"

	"github.com/boretray/bore/app/internal/atomicfile"
	"github.com/gen2brain/beeep"
	"github.com/godbus/dbus/v5"
)

// Notifier raises desktop notifications. On Linux it calls the
// org.freedesktop.Notifications service on a private D-Bus connection, so
// the tray's shared session connection never sees notification signals
// (they can stop the tray from re-registering with a restarted panel), and
// falls back to github.com/gen2brain/beeep (notify-send, kdialog). On macOS
// and Windows it uses beeep. A Notifier is safe for concurrent use.
type Notifier struct {
	AppName string // shown as the sender; "" means "Bore"
	Icon    []byte // PNG, written once to a cache file for the notification service

	mu       sync.Mutex
	iconPath string
}

// Notify shows a notification with title and body.
func (n *Notifier) Notify(title, body string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	app := n.AppName
	if app == "" {
		app = "Bore"
	}
	icon := n.iconFile()

	if runtime.GOOS == "linux" {
		if !hasSessionBus() {
			// Without this check godbus and notify-send would start
			// dbus-launch, leaving a stray dbus-daemon behind.
			return errors.New("could not show a notification: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set); notifications need a desktop session")
		}
		err := notifyDBus(app, icon, title, body)
		if err == nil {
			return nil
		}
		if berr := n.notifyBeeep(app, icon, title, body); berr != nil {
			return fmt.Errorf("could not show a notification: %w (is a notification daemon running?)", err)
		}
		return nil
	}
	if err := n.notifyBeeep(app, icon, title, body); err != nil {
		return fmt.Errorf("could not show a notification: %w", err)
	}
	return nil
}

// notifyBeeep sends through beeep. beeep keeps the app name in a package
// variable; it is only written here, under n.mu.
func (n *Notifier) notifyBeeep(app, icon, title, body string) error {
	if beeep.AppName != app {
		beeep.AppName = app
	}
	var ic any = icon
	if icon == "" && len(n.Icon) > 0 {
		ic = n.Icon
	}
	return beeep.Notify(title, body, ic)
}

// iconFile writes the icon to the cache directory the first time and
// returns its path, or "" when there is no icon or it could not be written.
// The name carries a hash of the content so different icons never clash.
func (n *Notifier) iconFile() string {
	if len(n.Icon) == 0 {
		return ""
	}
	if n.iconPath != "" {
		if _, err := os.Stat(n.iconPath); err == nil {
			return n.iconPath
		}
	}
	sum := sha256.Sum256(n.Icon)
	dir := filepath.Join(xdg.CacheHome, "bore")
	path := filepath.Join(dir, "icon-"+hex.EncodeToString(sum[:8])+".png")
	if _, err := os.Stat(path); err != nil {
		if atomicfile.Write(path, n.Icon, 0o600) != nil {
			return ""
		}
	}
	n.iconPath = path
	return path
}

// notifyDBus calls org.freedesktop.Notifications.Notify on a private
// session bus connection, closed afterwards.
func notifyDBus(app, icon, title, body string) error {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return fmt.Errorf("connect to the session bus: %w", err)
	}
	defer conn.Close()
	obj := conn.Object("org.freedesktop.Notifications", "/org/freedesktop/Notifications")
	hints := map[string]dbus.Variant{"urgency": dbus.MakeVariant(byte(1))}
	call := obj.Call("org.freedesktop.Notifications.Notify", 0,
		app, uint32(0), icon, title, body, []string{}, hints, int32(-1))
	if call.Err != nil {
		return fmt.Errorf("notification service: %w", call.Err)
	}
	return nil
}
