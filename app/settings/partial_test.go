package settings

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// A mistyped field costs only the part it belongs to: servers, secrets and
// the other favorites survive, the message names what was left out and
// where the original is, in two lines, and the file on disk is rewritten
// with what was kept.
func TestLoadKeepsValidParts(t *testing.T) {
	s := newStore(t)
	content := `{
  "version": 1,
  "current_server": "127.0.0.1:7836",
  "servers": [
    {"host": "bore.pub"},
    {"host": "127.0.0.1", "control_port": 7836, "secret": "s3cr3t-value"},
    {"host": "10.0.0.1", "control_port": "7837"}
  ],
  "favorites": [
    {"name": "web", "local_port": "18080", "server": "bore.pub"},
    {"name": "db", "local_port": 5432, "server": "127.0.0.1:7836"}
  ],
  "copy_on_open": "yes",
  "notifications": false
}`
	writeFile(t, s.Path, content)
	got, err := s.Load()
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("Load() error = %v (%T), want *LoadError", err, err)
	}
	if le.Err != nil {
		t.Errorf("Err = %v, want nil: the file was readable", le.Err)
	}
	if len(got.Servers) != 2 || got.Servers[1].Secret != "s3cr3t-value" || got.CurrentServer != "127.0.0.1:7836" {
		t.Errorf("servers = %+v current %q, want bore.pub and 127.0.0.1:7836 with its secret", got.Servers, got.CurrentServer)
	}
	if len(got.Favorites) != 1 || got.Favorites[0].Name != "db" {
		t.Errorf("favorites = %+v, want only db", got.Favorites)
	}
	if got.Notifications || !got.CopyOnOpen {
		t.Errorf("notifications = %v copy_on_open = %v, want false and the default true", got.Notifications, got.CopyOnOpen)
	}
	msg := err.Error()
	t.Logf("message:\n%s", msg)
	if lines := strings.Split(msg, "\n"); len(lines) != 2 {
		t.Errorf("message has %d lines, want 2:\n%s", len(lines), msg)
	}
	for _, want := range []string{"copy_on_open (should be true or false)", "server 3 (control_port should be a number)",
		"favorite 1 (local_port should be a number)", le.Backup} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "s3cr3t") || strings.Contains(msg, "18080") {
		t.Errorf("message quotes file content:\n%s", msg)
	}
	data, rerr := os.ReadFile(le.Backup)
	if rerr != nil || string(data) != content {
		t.Errorf("backup differs from the original (err %v)", rerr)
	}
	if runtime.GOOS != "windows" {
		if fi, err := os.Stat(le.Backup); err == nil && fi.Mode().Perm() != 0o600 {
			t.Errorf("backup mode = %o, want 600", fi.Mode().Perm())
		}
	}
	// The file now holds what was kept, and loads cleanly.
	again, err := (&Store{Path: s.Path}).Load()
	if err != nil {
		t.Fatalf("second Load: %v", err)
	}
	if len(again.Servers) != 2 || len(again.Favorites) != 1 || again.Servers[1].Secret != "s3cr3t-value" {
		t.Errorf("second Load = %+v, want the kept settings", again)
	}
}

// A settings file that is a symbolic link is never followed, renamed or
// chmod-ed, and saving refuses to replace it.
func TestLoadRefusesSymlink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	s := newStore(t)
	target := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(target, []byte("not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(s.Path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, s.Path); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load()
	if !errors.Is(err, ErrSymlink) {
		t.Fatalf("Load() error = %v, want ErrSymlink", err)
	}
	if len(got.Servers) != 1 || got.Servers[0].Host != DefaultServer {
		t.Errorf("Load() = %+v, want defaults", got)
	}
	if msg := err.Error(); !strings.Contains(msg, "symbolic link") || !strings.Contains(msg, s.Path) || strings.Contains(msg, "saved a copy") {
		t.Errorf("message = %q, want it to say the file is a link, and nothing about a copy", msg)
	}
	if fi, err := os.Lstat(s.Path); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was moved or replaced (%v)", err)
	}
	if fi, err := os.Stat(target); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("the link's target changed mode: %v %v", fi.Mode(), err)
	}
	if data, _ := os.ReadFile(target); string(data) != "not json" {
		t.Errorf("the link's target was written: %q", data)
	}
	if err := s.Save(Default()); !errors.Is(err, ErrNotSaved) {
		t.Errorf("Save() = %v, want ErrNotSaved", err)
	}
	if fi, err := os.Lstat(s.Path); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("Save replaced the link (%v)", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(s.Path))
	if len(entries) != 1 {
		t.Errorf("the folder holds %d entries, want only the link", len(entries))
	}
}

// A file where the settings folder should be gets its own message, not
// "damaged settings".
func TestLoadFolderIsFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bore")
	if err := os.WriteFile(dir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &Store{Path: filepath.Join(dir, "config.json")}
	_, err := s.Load()
	if !errors.Is(err, ErrFolderIsFile) {
		t.Fatalf("Load() error = %v, want ErrFolderIsFile", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, dir+" is a file") || strings.Contains(msg, "unusable") || strings.Contains(msg, "damaged") {
		t.Errorf("message = %q, want it to say %s is a file", msg, dir)
	}
	if data, _ := os.ReadFile(dir); string(data) != "x" {
		t.Errorf("the file in the way changed: %q", data)
	}
	if err := s.Save(Default()); !errors.Is(err, ErrNotSaved) {
		t.Errorf("Save() = %v, want ErrNotSaved", err)
	}
}
