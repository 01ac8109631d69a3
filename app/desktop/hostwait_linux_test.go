package desktop

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// privateBus starts a dbus-daemon of the test's own and points the session
// bus at it.
func privateBus(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("dbus-daemon is missing; CI must install the dbus package")
		}
		t.Skip("dbus-daemon is missing (install the dbus package to run this test)")
	}
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--print-address")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the bus address: %v", err)
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", strings.TrimSpace(addr))
}

func TestWaitForHostReturnsWhenAPanelStarts(t *testing.T) {
	privateBus(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- WaitForHost(ctx) }()

	// Nothing returns while there is no host; a host appearing ends it.
	// Wait until the watcher's match rule is in: its connection is one
	// of the bus's names besides the daemon's and ours.
	panel, err := dbus.SessionBusPrivate()
	if err != nil {
		t.Fatal(err)
	}
	defer panel.Close()
	if err := panel.Auth(nil); err != nil {
		t.Fatal(err)
	}
	if err := panel.Hello(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		t.Fatalf("WaitForHost returned %v with no host", err)
	default:
	}
	reply, err := panel.RequestName(trayWatcher, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning %s: %v (%v)", trayWatcher, err, reply)
	}
	if err := <-done; err != nil {
		t.Fatalf("WaitForHost = %v after a host started", err)
	}
	// With the host there, it returns at once.
	if err := WaitForHost(ctx); err != nil {
		t.Fatalf("WaitForHost with a host = %v", err)
	}
	cancel()
}

func TestWaitForHostEndsWithItsContext(t *testing.T) {
	privateBus(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- WaitForHost(ctx) }()
	cancel()
	if err := <-done; err == nil {
		t.Fatal("WaitForHost returned nil with no host")
	}
}

// fakeWatcher owns the tray host's name on the test bus and records the
// items registered with it; lists says whether it answers
// RegisteredStatusNotifierItems.
type fakeWatcher struct {
	mu    sync.Mutex
	items []string
}

func startFakeWatcher(t *testing.T, lists bool) *fakeWatcher {
	t.Helper()
	conn, err := privateSession()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	w := &fakeWatcher{}
	if err := conn.ExportMethodTable(map[string]any{
		"RegisterStatusNotifierItem": func(service string) *dbus.Error {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.items = append(w.items, service)
			return nil
		},
	}, "/StatusNotifierWatcher", trayWatcher); err != nil {
		t.Fatal(err)
	}
	if lists {
		if err := conn.ExportMethodTable(map[string]any{
			"Get": func(iface, name string) (dbus.Variant, *dbus.Error) {
				w.mu.Lock()
				defer w.mu.Unlock()
				return dbus.MakeVariant(append([]string{}, w.items...)), nil
			},
		}, "/StatusNotifierWatcher", "org.freedesktop.DBus.Properties"); err != nil {
			t.Fatal(err)
		}
	}
	if reply, err := conn.RequestName(trayWatcher, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning %s: %v (%v)", trayWatcher, err, reply)
	}
	return w
}

func (w *fakeWatcher) registered() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string{}, w.items...)
}

// exportItem owns an item name on the test bus, as systray does.
func exportItem(t *testing.T, name string) {
	t.Helper()
	conn, err := privateSession()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if reply, err := conn.RequestName(name, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning %s: %v (%v)", name, err, reply)
	}
}

func TestEnsureRegisteredRegistersAMissedItem(t *testing.T) {
	privateBus(t)
	w := startFakeWatcher(t, true)
	name := TrayItemName()
	exportItem(t, name)
	if err := EnsureRegistered(context.Background(), name, 0); err != nil {
		t.Fatal(err)
	}
	if got := w.registered(); len(got) != 1 || got[0] != name {
		t.Fatalf("registered = %q, want [%s]", got, name)
	}
	// Listed now: not registered twice.
	if err := EnsureRegistered(context.Background(), name, 0); err != nil {
		t.Fatal(err)
	}
	if got := w.registered(); len(got) != 1 {
		t.Fatalf("registered twice: %q", got)
	}
}

func TestEnsureRegisteredTrustsAHostThatDoesNotList(t *testing.T) {
	privateBus(t)
	w := startFakeWatcher(t, false)
	name := TrayItemName()
	exportItem(t, name)
	if err := EnsureRegistered(context.Background(), name, 0); err != nil {
		t.Fatal(err)
	}
	if got := w.registered(); len(got) != 0 {
		t.Fatalf("registered %q with a host that does not list its items", got)
	}
	if err := EnsureRegistered(context.Background(), "org.kde.StatusNotifierItem-0-9", 0); err == nil {
		t.Error("an item that is not on the bus was accepted")
	}
}
