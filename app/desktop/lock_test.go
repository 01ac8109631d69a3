package desktop

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
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

// TestLockRefusesSymlink plants a symbolic link where the lock goes, as
// another local user or a stray script could: Lock must refuse it in plain
// words and leave the link's target as it was.
func TestLockRefusesSymlink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the lock on Windows lives in the config dir and uses no PID write")
	}
	dir := isolateXDG(t)
	target := dir + "/precious.txt"
	const content = "do not overwrite\n"
	if err := os.WriteFile(target, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	link := dir + "/xdg_runtime_dir/bore-test.lock"
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	release, err := Lock("bore-test")
	if err == nil {
		release()
		t.Fatal("Lock through a symbolic link succeeded")
	}
	if errors.Is(err, ErrAlreadyRunning) || !strings.Contains(err.Error(), "symbolic link") || !strings.Contains(err.Error(), link) {
		t.Errorf("Lock error %q, want one that names %s as a symbolic link", err, link)
	}
	b, rerr := os.ReadFile(target)
	if rerr != nil || string(b) != content {
		t.Errorf("link target now holds %q (%v), want it untouched", b, rerr)
	}
	// A dangling link must not create its target either.
	os.Remove(target)
	if _, err := Lock("bore-test"); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("Lock through a dangling link = %v, want a symbolic-link error", err)
	}
	if _, err := os.Lstat(target); !os.IsNotExist(err) {
		t.Errorf("Lock created the dangling link's target: %v", err)
	}
}

// TestLockRefusesSpecialFile puts a FIFO where the lock goes: Lock must
// neither hang on it nor write to it.
func TestLockRefusesSpecialFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no FIFOs on Windows")
	}
	dir := isolateXDG(t)
	path := dir + "/xdg_runtime_dir/bore-test.lock"
	if err := exec.Command("mkfifo", path).Run(); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if _, err := Lock("bore-test"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Lock on a FIFO = %v, want a not-a-regular-file error", err)
	}
}
