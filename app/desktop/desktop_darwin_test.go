package desktop

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// isolateHome points HOME at a fresh directory: the LaunchAgent goes to
// $HOME/Library/LaunchAgents.
func isolateHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	return home
}

func TestAutostartLaunchAgent(t *testing.T) {
	home := isolateHome(t)
	a := Autostart{Name: "Bore", Exec: "/Applications/Bore.app/Contents/MacOS/bore",
		Args: []string{"tray", `a "quoted" & <odd> arg`, "Zoë"}}
	want := filepath.Join(home, "Library", "LaunchAgents", "io.github.boretray.bore.plist")

	if on, err := a.Enabled(); err != nil || on {
		t.Fatalf("Enabled() before Enable = %v, %v; want false", on, err)
	}
	if err := a.Enable(); err != nil {
		t.Fatalf("Enable: %v", err)
	}
	if _, err := os.Stat(want); err != nil {
		t.Fatalf("LaunchAgent not written at %s: %v", want, err)
	}
	if on, err := a.Enabled(); err != nil || !on {
		t.Errorf("Enabled() after Enable = %v, %v; want true", on, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "plutil", "-lint", want).CombinedOutput(); err != nil {
		t.Errorf("plutil -lint: %v\n%s", err, out)
	}
	out, err := exec.CommandContext(ctx, "plutil", "-convert", "json", "-o", "-", want).Output()
	if err != nil {
		t.Fatalf("plutil -convert json: %v", err)
	}
	var plist struct {
		Label            string
		ProgramArguments []string
		RunAtLoad        bool
	}
	if err := json.Unmarshal(out, &plist); err != nil {
		t.Fatalf("LaunchAgent as JSON: %v\n%s", err, out)
	}
	if plist.Label != "io.github.boretray.bore" || !plist.RunAtLoad {
		t.Errorf("LaunchAgent Label = %q, RunAtLoad = %v", plist.Label, plist.RunAtLoad)
	}
	wantArgs := append([]string{a.Exec}, a.Args...)
	if strings.Join(plist.ProgramArguments, "\x00") != strings.Join(wantArgs, "\x00") {
		t.Errorf("ProgramArguments = %q, want %q", plist.ProgramArguments, wantArgs)
	}

	if err := a.Enable(); err != nil { // replaces, does not fail
		t.Fatalf("second Enable: %v", err)
	}
	if err := a.Disable(); err != nil {
		t.Fatalf("Disable: %v", err)
	}
	if _, err := os.Stat(want); !os.IsNotExist(err) {
		t.Errorf("LaunchAgent still there after Disable: %v", err)
	}
	if on, err := a.Enabled(); err != nil || on {
		t.Errorf("Enabled() after Disable = %v, %v; want false", on, err)
	}
	if err := a.Disable(); err != nil {
		t.Errorf("Disable when already disabled: %v", err)
	}
}

func TestAutostartNeedsAbsolutePath(t *testing.T) {
	isolateHome(t)
	if err := (Autostart{Exec: "bore"}).Enable(); err == nil {
		t.Error("Enable with a relative Exec succeeded")
	}
}

// TestAppleScriptQuoting runs osascript on the quoted forms of hard strings
// and checks it reads them back unchanged: the dialog's title, prompt and
// default answer go through exactly this quoting.
func TestAppleScriptQuoting(t *testing.T) {
	osa, err := exec.LookPath("osascript")
	if err != nil {
		t.Skip("no osascript")
	}
	for _, v := range []string{
		"plain", `"double"`, `back\slash`, `\"`, "it's", "Zoë → 🚇", "tab\there", `" & (do shell script "echo pwned") & "`,
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		out, err := exec.CommandContext(ctx, osa, "-e", "return "+appleString(v)).Output()
		cancel()
		if err != nil {
			t.Errorf("osascript on appleString(%q): %v", v, err)
			continue
		}
		if got := strings.TrimSuffix(string(out), "\n"); got != v {
			t.Errorf("appleString(%q) read back as %q", v, got)
		}
	}
}

func TestFindDialogsDarwin(t *testing.T) {
	if d := NewDialogs(); d.Available() != "osascript" {
		t.Errorf("NewDialogs().Available() = %q, want osascript", d.Available())
	}
}
