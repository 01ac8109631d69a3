//go:build !darwin && !windows

package desktop

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/adrg/xdg"
)

// path is the XDG autostart entry: $XDG_CONFIG_HOME/autostart/<slug>.desktop.
func (a Autostart) path() string {
	return filepath.Join(xdg.ConfigHome, "autostart", a.slug()+".desktop")
}

// iconPath is where Enable installs the icon:
// $XDG_DATA_HOME/icons/hicolor/128x128/apps/<slug>.png.
func (a Autostart) iconPath() string {
	return filepath.Join(xdg.DataHome, "icons", "hicolor", "128x128", "apps", a.slug()+".png")
}

// Enable writes the autostart entry, replacing an older one, and installs
// the icon it names.
func (a Autostart) Enable() error {
	if !filepath.IsAbs(a.Exec) {
		return fmt.Errorf("cannot enable launch at login: %q is not an absolute path", a.Exec)
	}
	if len(a.Icon) > 0 {
		if err := writeFileAtomic(a.iconPath(), a.Icon, 0o644); err != nil {
			return fmt.Errorf("cannot enable launch at login: install the icon: %w", err)
		}
	}
	content, err := a.desktopEntry()
	if err != nil {
		return fmt.Errorf("cannot enable launch at login: %w", err)
	}
	if err := writeFileAtomic(a.path(), []byte(content), 0o644); err != nil {
		return fmt.Errorf("cannot enable launch at login: %w", err)
	}
	return nil
}

// Disable removes the autostart entry; a missing entry is not an error.
func (a Autostart) Disable() error {
	if err := os.Remove(a.path()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("cannot disable launch at login: %w", err)
	}
	return nil
}

// Enabled reports whether the autostart entry exists and is not hidden.
func (a Autostart) Enabled() (bool, error) {
	data, err := os.ReadFile(a.path())
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cannot check launch at login: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if (k == "Hidden" && v == "true") || (k == "X-GNOME-Autostart-enabled" && v == "false") {
			return false, nil
		}
	}
	return true, nil
}

// desktopEntry renders the .desktop file.
func (a Autostart) desktopEntry() (string, error) {
	execLine, err := desktopExec(append([]string{a.Exec}, a.Args...))
	if err != nil {
		return "", err
	}
	name := strings.NewReplacer("\n", " ", "\r", " ").Replace(a.name())
	icon := a.slug()
	if len(a.Icon) > 0 {
		icon = a.iconPath()
	}
	return "[Desktop Entry]\n" +
		"Type=Application\n" +
		"Name=" + name + "\n" +
		"Comment=Share a local TCP port on a public server\n" +
		"Exec=" + execLine + "\n" +
		"Icon=" + icon + "\n" +
		"Terminal=false\n" +
		"X-GNOME-Autostart-enabled=true\n", nil
}
