// Package desktop wraps the desktop services the tray app uses: the
// clipboard, notifications, native input dialogs, opening files, launch at
// login and the single-instance lock, on Linux, macOS and Windows.
package desktop

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"

	"github.com/atotto/clipboard"
)

// CopyText puts s on the clipboard. On Linux this needs xclip or xsel (X11)
// or wl-copy (Wayland).
func CopyText(s string) error {
	if runtime.GOOS == "linux" && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return errors.New("could not copy to the clipboard: no display (neither DISPLAY nor WAYLAND_DISPLAY is set)")
	}
	if err := clipboard.WriteAll(s); err != nil {
		if runtime.GOOS == "linux" {
			return fmt.Errorf("could not copy to the clipboard: %w (install xclip, xsel or wl-clipboard)", err)
		}
		return fmt.Errorf("could not copy to the clipboard: %w", err)
	}
	return nil
}

// OpenPath opens a file or folder in the default app (xdg-open on Linux,
// open on macOS, explorer on Windows).
func OpenPath(path string) error {
	argv := openCommand(runtime.GOOS, path)
	if _, err := exec.LookPath(argv[0]); err != nil {
		return fmt.Errorf("could not open %s: %s was not found: %w", path, argv[0], err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("could not open %s: %w", path, err)
	}
	// Reap the opener in the background; explorer.exe exits 1 even on
	// success, so its status says nothing useful.
	go cmd.Wait() //nolint:errcheck
	return nil
}

// openCommand returns the argv that opens path on goos.
func openCommand(goos, path string) []string {
	switch goos {
	case "darwin":
		return []string{"open", path}
	case "windows":
		return []string{"explorer.exe", path}
	default:
		return []string{"xdg-open", path}
	}
}

// ErrAlreadyRunning is returned by Lock when another instance holds the lock.
var ErrAlreadyRunning = errors.New("bore is already running for this user")
