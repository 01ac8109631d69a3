//go:build linux

package tray_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// panel plays the desktop: the StatusNotifierWatcher the tray registers
// with, and the notification server.
type panel struct {
	conn *dbus.Conn

	mu         sync.Mutex
	registered []string
	notified   []string
}

func startPanel(t *testing.T) *panel {
	t.Helper()
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatalf("connecting to the test bus: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	p := &panel{conn: conn}
	if err := conn.ExportMethodTable(map[string]any{
		"RegisterStatusNotifierItem": p.register,
	}, "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher"); err != nil {
		t.Fatal(err)
	}
	if err := conn.ExportMethodTable(map[string]any{
		"Get": p.property,
	}, "/StatusNotifierWatcher", "org.freedesktop.DBus.Properties"); err != nil {
		t.Fatal(err)
	}
	if err := conn.ExportMethodTable(map[string]any{
		"Notify":               p.notify,
		"GetCapabilities":      func() ([]string, *dbus.Error) { return []string{"body"}, nil },
		"GetServerInformation": func() (string, string, string, string, *dbus.Error) { return "test", "bore", "1", "1.2", nil },
		"CloseNotification":    func(uint32) *dbus.Error { return nil },
	}, "/org/freedesktop/Notifications", "org.freedesktop.Notifications"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"org.kde.StatusNotifierWatcher", "org.freedesktop.Notifications"} {
		reply, err := conn.RequestName(name, dbus.NameFlagDoNotQueue)
		if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
			t.Fatalf("owning %s: %v (reply %v)", name, err, reply)
		}
	}
	return p
}

func (p *panel) register(sender dbus.Sender, service string) *dbus.Error {
	p.mu.Lock()
	defer p.mu.Unlock()
	// The argument is an object path (the sender is the item's bus name)
	// or, from a helper registering on the item's behalf, its bus name.
	name := string(sender)
	if !strings.HasPrefix(service, "/") {
		name = service
	}
	if !slices.Contains(p.registered, name) {
		p.registered = append(p.registered, name)
	}
	return nil
}

// property answers Properties.Get for RegisteredStatusNotifierItems, as
// real watchers do.
func (p *panel) property(iface, name string) (dbus.Variant, *dbus.Error) {
	if iface != "org.kde.StatusNotifierWatcher" || name != "RegisteredStatusNotifierItems" {
		return dbus.Variant{}, dbus.MakeFailedError(errors.New("no such property"))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var items []string
	for _, r := range p.registered {
		items = append(items, r+"/StatusNotifierItem")
	}
	return dbus.MakeVariant(items), nil
}

func (p *panel) notify(app string, replaces uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.notified = append(p.notified, summary+": "+body)
	return uint32(len(p.notified)), nil
}

func (p *panel) waitRegistered(t *testing.T) string {
	t.Helper()
	return waitFor(t, "the tray to register", func() (string, bool) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if len(p.registered) == 0 {
			return "", false
		}
		return p.registered[0], true
	})
}

// waitFor polls check until it reports ok, failing the test after a deadline.
func waitFor[T any](t *testing.T, what string, check func() (T, bool)) T {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if v, ok := check(); ok {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}
