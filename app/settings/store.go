package settings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// MaxFileSize caps the settings file. A real file is a few kilobytes; a
// larger one is damaged (or not ours) and is moved aside instead of being
// read into memory.
const MaxFileSize = 1 << 20

// Sentinel errors wrapped by a *LoadError, for callers that branch on the cause.
var (
	// ErrCorrupt means the file is empty, not JSON, or has fields of the wrong type.
	ErrCorrupt = errors.New("not a valid settings file")
	// ErrTooLarge means the file is larger than MaxFileSize.
	ErrTooLarge = errors.New("settings file is too large")
	// ErrFutureVersion means the file was written by a newer Bore.
	ErrFutureVersion = errors.New("settings file is from a newer version of Bore")
	// ErrNotSaved means Save refused to write because an unreadable file
	// could not be moved aside, and overwriting it would lose it.
	ErrNotSaved = errors.New("settings were not saved")
)

// Store reads and writes the settings file at Path. It is safe for
// concurrent use; do not copy a Store after first use.
type Store struct {
	// Path is the settings file, usually DefaultPath().
	Path string

	mu sync.Mutex
	// keep is set when Load found a bad file it could not move aside: Save
	// then refuses to overwrite it so the user can still rescue it.
	keep bool
	// createTemp makes the temporary file Save writes; nil means
	// os.CreateTemp. Tests replace it to simulate failures.
	createTemp func(dir, pattern string) (tempFile, error)
}

// tempFile is the part of *os.File that Save uses.
type tempFile interface {
	io.Writer
	Name() string
	Sync() error
	Chmod(os.FileMode) error
	Close() error
}

// LoadError reports a settings file that could not be used. Load returns it
// together with Default() settings.
type LoadError struct {
	Path   string // the settings file
	Backup string // where the bad file was moved; "" when moving failed
	Err    error  // why the file was unusable (wraps ErrCorrupt, ErrTooLarge, ...)
	// MoveErr is why the file could not be moved aside, or nil.
	MoveErr error
}

// Error is a sentence for a person saying what happened and what Bore did.
func (e *LoadError) Error() string {
	if e.Backup != "" {
		return fmt.Sprintf("settings file %s was unusable (%v); saved a copy at %s and started with defaults", e.Path, e.Err, e.Backup)
	}
	return fmt.Sprintf("settings file %s was unusable (%v) and could not be moved aside (%v); started with defaults and will not save settings until the file is fixed or removed", e.Path, e.Err, e.MoveErr)
}

// Unwrap returns the cause.
func (e *LoadError) Unwrap() error { return e.Err }

// Load reads the settings file. A missing file gives Default() and no error.
// A file that is unreadable, corrupt, of the wrong shape, empty, larger than
// MaxFileSize or written by a newer Bore is moved aside to
// "<path>.bad-<UTC time>" and Load returns Default() with a *LoadError. If
// the file cannot be moved aside, later Saves refuse to overwrite it.
func (s *Store) Load() (Settings, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	st, cause := readFile(s.Path)
	if cause == nil {
		s.keep = false
		return st, nil
	}
	if errors.Is(cause, os.ErrNotExist) {
		s.keep = false
		return Default(), nil
	}
	le := &LoadError{Path: s.Path, Err: cause}
	backup, err := moveAside(s.Path)
	if err != nil {
		le.MoveErr = err
		s.keep = true
	} else {
		le.Backup = backup
		s.keep = false
	}
	return Default(), le
}

// readFile reads and decodes path. Errors never quote file content, so a
// secret in a damaged file cannot leak into a message.
func readFile(path string) (Settings, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Settings{}, err
		}
		return Settings{}, fmt.Errorf("cannot open it: %w", errors.Unwrap(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return Settings{}, fmt.Errorf("cannot read it: %w", errors.Unwrap(pathErrOrSelf(err)))
	}
	return decode(data)
}

// pathErrOrSelf makes errors.Unwrap safe on errors that are not *PathError.
func pathErrOrSelf(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe
	}
	return fmt.Errorf("%w", err)
}

