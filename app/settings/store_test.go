package settings

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// sample returns settings using every field, with a secret.
func sample() Settings {
	return Settings{
		Version:       SchemaVersion,
		CurrentServer: "tunnel.example.com:7000",
		Servers: []Server{
			{Host: "bore.pub"},
			{Host: "tunnel.example.com", ControlPort: 7000, Secret: "s3cr3t-value"},
		},
		Favorites: []Favorite{
			{Name: "web", LocalPort: 3000, Server: "bore.pub"},
			{Name: "ssh", LocalHost: "192.168.1.5", LocalPort: 22, Server: "tunnel.example.com:7000", RemotePort: 40022},
		},
		StartFavoritesAtLaunch: true,
		LaunchAtLogin:          true,
		CopyOnOpen:             false,
		Notifications:          false,
		NotifyOnConnection:     true,
	}
}

func newStore(t *testing.T) *Store {
	t.Helper()
	return &Store{Path: filepath.Join(t.TempDir(), "bore", "config.json")}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	got, err := s.Load()
	if err != nil {
		t.Fatalf("Load() of a missing file: %v", err)
	}
	if !reflect.DeepEqual(got, Default()) {
		t.Errorf("Load() = %+v, want Default()", got)
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	want := sample()
	if err := s.Save(want); err != nil {
		t.Fatalf("Save: %v", err)
	}
	got, err := (&Store{Path: s.Path}).Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
}

func TestPermissions(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("Unix permissions")
	}
	s := newStore(t)
	if err := s.Save(sample()); err != nil {
		t.Fatalf("Save: %v", err)
	}
	for path, want := range map[string]os.FileMode{s.Path: 0o600, filepath.Dir(s.Path): 0o700} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("mode of %s = %o, want %o", path, got, want)
		}
	}
	// Saving over a file that was made world-readable tightens it again.
	if err := os.Chmod(s.Path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(sample()); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if fi, _ := os.Stat(s.Path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode after re-save = %o, want 600", fi.Mode().Perm())
	}
}

func TestDefaultsForMissingFields(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	writeFile(t, s.Path, `{"version":1,"favorites":[{"name":"x","local_port":80,"server":"bore.pub"}]}`)
	got, err := s.Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !got.CopyOnOpen || !got.Notifications || got.CurrentServer != DefaultServer || len(got.Favorites) != 1 {
		t.Errorf("Load() = %+v, want defaults for missing fields and the one favorite", got)
	}
}

