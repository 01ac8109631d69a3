package desktop

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"time"
	"unicode/utf16"
)

// ErrNoDialogTool means no supported dialog program was found: on Linux
// install zenity, kdialog or yad.
var ErrNoDialogTool = errors.New("no dialog tool found: install zenity, kdialog or yad")

// ErrCancelled means the user closed or cancelled the dialog.
var ErrCancelled = errors.New("dialog cancelled")

// Dialogs asks the user for input with native dialogs: osascript on macOS,
// PowerShell on Windows, and zenity, kdialog or yad on Linux (the first one
// found in PATH). The tool is looked up each time it is needed, so one
// installed while Bore runs is used at once.
type Dialogs struct {
	goos     string
	lookPath func(string) (string, error)
}

// NewDialogs returns the dialogs of this system. It always returns a usable
// *Dialogs; while no tool is installed its methods return ErrNoDialogTool.
func NewDialogs() *Dialogs {
	return findDialogs(runtime.GOOS, exec.LookPath)
}

// findDialogs returns Dialogs for goos that find tools with lookPath.
func findDialogs(goos string, lookPath func(string) (string, error)) *Dialogs {
	return &Dialogs{goos: goos, lookPath: lookPath}
}

// find returns the tool to use now and its executable, or "" for none.
func (d *Dialogs) find() (tool, path string) {
	if d.lookPath == nil {
		return "", ""
	}
	var candidates []string
	switch d.goos {
	case "darwin":
		candidates = []string{"osascript"}
	case "windows":
		candidates = []string{"powershell", "pwsh"}
	default:
		candidates = []string{"zenity", "kdialog", "yad"}
	}
	for _, c := range candidates {
		if p, err := d.lookPath(c); err == nil {
			if c == "pwsh" {
				c = "powershell"
			}
			return c, p
		}
	}
	return "", ""
}

// Available reports which tool would be used now ("zenity", "kdialog",
// "yad", "osascript", "powershell"), or "" when none is installed.
func (d *Dialogs) Available() string {
	tool, _ := d.find()
	return tool
}

// Entry shows a text entry dialog with initial filled in and returns what
// the user typed. It returns ErrCancelled or ErrNoDialogTool.
func (d *Dialogs) Entry(ctx context.Context, title, prompt, initial string) (string, error) {
	return d.run(ctx, false, title, prompt, initial)
}

// Password shows a hidden text entry (for secrets) and returns what the
// user typed. The answer is read only from the tool's standard output; it is
// never put on a command line. It returns ErrCancelled or ErrNoDialogTool.
func (d *Dialogs) Password(ctx context.Context, title, prompt string) (string, error) {
	return d.run(ctx, true, title, prompt, "")
}

// Asker is the part of Dialogs that AskValid uses.
type Asker interface {
	Entry(ctx context.Context, title, prompt, initial string) (string, error)
}

// AskValid shows an entry dialog until check accepts the answer: after bad
// input the dialog shows again, with check's error above the prompt and
// the answer filled in for correcting. It returns the accepted answer, or
// the dialog's error (ErrCancelled when the user gives up).
func AskValid(ctx context.Context, d Asker, title, prompt, initial string, check func(string) error) (string, error) {
	p := prompt
	for {
		text, err := d.Entry(ctx, title, p, initial)
		if err != nil {
			return "", err
		}
		cerr := check(text)
		if cerr == nil {
			return text, nil
		}
		p = cerr.Error() + "\n\n" + prompt
		initial = text
	}
}

// run shows an entry dialog with the tool found now and interprets its
// result.
func (d *Dialogs) run(ctx context.Context, secret bool, title, prompt, initial string) (string, error) {
	tool, path := d.find()
	args := dialogArgs(tool, secret, title, prompt, initial)
	if tool == "" || args == nil {
		return "", ErrNoDialogTool
	}
	out, err := runTool(ctx, tool, path, args, "dialog", 0)
	if err != nil {
		return "", err
	}
	out = strings.TrimSuffix(out, "\n")
	out = strings.TrimSuffix(out, "\r")
	return out, nil
}

// runTool runs a dialog or picker tool (path, found as tool) with args and
// returns what it wrote to stdout, at most maxOut bytes of it (0: all).
// A cancel exit code gives ErrCancelled; other failures name the tool and
// what it is (such as "dialog") and quote the start of its stderr.
func runTool(ctx context.Context, tool, path string, args []string, what string, maxOut int) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout = &stdout
	if maxOut > 0 {
		cmd.Stdout = &limitedBuffer{max: maxOut, buf: &stdout}
	}
	cmd.Stderr = &limitedBuffer{max: 4096, buf: &stderr}
	// If the tool leaves a child holding its output open after being
	// killed, stop waiting for that output soon after.
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	if ctxErr := ctx.Err(); ctxErr != nil {
		return "", ctxErr
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && isCancelCode(tool, ee.ExitCode()) {
			return "", ErrCancelled
		}
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return "", fmt.Errorf("%s %s failed: %w: %s", tool, what, err, msg)
		}
		return "", fmt.Errorf("%s %s failed: %w", tool, what, err)
	}
	return stdout.String(), nil
}

