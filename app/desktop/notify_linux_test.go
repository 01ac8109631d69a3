package desktop

import (
	"bufio"
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// startSessionBus starts a private dbus-daemon and points
// DBUS_SESSION_BUS_ADDRESS at it.
func startSessionBus(t *testing.T) string {
	t.Helper()
	daemon := requireTool(t, "dbus-daemon", "dbus")
	cmd := exec.Command(daemon, "--session", "--nofork", "--nopidfile", "--print-address=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- strings.TrimSpace(line)
	}()
	select {
	case addr := <-lines:
		if addr == "" {
			t.Fatalf("dbus-daemon printed no address: %s", stderr.String())
		}
		t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
		return addr
	case <-time.After(30 * time.Second):
		t.Fatal("dbus-daemon did not start within 30s")
		return ""
	}
}

// notification is one recorded Notify call.
type notification struct {
	app, icon, summary, body string
}

// fakeNotifications records Notify calls, as a notification daemon would
// receive them.
type fakeNotifications struct {
	calls chan notification
}

// Notify implements org.freedesktop.Notifications.Notify.
func (f *fakeNotifications) Notify(app string, replaces uint32, icon, summary, body string, actions []string, hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	f.calls <- notification{app, icon, summary, body}
	return 1, nil
}

// GetCapabilities implements org.freedesktop.Notifications.GetCapabilities.
func (f *fakeNotifications) GetCapabilities() ([]string, *dbus.Error) {
	return []string{"body"}, nil
}

// GetServerInformation implements org.freedesktop.Notifications.GetServerInformation.
func (f *fakeNotifications) GetServerInformation() (string, string, string, string, *dbus.Error) {
	return "fake", "bore", "1", "1.2", nil
}

// ownNotifications serves org.freedesktop.Notifications on the bus at addr.
func ownNotifications(t *testing.T, addr string) *fakeNotifications {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	f := &fakeNotifications{calls: make(chan notification, 8)}
	if err := conn.Export(f, "/org/freedesktop/Notifications", "org.freedesktop.Notifications"); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("could not own org.freedesktop.Notifications: %v (reply %v)", err, reply)
	}
	return f
}

func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestNotify(t *testing.T) {
	isolateXDG(t)
	addr := startSessionBus(t)
	fake := ownNotifications(t, addr)

	n := &Notifier{Icon: testPNG(t)}
	if err := n.Notify("Tunnel open", "bore.pub:41234 → localhost:3000"); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	select {
	case got := <-fake.calls:
		if got.app != "Bore" || got.summary != "Tunnel open" || got.body != "bore.pub:41234 → localhost:3000" {
			t.Errorf("Notify call = %+v, want app Bore and the title/body sent", got)
		}
		data, err := os.ReadFile(got.icon)
		if err != nil || !bytes.Equal(data, n.Icon) {
			t.Errorf("icon %q does not hold the PNG (err %v)", got.icon, err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no Notify call within 30s")
	}

	// A second notification reuses the cached icon and the app name given.
	n2 := &Notifier{AppName: "Bore Dev", Icon: n.Icon}
	if err := n2.Notify("Again", ""); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	select {
	case got := <-fake.calls:
		if got.app != "Bore Dev" || got.summary != "Again" {
			t.Errorf("second Notify call = %+v", got)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no second Notify call within 30s")
	}
}

func TestNotifyNoSessionBus(t *testing.T) {
	isolateXDG(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	err := (&Notifier{}).Notify("t", "b")
	if err == nil || !strings.Contains(err.Error(), "no D-Bus session bus") {
		t.Errorf("Notify without a bus = %v, want a clear no-session-bus error", err)
	}
}