// decode parses a settings file's content, applying defaults for missing
// fields and normalizing the result.
func decode(data []byte) (Settings, error) {
	if len(data) > MaxFileSize {
		return Settings{}, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxFileSize)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return Settings{}, fmt.Errorf("%w: the file is empty", ErrCorrupt)
	}
	if trimmed[0] != '{' {
		return Settings{}, fmt.Errorf("%w: expected a JSON object", ErrCorrupt)
	}
	// Peek at the version first, so a newer file's unknown shapes do not
	// turn into "corrupt".
	var v struct {
		Version json.RawMessage `json:"version"`
	}
	if err := json.Unmarshal(trimmed, &v); err != nil {
		return Settings{}, describeJSONError(err)
	}
	var version float64
	if len(v.Version) > 0 && string(v.Version) != "null" {
		if err := json.Unmarshal(v.Version, &version); err != nil {
			return Settings{}, fmt.Errorf("%w: field \"version\" is not a number", ErrCorrupt)
		}
	}
	if version > SchemaVersion {
		return Settings{}, fmt.Errorf("%w (file version %s, this Bore reads up to %d): update Bore", ErrFutureVersion, strconv.FormatFloat(version, 'g', 6, 64), SchemaVersion)
	}
	st := Default()
	st.Servers = nil
	st.Favorites = nil
	if err := json.Unmarshal(trimmed, &st); err != nil {
		return Settings{}, describeJSONError(err)
	}
	st.Normalize()
	return st, nil
}

// describeJSONError turns a JSON error into ErrCorrupt with a position or a
// field name, never the offending value.
func describeJSONError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("%w: broken JSON at byte %d", ErrCorrupt, se.Offset)
	case errors.As(err, &te):
		return fmt.Errorf("%w: field %q should be a %s", ErrCorrupt, te.Field, te.Type)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: the file is cut short", ErrCorrupt)
	default:
		return fmt.Errorf("%w: the content is not valid JSON", ErrCorrupt)
	}
}

// moveAside renames a bad settings file to a fresh "<path>.bad-<time>" name
// and returns that name.
func moveAside(path string) (string, error) {
	base := path + ".bad-" + time.Now().UTC().Format("20060102T150405")
	for i := 0; i < 100; i++ {
		name := base
		if i > 0 {
			name = base + "-" + strconv.Itoa(i)
		}
		if _, err := os.Lstat(name); err == nil {
			continue // never overwrite an earlier backup
		}
		if err := os.Rename(path, name); err != nil {
			return "", err
		}
		// The backup may hold a secret: keep it private. A failure here
		// leaves the file as private as the original was.
		_ = os.Chmod(name, 0o600)
		return name, nil
	}
	return "", fmt.Errorf("too many backups next to %s: remove old %s.bad-* files", path, filepath.Base(path))
}

// Save writes st (normalized) to Path atomically: a temporary file in the
// same directory is written, synced, made mode 0600 and renamed over the old
// file, then the directory is synced. On any failure the old file is left as
// it was and the error says what went wrong.
func (s *Store) Save(st Settings) error {
	st.Normalize()
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("could not encode settings: %w", err)
	}
	data = append(data, '\n')

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keep {
		return fmt.Errorf("%w: %s is damaged and could not be moved aside; move or delete it, then try again", ErrNotSaved, s.Path)
	}
	dir := filepath.Dir(s.Path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return saveErr(s.Path, "could not create the folder", err)
	}
	create := s.createTemp
	if create == nil {
		create = func(dir, pattern string) (tempFile, error) { return os.CreateTemp(dir, pattern) }
	}
	f, err := create(dir, "."+filepath.Base(s.Path)+".tmp-*")
	if err != nil {
		return saveErr(s.Path, "could not create a temporary file", err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return saveErr(s.Path, "could not write", err)
	}
	if err := f.Sync(); err != nil {
		return saveErr(s.Path, "could not flush to disk", err)
	}
	if err := f.Chmod(0o600); err != nil {
		return saveErr(s.Path, "could not set permissions", err)
	}
	if err := f.Close(); err != nil {
		return saveErr(s.Path, "could not write", err)
	}
	if err := os.Rename(tmp, s.Path); err != nil {
		return saveErr(s.Path, "could not replace the old file", err)
	}
	ok = true
	syncDir(dir)
	return nil
}

// syncDir makes the rename durable. Best effort: Windows cannot sync a
// directory, and the new file is already complete either way.
func syncDir(dir string) {
	if runtime.GOOS == "windows" {
		return
	}
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	d.Close()
}

// saveErr words a Save failure for a person, with a hint for common causes.
func saveErr(path, what string, err error) error {
	hint := ""
	switch {
	case errors.Is(err, syscall.ENOSPC):
		hint = "; the disk is full, free some space"
	case errors.Is(err, syscall.EROFS):
		hint = "; the file system is read-only"
	case errors.Is(err, os.ErrPermission):
		hint = "; check the permissions of " + filepath.Dir(path)
	case errors.Is(err, syscall.ENOTDIR):
		hint = "; a file is in the way of the folder " + filepath.Dir(path)
	case errors.Is(err, syscall.EISDIR):
		hint = "; a folder is in the way of the file " + path
	}
	return fmt.Errorf("could not save settings to %s: %s: %w%s (the previous settings are unchanged)", path, what, err, hint)
}
