package desktop

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/windows/registry"
)

// runKey is the per-user list of programs started at login.
const runKey = `Software\Microsoft\Windows\CurrentVersion\Run`

// commandLine quotes Exec and Args for the Run value.
func (a Autostart) commandLine() string {
	parts := []string{syscall.EscapeArg(a.Exec)}
	if !strings.HasPrefix(parts[0], `"`) {
		parts[0] = `"` + a.Exec + `"`
	}
	for _, arg := range a.Args {
		parts = append(parts, syscall.EscapeArg(arg))
	}
	return strings.Join(parts, " ")
}

// Enable sets the Run value, replacing an older one.
func (a Autostart) Enable() error {
	if !filepath.IsAbs(a.Exec) {
		return fmt.Errorf("cannot enable launch at login: %q is not an absolute path", a.Exec)
	}
	k, _, err := registry.CreateKey(registry.CURRENT_USER, runKey, registry.SET_VALUE)
	if err != nil {
		return fmt.Errorf("cannot enable launch at login: %w", err)
	}
	defer k.Close()
	if err := k.SetStringValue(a.name(), a.commandLine()); err != nil {
		return fmt.Errorf("cannot enable launch at login: %w", err)
	}
	return nil
}

// Disable deletes the Run value; a missing value is not an error.
func (a Autostart) Disable() error {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.SET_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot disable launch at login: %w", err)
	}
	defer k.Close()
	if err := k.DeleteValue(a.name()); err != nil && !errors.Is(err, registry.ErrNotExist) {
		return fmt.Errorf("cannot disable launch at login: %w", err)
	}
	return nil
}

// Enabled reports whether the Run value exists.
func (a Autostart) Enabled() (bool, error) {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cannot check launch at login: %w", err)
	}
	defer k.Close()
	_, _, err = k.GetStringValue(a.name())
	if errors.Is(err, registry.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cannot check launch at login: %w", err)
	}
	return true, nil
}
