package desktop

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// testAutostart returns an Autostart under a name of its own, so the test
// never touches a real "Bore" entry in HKCU\...\Run, and removes it after.
func testAutostart(t *testing.T, exe string, args ...string) Autostart {
	t.Helper()
	a := Autostart{Name: fmt.Sprintf("BoreTest%d", os.Getpid()), Exec: exe, Args: args}
	t.Cleanup(func() { _ = a.Disable() })
	return a
}

// runValue reads the Run value called name, or "" when there is none.
func runValue(t *testing.T, name string) string {
	t.Helper()
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return ""
	}
	if err != nil {
		t.Fatalf("open HKCU\\%s: %v", runKey, err)
	}
	defer k.Close()
	v, typ, err := k.GetStringValue(name)
	if errors.Is(err, registry.ErrNotExist) {
		return ""
	}
	if err != nil {
		t.Fatalf("read HKCU\\%s\\%s: %v", runKey, name, err)
	}
	if typ != registry.SZ {
		t.Errorf("HKCU\\%s\\%s has type %d, want REG_SZ", runKey, name, typ)
	}
	return v
}

// underWine reports whether the test runs under wine (it has its own key).
func underWine() bool {
	k, err := registry.OpenKey(registry.CURRENT_USER, `Software\Wine`, registry.QUERY_VALUE)
	if err != nil {
		return false
	}
	k.Close()
	return true
}

// splitCommandLine parses s the way Windows parses a process's command line.
func splitCommandLine(t *testing.T, s string) []string {
	t.Helper()
	p, err := windows.UTF16PtrFromString(s)
	if err != nil {
		t.Fatal(err)
	}
	var n int32
	argv, err := windows.CommandLineToArgv(p, &n)
	if err != nil {
		t.Fatalf("CommandLineToArgv(%q): %v", s, err)
	}
	defer windows.LocalFree(windows.Handle(unsafe.Pointer(argv)))
	out := make([]string, n)
	for i := range out {
		out[i] = windows.UTF16PtrToString(&argv[i][0])
	}
	return out
}

func TestAutostartRunValue(t *testing.T) {
	exe := `C:\Program Files\Bore\bore.exe`
	a := testAutostart(t, exe, "tray")
	if on, err := a.Enabled(); err != nil || on {
		t.Fatalf("Enabled() before Enable = %v, %v; want false", on, err)
	}
	if err := a.Enable(); err != nil {
		t.Fatalf("Enable: %v", err)
	}
	if got, want := runValue(t, a.Name), `"C:\Program Files\Bore\bore.exe" tray`; got != want {
		t.Errorf("Run value = %q, want %q", got, want)
	}
	if on, err := a.Enabled(); err != nil || !on {
		t.Errorf("Enabled() after Enable = %v, %v; want true", on, err)
	}
	if err := a.Enable(); err != nil { // replaces, does not fail
		t.Fatalf("second Enable: %v", err)
	}
	if err := a.Disable(); err != nil {
		t.Fatalf("Disable: %v", err)
	}
	if got := runValue(t, a.Name); got != "" {
		t.Errorf("Run value still there after Disable: %q", got)
	}
	if on, err := a.Enabled(); err != nil || on {
		t.Errorf("Enabled() after Disable = %v, %v; want false", on, err)
	}
	if err := a.Disable(); err != nil {
		t.Errorf("Disable when already disabled: %v", err)
	}
}

func TestAutostartNeedsAbsolutePath(t *testing.T) {
	a := testAutostart(t, "bore.exe", "tray")
	if err := a.Enable(); err == nil {
		t.Error("Enable with a relative Exec succeeded")
	}
	if got := runValue(t, a.Name); got != "" {
		t.Errorf("a failed Enable wrote %q", got)
	}
}

// TestAutostartCommandLineRoundTrip checks that what Windows will run at
// login parses back into exactly the program and arguments given.
func TestAutostartCommandLineRoundTrip(t *testing.T) {
	t.Parallel()
	tests := [][]string{
		{`C:\Bore\bore.exe`, "tray"},
		{`C:\Program Files\Bore\bore.exe`, "tray"},
		{`C:\Users\Zoë Ñ\AppData\Local\Bore\bore.exe`, "tray"},
		{`C:\b\bore.exe`, "a b", `quote"inside`, `trailing\`, `back\\slashes\"`, ""},
		{`C:\b\bore.exe`, "--config", `C:\My Config\bore.json`},
	}
	for _, argv := range tests {
		a := Autostart{Exec: argv[0], Args: argv[1:]}
		line := a.commandLine()
		if !strings.HasPrefix(line, `"`) {
			t.Errorf("commandLine(%q) = %q: the program is not quoted", argv, line)
		}
		got := splitCommandLine(t, line)
		if strings.Join(got, "\x00") != strings.Join(argv, "\x00") {
			t.Errorf("commandLine(%q) = %q, which Windows parses as %q", argv, line, got)
		}
	}
}

// TestPowerShellQuoting runs PowerShell on the quoted forms of hard strings
// and checks it reads them back unchanged: the dialog's title, prompt and
// initial text go through exactly this quoting.
func TestPowerShellQuoting(t *testing.T) {
	ps, err := exec.LookPath("powershell")
	if err != nil {
		if ps, err = exec.LookPath("pwsh"); err != nil {
			t.Skip("no PowerShell")
		}
	}
	if underWine() {
		t.Skip("wine's powershell.exe is a stub that runs nothing")
	}
	values := []string{
		"plain", "it's", "''", `"double"`, "$env:PATH", "`backtick`n", "$(Get-Date)",
		"Zoë → 🚇", "semi; colon | pipe & amp", "new\nline",
	}
	var script strings.Builder
	script.WriteString("[Console]::OutputEncoding = [System.Text.Encoding]::UTF8\n")
	for _, v := range values {
		script.WriteString("[Console]::Out.Write(" + psString(v) + " + [char]0)\n")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, ps, "-NoProfile", "-NonInteractive", "-EncodedCommand",
		encodePowerShell(script.String())).Output()
	if err != nil {
		t.Fatalf("powershell: %v", err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if len(got) != len(values) {
		t.Fatalf("powershell printed %d values, want %d: %q", len(got), len(values), out)
	}
	for i, v := range values {
		if got[i] != v {
			t.Errorf("psString(%q) read back as %q", v, got[i])
		}
	}
}

func TestFindDialogsWindows(t *testing.T) {
	d := NewDialogs()
	if _, err := exec.LookPath("powershell"); err == nil && d.Available() != "powershell" {
		t.Errorf("NewDialogs().Available() = %q, want powershell", d.Available())
	}
}

// TestLockFileIsLocked checks the lock is a real LockFileEx lock: while
// held, another handle on the same file cannot lock it either.
func TestLockFileIsLocked(t *testing.T) {
	isolateXDG(t)
	release, err := Lock("bore-test")
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	defer release()
	path, err := lockPath("bore-test")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("open the lock file: %v", err)
	}
	defer f.Close()
	ol := new(windows.Overlapped)
	err = windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if !errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		if err == nil {
			_ = windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, ol)
		}
		t.Fatalf("LockFileEx on a held lock = %v, want ERROR_LOCK_VIOLATION", err)
	}
}