// isCancelCode reports whether a tool's exit code means "the user
// cancelled": 1 for Cancel in every tool we use, 252 when yad's window is
// closed, 5 when zenity timed out.
func isCancelCode(tool string, code int) bool {
	switch {
	case code == 1:
		return true
	case tool == "yad" && code == 252:
		return true
	case tool == "zenity" && code == 5:
		return true
	}
	return false
}

// dialogArgs builds the tool's arguments (without the program name) for an
// entry dialog, hidden when secret is true. It returns nil for an unknown
// tool. Only title, prompt and initial go into the arguments; the answer
// comes back on stdout.
func dialogArgs(tool string, secret bool, title, prompt, initial string) []string {
	if secret {
		initial = ""
	}
	switch tool {
	case "zenity":
		a := []string{"--entry", "--title", title, "--text", prompt}
		if secret {
			return append(a, "--hide-text")
		}
		return append(a, "--entry-text", initial)
	case "yad":
		a := []string{"--entry", "--title", title, "--text", prompt}
		if secret {
			return append(a, "--hide-text")
		}
		return append(a, "--entry-text", initial)
	case "kdialog":
		if secret {
			return []string{"--title", title, "--password", prompt}
		}
		return []string{"--title", title, "--inputbox", prompt, initial}
	case "osascript":
		script := "text returned of (display dialog " + appleString(prompt) +
			" with title " + appleString(title) +
			" default answer " + appleString(initial)
		if secret {
			script += " with hidden answer"
		}
		script += ")"
		return []string{"-e", script}
	case "powershell":
		return []string{"-NoProfile", "-NonInteractive", "-EncodedCommand", encodePowerShell(powerShellScript(secret, title, prompt, initial))}
	}
	return nil
}

// appleString quotes s as an AppleScript string literal.
func appleString(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `"`, `\"`)
	return `"` + s + `"`
}

// psString quotes s as a PowerShell single-quoted string literal.
func psString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// powerShellScript is a small Windows Forms dialog that prints the answer
// as UTF-8 on stdout and exits 1 on Cancel.
func powerShellScript(secret bool, title, prompt, initial string) string {
	pw := "$false"
	if secret {
		pw = "$true"
	}
	return `Add-Type -AssemblyName System.Windows.Forms
[Console]::OutputEncoding = [System.Text.Encoding]::UTF8
$f = New-Object System.Windows.Forms.Form
$f.Text = ` + psString(title) + `
$f.Width = 420; $f.Height = 160; $f.StartPosition = 'CenterScreen'; $f.TopMost = $true
$f.FormBorderStyle = 'FixedDialog'; $f.MaximizeBox = $false; $f.MinimizeBox = $false
$l = New-Object System.Windows.Forms.Label
$l.Text = ` + psString(prompt) + `; $l.Left = 10; $l.Top = 10; $l.Width = 390
$t = New-Object System.Windows.Forms.TextBox
$t.Left = 10; $t.Top = 35; $t.Width = 390; $t.UseSystemPasswordChar = ` + pw + `
$t.Text = ` + psString(initial) + `
$ok = New-Object System.Windows.Forms.Button
$ok.Text = 'OK'; $ok.Left = 240; $ok.Top = 70; $ok.DialogResult = 'OK'
$c = New-Object System.Windows.Forms.Button
$c.Text = 'Cancel'; $c.Left = 325; $c.Top = 70; $c.DialogResult = 'Cancel'
$f.AcceptButton = $ok; $f.CancelButton = $c
$f.Controls.AddRange(@($l, $t, $ok, $c))
if ($f.ShowDialog() -ne 'OK') { exit 1 }
[Console]::Out.Write($t.Text)
exit 0
`
}

// encodePowerShell encodes a script for -EncodedCommand (base64 of
// UTF-16LE), which avoids every quoting problem on the command line.
func encodePowerShell(script string) string {
	u := utf16.Encode([]rune(script))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		b[2*i] = byte(c)
		b[2*i+1] = byte(c >> 8)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// limitedBuffer keeps the first max bytes written and drops the rest, so a
// chatty tool cannot grow memory without bound.
type limitedBuffer struct {
	max int
	buf *bytes.Buffer
}

// Write stores what fits and always reports success.
func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		if len(p) > room {
			l.buf.Write(p[:room])
		} else {
			l.buf.Write(p)
		}
	}
	return len(p), nil
}
