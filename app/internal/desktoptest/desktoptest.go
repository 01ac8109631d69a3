// Package desktoptest holds what the tray's end-to-end tests need to play
// the desktop around the app: a private session bus, a headless X server,
// a panel that hosts status notifier items and shows notifications, and a
// way to read the clipboard.
//
// Only tests import it. Each helper takes the test it serves and stops
// what it started when that test ends.
package desktoptest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// NeedTools skips the test when one of tools is not installed, or fails it
// when the environment variable CI is set, since CI must install them.
// packages names the Debian packages that provide them.
func NeedTools(t testing.TB, packages string, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing; CI must install %s", tool, packages)
			}
			t.Skipf("%s is missing (install %s to run this test)", tool, packages)
		}
	}
}

// SessionBus runs a private dbus-daemon and returns its address.
func SessionBus(t testing.TB) string {
	t.Helper()
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting dbus-daemon: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the bus address from dbus-daemon: %v", err)
	}
	return strings.TrimSpace(line)
}

// Xvfb runs a headless X server on a free display and returns the display
// name, such as ":3".
func Xvfb(t testing.TB) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-nolisten", "tcp", "-screen", "0", "320x240x24")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting Xvfb: %v", err)
	}
	w.Close()
	// Killing the X server also ends the xclip the clipboard leaves
	// serving the selection.
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(r).ReadString('\n')
	r.Close()
	if err != nil {
		t.Fatalf("reading the display number from Xvfb: %v", err)
	}
	return ":" + strings.TrimSpace(line)
}

// Clipboard returns the clipboard's text on the X display in $DISPLAY.
func Clipboard(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("xclip", "-out", "-selection", "clipboard").Output()
	if err != nil {
		t.Fatalf("reading the clipboard: %v", err)
	}
	return string(out)
}

// WaitFor polls check every 20 ms until it reports ok and returns its
// value, failing the test if that takes more than 20 seconds.
func WaitFor[T any](t testing.TB, what string, check func() (T, bool)) T {
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

// RunChild runs the test named name again in a fresh process with the
// environment variable env set to value, as a test whose body needs a
// process of its own (systray supports one tray per process) does. It fails
// t unless the child passed or failed only by OnlyKnownRaces, and returns
// the child's combined output.
func RunChild(t *testing.T, name, env, value string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^"+name+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), env+"="+value, "GORACE=halt_on_error=0")
	out, err := cmd.CombinedOutput()
	if testing.Verbose() {
		t.Logf("tray process output:\n%s", out)
	}
	if err != nil && !OnlyKnownRaces(string(out)) {
		t.Fatalf("the %s process failed: %v\n%s", name, err, out)
	}
	return string(out)
}

// Logf prints a progress line of a test that its parent test runs in a
// fresh process (systray supports one tray per process). Such a test must
// log only this way, not with t.Logf: then any line of its output that names
// a test file is a failed check, which OnlyKnownRaces relies on.
func Logf(format string, args ...any) {
	fmt.Printf("        %s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
}

// failedCheck matches the line a failed t.Error or t.Fatal prints.
var failedCheck = regexp.MustCompile(`(_test|desktoptest)\.go:\d+: `)

// OnlyKnownRaces reports whether a failed child process, whose combined
// output is out, failed only because the race detector saw systray's own
// unsynchronised menu version counter: GetLayout reads it under the menu
// lock while the refresh it schedules 150 ms later writes it under another
// lock (fyne.io/systray v1.12.2, systray_menu_unix.go). The value is a
// revision number, so the race is harmless, and it is not ours to fix. Any
// other race, a panic, or a failed check in the child (a line naming a test
// file; the child logs with Logf) still counts as a failure.
func OnlyKnownRaces(out string) bool {
	if !strings.Contains(out, "race detected during execution of test") ||
		strings.Contains(out, "panic:") || failedCheck.MatchString(out) {
		return false
	}
	blocks := strings.Split(out, "WARNING: DATA RACE")
	for _, b := range blocks[1:] {
		if !strings.Contains(b, "fyne.io/systray.refresh()") || !strings.Contains(b, "fyne.io/systray.(*tray).GetLayout") {
			return false
		}
	}
	return len(blocks) > 1
}

// Panel plays the desktop on the session bus in $DBUS_SESSION_BUS_ADDRESS:
// the StatusNotifierWatcher that tray items register with, and the
// notification server.
type Panel struct {
	// Conn is the panel's own bus connection, for calling the items.
	Conn *dbus.Conn

	mu         sync.Mutex
	registered []string
	notified   []string
}

// StartPanel connects to the session bus and takes the watcher's and the
// notification server's names.
func StartPanel(t testing.TB) *Panel {
	t.Helper()
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatalf("connecting to the test bus: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	p := &Panel{Conn: conn}
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

func (p *Panel) register(sender dbus.Sender, service string) *dbus.Error {
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
func (p *Panel) property(iface, name string) (dbus.Variant, *dbus.Error) {
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

func (p *Panel) notify(app string, replaces uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.notified = append(p.notified, summary+": "+body)
	return uint32(len(p.notified)), nil
}

// Notes returns the notifications shown so far, each as "summary: body".
func (p *Panel) Notes() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.notified...)
}

// WaitRegistered waits for the first item to register and returns its bus
// name.
func (p *Panel) WaitRegistered(t testing.TB) string {
	t.Helper()
	return WaitFor(t, "the tray to register", func() (string, bool) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if len(p.registered) == 0 {
			return "", false
		}
		return p.registered[0], true
	})
}
