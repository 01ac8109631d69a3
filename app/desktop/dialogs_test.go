package desktop

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestDialogArgsNeverHoldSecret(t *testing.T) {
	t.Parallel()
	const secret = "SECRET-123"
	for _, tool := range []string{"zenity", "kdialog", "yad", "osascript", "powershell"} {
		t.Run(tool, func(t *testing.T) {
			t.Parallel()
			argv := dialogArgs(tool, true, "Server secret", "Secret for bore.pub:", secret)
			if len(argv) == 0 {
				t.Fatalf("dialogArgs(%q) is empty", tool)
			}
			joined := strings.Join(argv, "\x00")
			if tool == "powershell" {
				joined += decodePS(t, argv[len(argv)-1])
			}
			if strings.Contains(joined, secret) {
				t.Errorf("%s argv holds the secret: %q", tool, argv)
			}
			// An entry dialog does carry its initial value.
			entry := strings.Join(dialogArgs(tool, false, "T", "P", "init-value"), " ")
			if tool == "powershell" {
				entry = decodePS(t, dialogArgs(tool, false, "T", "P", "init-value")[3])
			}
			if !strings.Contains(entry, "init-value") {
				t.Errorf("%s entry argv %q lacks the initial value", tool, entry)
			}
		})
	}
	if got := dialogArgs("unknown", false, "t", "p", ""); got != nil {
		t.Errorf("dialogArgs(unknown) = %q, want nil", got)
	}
}

// decodePS decodes a -EncodedCommand argument.
func decodePS(t *testing.T, s string) string {
	t.Helper()
	b, err := decodeBase64(s)
	if err != nil {
		return s
	}
	r := make([]rune, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		r = append(r, rune(uint16(b[i])|uint16(b[i+1])<<8))
	}
	return string(r)
}

func TestDialogArgsPerTool(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tool   string
		secret bool
		want   []string
	}{
		{"zenity", false, []string{"--entry", "--title", "Add port", "--text", "Port:", "--entry-text", "3000"}},
		{"zenity", true, []string{"--entry", "--title", "Add port", "--text", "Port:", "--hide-text"}},
		{"kdialog", false, []string{"--title", "Add port", "--inputbox", "Port:", "3000"}},
		{"kdialog", true, []string{"--title", "Add port", "--password", "Port:"}},
		{"yad", true, []string{"--entry", "--title", "Add port", "--text", "Port:", "--hide-text"}},
		{"osascript", false, []string{"-e", `text returned of (display dialog "Port:" with title "Add port" default answer "3000")`}},
		{"osascript", true, []string{"-e", `text returned of (display dialog "Port:" with title "Add port" default answer "" with hidden answer)`}},
	}
	for _, tt := range tests {
		if got := dialogArgs(tt.tool, tt.secret, "Add port", "Port:", "3000"); !slices.Equal(got, tt.want) {
			t.Errorf("dialogArgs(%q, secret=%v)\n got %q\nwant %q", tt.tool, tt.secret, got, tt.want)
		}
	}
	if got := appleString(`say "hi" \o/`); got != `"say \"hi\" \\o/"` {
		t.Errorf("appleString = %s", got)
	}
	if got := psString("it's"); got != "'it''s'" {
		t.Errorf("psString = %s", got)
	}
}

func TestFindDialogs(t *testing.T) {
	t.Parallel()
	have := func(names ...string) func(string) (string, error) {
		return func(n string) (string, error) {
			if slices.Contains(names, n) {
				return "/usr/bin/" + n, nil
			}
			return "", errors.New("not found")
		}
	}
	tests := []struct {
		goos  string
		found []string
		want  string
	}{
		{"linux", []string{"zenity", "kdialog", "yad"}, "zenity"},
		{"linux", []string{"kdialog", "yad"}, "kdialog"},
		{"linux", []string{"yad"}, "yad"},
		{"linux", nil, ""},
		{"freebsd", []string{"zenity"}, "zenity"},
		{"darwin", []string{"osascript", "zenity"}, "osascript"},
		{"windows", []string{"pwsh"}, "powershell"},
		{"windows", []string{"zenity"}, ""},
	}
	for _, tt := range tests {
		if got := findDialogs(tt.goos, have(tt.found...)).Available(); got != tt.want {
			t.Errorf("findDialogs(%s, %v).Available() = %q, want %q", tt.goos, tt.found, got, tt.want)
		}
	}
}

