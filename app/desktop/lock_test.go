package desktop

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/adrg/xdg"
)

// lockHelperEnv makes the test binary act as a second Bore instance: it
// takes the lock named by the variable, prints "locked" or "busy", and holds
// the lock until its stdin closes.
const lockHelperEnv = "BORE_TEST_LOCK_HELPER"

func lockHelper() int {
	release, err := Lock(os.Getenv(lockHelperEnv))
	switch {
	case errors.Is(err, ErrAlreadyRunning):
		fmt.Println("busy")
		return 0
	case err != nil:
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println("locked")
	_, _ = io.Copy(io.Discard, os.Stdin)
	release()
	return 0
}

// isolateXDG points the XDG directories at a fresh temp dir.
func isolateXDG(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, v := range []string{"XDG_CONFIG_HOME", "XDG_RUNTIME_DIR", "XDG_CACHE_HOME"} {
		d := dir + "/" + strings.ToLower(v)
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		t.Setenv(v, d)
	}
	xdg.Reload()
	t.Cleanup(xdg.Reload)
	return dir
}

func TestLockTwiceInProcess(t *testing.T) {
	isolateXDG(t)
	release, err := Lock("bore-test")
	if err != nil {
		t.Fatalf("first Lock: %v", err)
	}
	if _, err := Lock("bore-test"); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second Lock = %v, want ErrAlreadyRunning", err)
	}
	other, err := Lock("other-name")
	if err != nil {
		t.Fatalf("Lock of another name: %v", err)
	}
	other()
	release()
	release() // twice is harmless
	again, err := Lock("bore-test")
	if err != nil {
		t.Fatalf("Lock after release: %v", err)
	}
	again()
}

func TestLockBadName(t *testing.T) {
	isolateXDG(t)
	for _, name := range []string{"", "a/b", "..", `a\b`} {
		if _, err := Lock(name); err == nil || errors.Is(err, ErrAlreadyRunning) {
			t.Errorf("Lock(%q) = %v, want an invalid-name error", name, err)
		}
	}
}

func TestLockFallsBackToConfigDir(t *testing.T) {
	dir := isolateXDG(t)
	t.Setenv("XDG_RUNTIME_DIR", dir+"/does-not-exist")
	xdg.Reload()
	release, err := Lock("bore-test")
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	defer release()
	if _, err := os.Stat(dir + "/xdg_config_home/bore/bore-test.lock"); err != nil {
		t.Errorf("lock file not in the config dir: %v", err)
	}
}

// startHelper runs the test binary as a second instance and returns its
// first output line and a function that ends it.
func startHelper(t *testing.T, name string) (string, func()) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), lockHelperEnv+"="+name)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- strings.TrimSpace(line)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	stop := func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper: %v", err)
		}
	}
	select {
	case line := <-lines:
		return line, stop
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("helper printed nothing within 30s")
		return "", nil
	}
}

func TestLockAcrossProcesses(t *testing.T) {
	isolateXDG(t)
	release, err := Lock("bore-test")
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	got, stop := startHelper(t, "bore-test")
	stop()
	if got != "busy" {
		t.Fatalf("second process while we hold the lock said %q, want busy", got)
	}
	release()

	got, stop = startHelper(t, "bore-test")
	if got != "locked" {
		stop()
		t.Fatalf("second process after release said %q, want locked", got)
	}
	if _, err := Lock("bore-test"); !errors.Is(err, ErrAlreadyRunning) {
		t.Errorf("Lock while the other process holds it = %v, want ErrAlreadyRunning", err)
	}
	stop()
	// The other process is gone: the lock is free again.
	release, err = Lock("bore-test")
	if err != nil {
		t.Fatalf("Lock after the other process exited: %v", err)
	}
	release()
}
