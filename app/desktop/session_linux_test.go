package desktop

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSessionBusIsFoundWhereGodbusLooks(t *testing.T) {
	isolateXDG(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	if hasSessionBus() {
		t.Fatal("a bus was found with neither the variable nor a socket")
	}
	if _, err := CheckSession(); err == nil || !strings.Contains(err.Error(), "no D-Bus session bus") {
		t.Errorf("CheckSession without a bus = %v, want a clear no-session-bus error", err)
	}

	// A plain file is not a bus.
	bus := filepath.Join(os.Getenv("XDG_RUNTIME_DIR"), "bus")
	if err := os.WriteFile(bus, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if hasSessionBus() {
		t.Error("a regular file at $XDG_RUNTIME_DIR/bus counted as a bus")
	}
	os.Remove(bus)
	ln, err := net.Listen("unix", bus)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if !hasSessionBus() {
		t.Error("the socket at $XDG_RUNTIME_DIR/bus was not found")
	}

	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
	if !hasSessionBus() {
		t.Error("DBUS_SESSION_BUS_ADDRESS was not taken")
	}
}
