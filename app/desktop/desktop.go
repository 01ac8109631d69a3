// Package desktop wraps the desktop services the tray app uses: the
// clipboard, notifications, native input dialogs, opening files, launch at
// login and the single-instance lock, on Linux, macOS and Windows.
package desktop

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

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
// open on macOS, explorer on Windows). It waits up to openWait for the
// opener to finish and reports a failure it exits with; an opener still
// running then (one that waits for the app it started) is taken as success.
func OpenPath(path string) error {
	return openWith(runtime.GOOS, path, openWait)
}

// openWait is how long OpenPath waits for the opener's verdict; openers
// that fail do so at once.
const openWait = 3 * time.Second

func openWith(goos, path string, wait time.Duration) error {
	argv := openCommand(goos, path)
	if _, err := exec.LookPath(argv[0]); err != nil {
		return fmt.Errorf("could not open %s: %s was not found (install xdg-utils)", path, argv[0])
	}
	var stderr bytes.Buffer
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = &limitedBuffer{max: 4096, buf: &stderr}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("could not open %s: %w", path, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		// explorer.exe exits 1 even on success: its status says nothing.
		if err == nil || goos == "windows" {
			return nil
		}
		why := openFailure(argv[0], err)
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			why += ": " + msg
		}
		return fmt.Errorf("could not open %s: %s", path, why)
	case <-time.After(wait):
		return nil // still running; reaped by the goroutine above
	}
}

// openFailure explains an opener's exit status in plain words.
func openFailure(tool string, err error) string {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return tool + " failed: " + err.Error()
	}
	code := ee.ExitCode()
	if tool == "xdg-open" {
		switch code {
		case 2:
			return "xdg-open says it does not exist (exit status 2)"
		case 3:
			return "xdg-open found no program to open it (exit status 3); install a file manager"
		case 4:
			return "the program xdg-open chose failed (exit status 4)"
		}
	}
	return fmt.Sprintf("%s failed with exit status %d", tool, code)
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