// A dialog tool installed while Bore runs is used at once.
func TestDialogToolInstalledLater(t *testing.T) {
	dir, _ := fakeZenity(t, "echo 8080")
	empty := t.TempDir()
	t.Setenv("PATH", empty)
	d := NewDialogs()
	if got := d.Available(); got != "" {
		t.Fatalf("Available() with an empty PATH = %q", got)
	}
	if _, err := d.Entry(context.Background(), "t", "p", ""); !errors.Is(err, ErrNoDialogTool) {
		t.Fatalf("Entry with no tool = %v, want ErrNoDialogTool", err)
	}
	t.Setenv("PATH", empty+string(os.PathListSeparator)+dir)
	if got := d.Available(); got != "zenity" {
		t.Fatalf("Available() after installing zenity = %q", got)
	}
	if got, err := d.Entry(context.Background(), "t", "p", ""); err != nil || got != "8080" {
		t.Fatalf("Entry after installing zenity = %q, %v", got, err)
	}
}

// scriptedAsker answers Entry from a list and records what it was shown.
type scriptedAsker struct {
	answers  []string
	prompts  []string
	initials []string
}

func (a *scriptedAsker) Entry(ctx context.Context, title, prompt, initial string) (string, error) {
	a.prompts = append(a.prompts, prompt)
	a.initials = append(a.initials, initial)
	if len(a.answers) == 0 {
		return "", ErrCancelled
	}
	ans := a.answers[0]
	a.answers = a.answers[1:]
	return ans, nil
}

// Bad input shows the dialog again with the error and the input to fix,
// until the input is good or the user cancels.
func TestAskValid(t *testing.T) {
	t.Parallel()
	check := func(s string) error { // a port number
		_, err := strconv.ParseUint(s, 10, 16)
		return err
	}
	a := &scriptedAsker{answers: []string{"70000", "808o", "8080"}}
	got, err := AskValid(context.Background(), a, "Share a port", "Port to share:", "", check)
	if err != nil || got != "8080" {
		t.Fatalf("AskValid = %q, %v; want 8080", got, err)
	}
	if len(a.prompts) != 3 {
		t.Fatalf("dialog shown %d times, want 3", len(a.prompts))
	}
	perr := check("70000")
	if a.prompts[0] != "Port to share:" || !strings.HasPrefix(a.prompts[1], perr.Error()) || !strings.HasSuffix(a.prompts[1], "Port to share:") {
		t.Errorf("prompts = %q, want the error above the prompt after bad input", a.prompts)
	}
	if a.initials[1] != "70000" || a.initials[2] != "808o" {
		t.Errorf("initial texts = %q, want the bad input filled in again", a.initials)
	}

	a = &scriptedAsker{answers: []string{"nope"}}
	if _, err := AskValid(context.Background(), a, "t", "p", "", check); !errors.Is(err, ErrCancelled) || len(a.prompts) != 2 {
		t.Errorf("cancel after bad input = %v after %d dialogs, want ErrCancelled after 2", err, len(a.prompts))
	}
}

func TestNoDialogTool(t *testing.T) {
	t.Parallel()
	d := &Dialogs{}
	if _, err := d.Entry(context.Background(), "t", "p", ""); !errors.Is(err, ErrNoDialogTool) {
		t.Errorf("Entry with no tool = %v, want ErrNoDialogTool", err)
	}
	if _, err := d.Password(context.Background(), "t", "p"); !errors.Is(err, ErrNoDialogTool) {
		t.Errorf("Password with no tool = %v, want ErrNoDialogTool", err)
	}
}