func TestOldVersionLoads(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	writeFile(t, s.Path, `{"current_server":"a","servers":[{"host":"a"}],"unknown_field":[1,2]}`)
	got, err := s.Load()
	if err != nil {
		t.Fatalf("Load of a version-less file: %v", err)
	}
	if got.Version != SchemaVersion || got.CurrentServer != "a" {
		t.Errorf("Load() = %+v, want version %d and server a", got, SchemaVersion)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLoadBadFiles(t *testing.T) {
	t.Parallel()
	const secret = "TOPSECRET-4242"
	valid := `{"version":1,"servers":[{"host":"h","secret":"` + secret + `"}]}`
	tests := []struct {
		name    string
		content string
		want    error
	}{
		{"corrupt", "{{{ not json " + secret, ErrCorrupt},
		{"truncated", valid[:len(valid)-5], ErrCorrupt},
		{"empty", "", ErrCorrupt},
		{"whitespace", " \n\t ", ErrCorrupt},
		{"null", "null", ErrCorrupt},
		{"array", `["` + secret + `"]`, ErrCorrupt},
		{"wrong_type_version", `{"version":"` + secret + `"}`, ErrCorrupt},
		{"trailing_garbage", valid + `}` + secret, ErrCorrupt},
		{"huge", `{"version":1,"servers":[{"host":"h","secret":"` + strings.Repeat("x", MaxFileSize) + `"}]}`, ErrTooLarge},
		{"future_version", `{"version":99,"servers":[{"host":"h","secret":"` + secret + `"}],"new":{"x":1}}`, ErrFutureVersion},
		{"binary", "\x00\xff\xfe" + secret, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			writeFile(t, s.Path, tt.content)
			got, err := s.Load()
			if !reflect.DeepEqual(got, Default()) {
				t.Errorf("Load() settings = %+v, want Default()", got)
			}
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("Load() error = %v (%T), want *LoadError", err, err)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("Load() error = %v, want it to wrap %v", err, tt.want)
			}
			msg := err.Error()
			if strings.Contains(msg, secret) || strings.Contains(msg, "4242424242") {
				t.Errorf("error leaks the secret: %s", msg)
			}
			if le.Backup == "" || !strings.Contains(msg, le.Backup) || !strings.Contains(msg, "started with defaults") {
				t.Errorf("error = %q, want a sentence naming the backup (%q)", msg, le.Backup)
			}
			if !strings.HasPrefix(le.Backup, s.Path+".bad-") {
				t.Errorf("backup = %q, want %s.bad-<time>", le.Backup, s.Path)
			}
			data, rerr := os.ReadFile(le.Backup)
			if rerr != nil || string(data) != tt.content {
				t.Errorf("backup content differs from the bad file (err %v)", rerr)
			}
			if runtime.GOOS != "windows" {
				if fi, err := os.Stat(le.Backup); err == nil && fi.Mode().Perm() != 0o600 {
					t.Errorf("backup mode = %o, want 600", fi.Mode().Perm())
				}
			}
			if _, err := os.Stat(s.Path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("bad file still at %s (stat err %v)", s.Path, err)
			}
			// Saving afterwards works and does not touch the backup.
			if err := s.Save(Default()); err != nil {
				t.Fatalf("Save after a bad load: %v", err)
			}
			if data, _ := os.ReadFile(le.Backup); string(data) != tt.content {
				t.Errorf("backup changed after Save")
			}
		})
	}
}

func TestLoadBadFileTwiceKeepsBothBackups(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	writeFile(t, s.Path, "first")
	_, err1 := s.Load()
	writeFile(t, s.Path, "second")
	_, err2 := s.Load()
	var le1, le2 *LoadError
	if !errors.As(err1, &le1) || !errors.As(err2, &le2) {
		t.Fatalf("Load errors = %v, %v; want *LoadError twice", err1, err2)
	}
	if le1.Backup == le2.Backup {
		t.Fatalf("both backups at %s", le1.Backup)
	}
	for b, want := range map[string]string{le1.Backup: "first", le2.Backup: "second"} {
		if data, _ := os.ReadFile(b); string(data) != want {
			t.Errorf("backup %s = %q, want %q", b, data, want)
		}
	}
}

func TestLoadUnreadableDirectory(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	if err := os.MkdirAll(s.Path, 0o700); err != nil { // a folder where the file should be
		t.Fatal(err)
	}
	_, err := s.Load()
	var le *LoadError
	if !errors.As(err, &le) || le.Backup == "" {
		t.Fatalf("Load() error = %v, want a *LoadError with a backup", err)
	}
	if err := s.Save(sample()); err != nil {
		t.Fatalf("Save after moving the folder aside: %v", err)
	}
}

func TestLoadCannotMoveAsideRefusesToOverwrite(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("uses /proc, where files cannot be renamed")
	}
	s := &Store{Path: "/proc/self/status"} // readable, not JSON, cannot be renamed
	got, err := s.Load()
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("Load() error = %v, want *LoadError", err)
	}
	if le.Backup != "" || le.MoveErr == nil {
		t.Errorf("LoadError = %+v, want no backup and a MoveErr", le)
	}
	if !strings.Contains(err.Error(), "will not save") {
		t.Errorf("error = %q, want it to say settings will not be saved", err)
	}
	if !reflect.DeepEqual(got, Default()) {
		t.Errorf("Load() = %+v, want Default()", got)
	}
	if err := s.Save(Default()); !errors.Is(err, ErrNotSaved) {
		t.Errorf("Save after a failed move-aside = %v, want ErrNotSaved", err)
	}
}

func TestSaveDirIsAFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	blocker := filepath.Join(dir, "bore")
	writeFile(t, blocker, "i am a file")
	s := &Store{Path: filepath.Join(blocker, "config.json")}
	err := s.Save(sample())
	if err == nil {
		t.Fatal("Save into a folder that is a file succeeded")
	}
	if !strings.Contains(err.Error(), "previous settings are unchanged") || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("Save error = %q, want an explanation without the secret", err)
	}
	if data, _ := os.ReadFile(blocker); string(data) != "i am a file" {
		t.Errorf("the file in the way was changed")
	}
}

func TestSaveRenameFailsKeepsOld(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	if err := os.MkdirAll(filepath.Join(s.Path, "child"), 0o700); err != nil {
		t.Fatal(err)
	}
	err := s.Save(sample())
	if err == nil || !strings.Contains(err.Error(), "could not replace") {
		t.Fatalf("Save over a folder = %v, want a replace error", err)
	}
	assertNoTemps(t, filepath.Dir(s.Path))
}

// failingFile is a tempFile whose operations fail on demand.
type failingFile struct {
	*os.File
	failWrite, failSync error
}

func (f *failingFile) Write(p []byte) (int, error) {
	if f.failWrite != nil {
		n, _ := f.File.Write(p[:len(p)/2]) // a partial write, like a full disk
		return n, f.failWrite
	}
	return f.File.Write(p)
}

func (f *failingFile) Sync() error {
	if f.failSync != nil {
		return f.failSync
	}
	return f.File.Sync()
}

func TestSaveFailureKeepsOldFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		failWrite error
		failSync  error
		want      string
	}{
		{"disk_full", syscall.ENOSPC, nil, "disk is full"},
		{"read_only", syscall.EROFS, nil, "read-only"},
		{"sync_fails", nil, syscall.EIO, "could not flush"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			old := sample()
			if err := s.Save(old); err != nil {
				t.Fatal(err)
			}
			before, _ := os.ReadFile(s.Path)
			s.createTemp = func(dir, pattern string) (tempFile, error) {
				f, err := os.CreateTemp(dir, pattern)
				if err != nil {
					return nil, err
				}
				return &failingFile{File: f, failWrite: tt.failWrite, failSync: tt.failSync}, nil
			}
			err := s.Save(Default())
			if err == nil {
				t.Fatal("Save succeeded with a failing file")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "unchanged") {
				t.Errorf("Save error = %q, want it to contain %q", err, tt.want)
			}
			if tt.failWrite != nil && !errors.Is(err, tt.failWrite) {
				t.Errorf("Save error = %v, want it to wrap %v", err, tt.failWrite)
			}
			after, _ := os.ReadFile(s.Path)
			if string(after) != string(before) {
				t.Errorf("old file changed after a failed save")
			}
			assertNoTemps(t, filepath.Dir(s.Path))
			got, err := (&Store{Path: s.Path}).Load()
			if err != nil || !reflect.DeepEqual(got, old) {
				t.Errorf("Load after failed save = %+v, %v; want the old settings", got, err)
			}
		})
	}
}

func TestConcurrentSaves(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			st := sample()
			st.Favorites = append(st.Favorites, Favorite{Name: fmt.Sprint("f", i), LocalPort: uint16(1000 + i), Server: "bore.pub"})
			errs <- s.Save(st)
		}()
		go func() {
			defer wg.Done()
			_, err := s.Load()
			if errors.Is(err, ErrCorrupt) {
				errs <- fmt.Errorf("a concurrent Load saw a partial file: %w", err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	got, err := s.Load()
	if err != nil {
		t.Fatalf("Load after concurrent saves: %v", err)
	}
	if len(got.Favorites) != 3 {
		t.Errorf("Load() favorites = %+v, want one save's 3 favorites", got.Favorites)
	}
	assertNoTemps(t, filepath.Dir(s.Path))
}

func assertNoTemps(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}
