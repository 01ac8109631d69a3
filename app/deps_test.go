package app

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestNoDesktopDependencies keeps app pure: everything touching the desktop
// (D-Bus, notifications, the clipboard, the tray, image files, the port
// scanner) lives behind
// the interfaces the loop carries effects out through.
func TestNoDesktopDependencies(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("the go command is not on PATH")
		}
		t.Skip("the go command is not on PATH")
	}
	out, err := exec.Command(gobin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	forbidden := []string{
		"github.com/godbus/",
		"github.com/gen2brain/beeep",
		"github.com/atotto/clipboard",
		"fyne.io/systray",
		"github.com/skip2/go-qrcode",
		"github.com/boretray/bore/app/desktop",
		"github.com/boretray/bore/app/ports",
		"github.com/boretray/bore/app/tray",
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps named only %q", deps)
	}
	for _, dep := range deps {
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				t.Errorf("app depends on %s", dep)
			}
		}
	}
}
