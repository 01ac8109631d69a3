package desktop

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
)

func TestPickArgsPerTool(t *testing.T) {
	tests := []struct {
		tool   string
		folder bool
		want   []string
	}{
		{"zenity", true, []string{"--file-selection", "--title", "Share a folder", "--filename", "/home/u/", "--directory"}},
		{"zenity", false, []string{"--file-selection", "--title", "Share a folder", "--filename", "/home/u/"}},
		{"yad", true, []string{"--file", "--title", "Share a folder", "--filename", "/home/u/", "--directory"}},
		{"kdialog", true, []string{"--title", "Share a folder", "--getexistingdirectory", "/home/u/"}},
		{"kdialog", false, []string{"--title", "Share a folder", "--getopenfilename", "/home/u/"}},
		{"osascript", true, []string{"-e", `POSIX path of (choose folder with prompt "Share a folder")`}},
		{"osascript", false, []string{"-e", `POSIX path of (choose file with prompt "Share a folder")`}},
	}
	for _, tt := range tests {
		got := pickArgs(tt.tool, tt.folder, "Share a folder", "/home/u")
		if !slices.Equal(got, tt.want) {
			t.Errorf("pickArgs(%s, folder=%v) = %q, want %q", tt.tool, tt.folder, got, tt.want)
		}
	}
	if got := pickArgs("nothing", true, "t", ""); got != nil {
		t.Errorf("unknown tool: %q", got)
	}
	ps := pickArgs("powershell", true, "It's mine", "")
	if len(ps) != 5 || ps[3] != "-EncodedCommand" {
		t.Fatalf("powershell args = %q", ps)
	}
	raw, err := decodeBase64(ps[4])
	if err != nil {
		t.Fatal(err)
	}
	u := make([]uint16, len(raw)/2)
	for i := range u {
		u[i] = uint16(raw[2*i]) | uint16(raw[2*i+1])<<8
	}
	script := string(utf16.Decode(u))
	for _, want := range []string{"FolderBrowserDialog", "'It''s mine'", "exit 1"} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q:\n%s", want, script)
		}
	}
	if s := powerShellPicker(false, "t"); !strings.Contains(s, "OpenFileDialog") {
		t.Errorf("file picker script:\n%s", s)
	}
}

func TestPickWithFakeZenity(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		folder  bool
		want    string
		wantErr error
		errText string
	}{
		{name: "folder", folder: true, body: `printf '%s\n' "/home/u/My Photos"`, want: "/home/u/My Photos"},
		{name: "file", body: `printf '/home/u/notes.txt\n'`, want: "/home/u/notes.txt"},
		{name: "cancel", folder: true, body: "exit 1", wantErr: ErrCancelled},
		{name: "nothing_chosen", body: "exit 0", wantErr: ErrCancelled},
		{name: "fails", body: "echo 'cannot open display' >&2; exit 255", errText: "zenity file picker failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, argvFile := fakeZenity(t, tt.body)
			t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
			d := NewDialogs()
			pick := d.PickFile
			if tt.folder {
				pick = d.PickFolder
			}
			got, err := pick(context.Background(), "Share")
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
			case tt.errText != "":
				if err == nil || !strings.Contains(err.Error(), tt.errText) || !strings.Contains(err.Error(), "cannot open display") {
					t.Fatalf("error = %v, want one containing %q", err, tt.errText)
				}
			default:
				if err != nil || got != tt.want {
					t.Fatalf("got %q, %v; want %q", got, err, tt.want)
				}
			}
			argv, err := os.ReadFile(argvFile)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(argv), "--directory") != tt.folder {
				t.Errorf("argv = %q, folder %v", argv, tt.folder)
			}
		})
	}
}

// With no tool installed the picker says what to install; one installed
// later is found at once.
func TestPickerMissingThenInstalled(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PATH", dir)
	d := NewDialogs()
	if _, err := d.PickFolder(context.Background(), "Share"); !errors.Is(err, ErrNoPicker) || !strings.Contains(err.Error(), "install zenity") {
		t.Fatalf("error = %v, want ErrNoPicker naming zenity", err)
	}
	fake, _ := fakeZenity(t, `printf '/srv/share\n'`)
	if err := os.Rename(filepath.Join(fake, "zenity"), filepath.Join(dir, "zenity")); err != nil {
		t.Fatal(err)
	}
	if got, err := d.PickFolder(context.Background(), "Share"); err != nil || got != "/srv/share" {
		t.Errorf("after installing: %q, %v", got, err)
	}
}
