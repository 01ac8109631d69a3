package desktop

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startXvfb starts a private X server on a free display (Xvfb picks it and
// reports it through -displayfd) and returns the DISPLAY value.
func startXvfb(t *testing.T) string {
	t.Helper()
	xvfb := requireTool(t, "Xvfb", "xvfb")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(xvfb, "-displayfd", "3", "-screen", "0", "64x64x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		r.Close()
		lines <- strings.TrimSpace(line)
	}()
	select {
	case n := <-lines:
		if _, err := strconv.Atoi(n); err != nil {
			t.Fatalf("Xvfb did not report a display (%q): %s", n, stderr.String())
		}
		return ":" + n
	case <-exited:
		t.Fatalf("Xvfb exited: %s", stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("Xvfb did not start within 30s")
	}
	return ""
}

// killXclipOn kills the xclip processes serving the selection on display:
// xclip forks and stays alive to serve what was copied.
func killXclipOn(t *testing.T, display string) {
	t.Helper()
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if !bytes.HasPrefix(cmdline, []byte("xclip\x00")) && !bytes.Contains(cmdline, []byte("/xclip\x00")) {
			continue
		}
		env, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if bytes.Contains(append([]byte{0}, env...), []byte("\x00DISPLAY="+display+"\x00")) {
			if p, err := os.FindProcess(pid); err == nil {
				p.Kill()
			}
		}
	}
}

func TestCopyText(t *testing.T) {
	xclip := requireTool(t, "xclip", "xclip")
	display := startXvfb(t)
	t.Setenv("DISPLAY", display)
	t.Setenv("WAYLAND_DISPLAY", "")
	t.Cleanup(func() { killXclipOn(t, display) })

	const want = "bore.pub:41234"
	if err := CopyText(want); err != nil {
		t.Fatalf("CopyText: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, xclip, "-o", "-selection", "clipboard").Output()
	if err != nil {
		t.Fatalf("xclip -o: %v", err)
	}
	if got := string(out); got != want {
		t.Errorf("clipboard holds %q, want %q", got, want)
	}
}

func TestCopyTextNoDisplay(t *testing.T) {
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	err := CopyText("x")
	if err == nil || !strings.Contains(err.Error(), "no display") {
		t.Errorf("CopyText without a display = %v, want a no-display error", err)
	}
}
