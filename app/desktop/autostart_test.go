//go:build !darwin && !windows

package desktop

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/adrg/xdg"
)

func TestAutostartXDG(t *testing.T) {
	dir := isolateXDG(t)
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "xdg_data_home"))
	xdg.Reload()
	png := []byte("\x89PNG\r\n\x1a\nicon")
	a := Autostart{Name: "Bore", Exec: "/opt/Bore App/bore", Args: []string{"--tray", "50%", `a"b`}, Icon: png}
	icon := filepath.Join(dir, "xdg_data_home", "icons", "hicolor", "128x128", "apps", "bore.png")
	want := filepath.Join(dir, "xdg_config_home", "autostart", "bore.desktop")

	if on, err := a.Enabled(); err != nil || on {
		t.Fatalf("Enabled() before Enable = %v, %v; want false", on, err)
	}
	if err := a.Enable(); err != nil {
		t.Fatalf("Enable: %v", err)
	}
	data, err := os.ReadFile(want)
	if err != nil {
		t.Fatalf("autostart file not written at %s: %v", want, err)
	}
	for _, line := range []string{
		"[Desktop Entry]", "Type=Application", "Name=Bore",
		`Exec="/opt/Bore App/bore" --tray 50%% "a\\"b"`,
		"Icon=" + icon,
	} {
		if !strings.Contains(string(data), line+"\n") {
			t.Errorf("autostart file lacks %q:\n%s", line, data)
		}
	}
	if got, err := os.ReadFile(icon); err != nil || string(got) != string(png) {
		t.Errorf("icon not installed at %s: %v", icon, err)
	}
	if on, err := a.Enabled(); err != nil || !on {
		t.Errorf("Enabled() after Enable = %v, %v; want true", on, err)
	}
	if p, err := exec.LookPath("desktop-file-validate"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, p, want).CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
			t.Errorf("desktop-file-validate: %v\n%s", err, out)
		}
	} else if os.Getenv("CI") != "" {
		t.Errorf("desktop-file-validate is required under CI (apt package desktop-file-utils): %v", err)
	} else {
		t.Log("desktop-file-validate not installed (apt package desktop-file-utils); skipping validation")
	}
	if err := a.Enable(); err != nil { // idempotent
		t.Fatalf("second Enable: %v", err)
	}
	if err := a.Disable(); err != nil {
		t.Fatalf("Disable: %v", err)
	}
	if _, err := os.Stat(want); !os.IsNotExist(err) {
		t.Errorf("autostart file still there after Disable: %v", err)
	}
	if on, err := a.Enabled(); err != nil || on {
		t.Errorf("Enabled() after Disable = %v, %v; want false", on, err)
	}
	if err := a.Disable(); err != nil {
		t.Errorf("Disable when already disabled: %v", err)
	}
}

func TestAutostartHiddenIsDisabled(t *testing.T) {
	dir := isolateXDG(t)
	a := Autostart{Exec: "/usr/bin/bore"}
	p := filepath.Join(dir, "xdg_config_home", "autostart", "bore.desktop")
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("[Desktop Entry]\nType=Application\nName=Bore\nExec=bore\nHidden=true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if on, err := a.Enabled(); err != nil || on {
		t.Errorf("Enabled() with Hidden=true = %v, %v; want false", on, err)
	}
}

func TestAutostartNeedsAbsolutePath(t *testing.T) {
	isolateXDG(t)
	if err := (Autostart{Exec: "bore"}).Enable(); err == nil {
		t.Error("Enable with a relative Exec succeeded")
	}
}

func TestDesktopExec(t *testing.T) {
	t.Parallel()
	tests := []struct {
		argv []string
		want string
	}{
		{[]string{"/usr/bin/bore"}, "/usr/bin/bore"},
		{[]string{"/opt/my app/bore", "--x"}, `"/opt/my app/bore" --x`},
		{[]string{"/b", "100%"}, "/b 100%%"},
		{[]string{"/b", `$HOME`}, `/b "\\$HOME"`},
		{[]string{"/b", `back\slash`}, `/b "back\\\\slash"`},
		{[]string{"/b", ""}, `/b ""`},
	}
	for _, tt := range tests {
		got, err := desktopExec(tt.argv)
		if err != nil || got != tt.want {
			t.Errorf("desktopExec(%q) = %q, %v; want %q", tt.argv, got, err, tt.want)
		}
	}
	if _, err := desktopExec([]string{"/b", "two\nlines"}); err == nil {
		t.Error("desktopExec accepted a newline")
	}
}