// fakeZenity writes a zenity stand-in into a new directory. It records its
// arguments in the returned argv file and then runs body.
func fakeZenity(t *testing.T, body string) (dir, argvFile string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("shell script fake")
	}
	dir = t.TempDir()
	argvFile = filepath.Join(dir, "argv")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > '" + argvFile + "'\n" + body + "\n"
	if err := os.WriteFile(filepath.Join(dir, "zenity"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, argvFile
}

func TestDialogsWithFakeZenity(t *testing.T) {
	const secret = "pa ss'word\"$x"
	tests := []struct {
		name    string
		body    string
		call    func(*Dialogs) (string, error)
		want    string
		wantErr error
		errText string
	}{
		{
			name: "entry",
			body: `printf '%s\n' "localhost:3000"`,
			call: func(d *Dialogs) (string, error) { return d.Entry(context.Background(), "Add", "Port:", "3000") },
			want: "localhost:3000",
		},
		{
			name: "entry_keeps_inner_spaces",
			body: `printf '  a b  \n'`,
			call: func(d *Dialogs) (string, error) { return d.Entry(context.Background(), "Add", "Port:", "") },
			want: "  a b  ",
		},
		{
			name: "password_from_stdout",
			body: `cat <<'EOF'
` + secret + `
EOF`,
			call: func(d *Dialogs) (string, error) { return d.Password(context.Background(), "Secret", "Secret:") },
			want: secret,
		},
		{
			name:    "cancel",
			body:    "exit 1",
			call:    func(d *Dialogs) (string, error) { return d.Entry(context.Background(), "Add", "Port:", "") },
			wantErr: ErrCancelled,
		},
		{
			name:    "timeout_is_cancel",
			body:    "exit 5",
			call:    func(d *Dialogs) (string, error) { return d.Password(context.Background(), "S", "S:") },
			wantErr: ErrCancelled,
		},
		{
			name:    "tool_fails",
			body:    "echo 'cannot open display' >&2; exit 255",
			call:    func(d *Dialogs) (string, error) { return d.Entry(context.Background(), "Add", "Port:", "") },
			errText: "cannot open display",
		},
		{
			name: "context_cancelled",
			body: "exit 0",
			call: func(d *Dialogs) (string, error) {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return d.Entry(ctx, "Add", "Port:", "")
			},
			wantErr: context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, argvFile := fakeZenity(t, tt.body)
			t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
			d := NewDialogs()
			if tool, path := d.find(); tool != "zenity" || path != filepath.Join(dir, "zenity") {
				t.Fatalf("NewDialogs picked %q at %q, want the fake zenity", tool, path)
			}
			got, err := tt.call(d)
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
			case tt.errText != "":
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("error = %v, want one containing %q", err, tt.errText)
				}
			default:
				if err != nil || got != tt.want {
					t.Fatalf("got %q, %v; want %q", got, err, tt.want)
				}
			}
			if argv, err := os.ReadFile(argvFile); err == nil && strings.Contains(string(argv), "pa ss") {
				t.Errorf("the secret reached the command line: %q", argv)
			}
		})
	}
}

// An opener that fails is reported with what its exit status means; one
// that succeeds, or is still running after the wait, is not.
func TestOpenReportsFailure(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("shell script fake")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "xdg-open")
	write := func(body string) {
		if err := os.WriteFile(script, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep program")
	}
	t.Setenv("PATH", dir)
	write("echo 'no method available for opening' >&2; exit 3")
	err = openWith("linux", "/home/u/.config/bore", time.Minute)
	if err == nil || !strings.Contains(err.Error(), "found no program to open it") || !strings.Contains(err.Error(), "no method available") {
		t.Errorf("failing xdg-open: %v", err)
	}
	write("exit 0")
	if err := openWith("linux", "/x", time.Minute); err != nil {
		t.Errorf("succeeding xdg-open: %v", err)
	}
	write("exec " + sleep + " 1")
	start := time.Now()
	if err := openWith("linux", "/x", 100*time.Millisecond); err != nil {
		t.Errorf("long-running xdg-open: %v", err)
	}
	if time.Since(start) > 20*time.Second {
		t.Errorf("waited for a long-running opener")
	}
	t.Setenv("PATH", t.TempDir())
	if err := openWith("linux", "/x", time.Minute); err == nil || !strings.Contains(err.Error(), "xdg-utils") {
		t.Errorf("missing xdg-open: %v", err)
	}
}
