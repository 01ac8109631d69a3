package settings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
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
	// ErrSymlink means the settings file is a symbolic link. Bore never
	// follows a link where it writes, renames or changes permissions.
	ErrSymlink = errors.New("the settings file is a symbolic link")
	// ErrFolderIsFile means a file stands where the settings folder (or
	// one of its parents) should be.
	ErrFolderIsFile = errors.New("the settings folder is a file")
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
	Backup string // where the bad file was moved or copied; "" when that failed
	// Err is why the file was unusable (wraps ErrCorrupt, ErrTooLarge,
	// ErrSymlink, ...), or nil when only the parts in Dropped were.
	Err error
	// MoveErr is why the file could not be moved or copied aside, or nil.
	MoveErr error
	// Dropped names, for a person, each part of a readable file that had
	// to be left out ("favorite 1 (local_port should be a number)"); Load
	// then returns everything else.
	Dropped []string
	// Folder is the file standing where a folder should be, with
	// ErrFolderIsFile.
	Folder string
}

// Error says in plain words what happened and what Bore did: two lines at
// most.
func (e *LoadError) Error() string {
	switch {
	case errors.Is(e.Err, ErrSymlink):
		return fmt.Sprintf("Settings file %s is a symbolic link, and Bore does not follow links where it saves settings.\nReplace it with a regular file or remove it; until then Bore starts with defaults and saves nothing.", e.Path)
	case errors.Is(e.Err, ErrFolderIsFile):
		return fmt.Sprintf("%s is a file, but Bore keeps its settings in a folder there.\nRename or remove that file; until then Bore starts with defaults and saves nothing.", e.Folder)
	case e.Err == nil && e.MoveErr != nil:
		return fmt.Sprintf("Some settings in %s could not be read and were left out: %s.\nThe file could not be copied aside (%v), so Bore leaves it as it is and saves nothing.", e.Path, strings.Join(e.Dropped, "; "), e.MoveErr)
	case e.Err == nil:
		return fmt.Sprintf("Some settings in %s could not be read and were left out: %s.\nEverything else was kept; the original file is saved at %s.", e.Path, strings.Join(e.Dropped, "; "), e.Backup)
	case e.Backup != "":
		return fmt.Sprintf("settings file %s was unusable (%v); saved a copy at %s and started with defaults", e.Path, e.Err, e.Backup)
	}
	return fmt.Sprintf("settings file %s was unusable (%v) and could not be moved aside (%v); started with defaults and will not save settings until the file is fixed or removed", e.Path, e.Err, e.MoveErr)
}

// Unwrap returns the cause.
func (e *LoadError) Unwrap() error { return e.Err }

// refuse marks the file as one Save must not overwrite.
func (s *Store) refuse(le *LoadError) (Settings, error) {
	s.keep = true
	return Default(), le
}

// Load reads the settings file. A missing file gives Default() and no error.
// A file that is unreadable, corrupt, of the wrong shape, empty, larger than
// MaxFileSize or written by a newer Bore is moved aside to
// "<path>.bad-<UTC time>" and Load returns Default() with a *LoadError. If
// the file cannot be moved aside, later Saves refuse to overwrite it.
func (s *Store) Load() (Settings, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	if fi, err := os.Lstat(s.Path); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return s.refuse(&LoadError{Path: s.Path, Err: ErrSymlink})
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		if folder := fileInTheWay(s.Path); folder != "" {
			return s.refuse(&LoadError{Path: s.Path, Err: ErrFolderIsFile, Folder: folder})
		}
	}
	st, data, dropped, cause := readFile(s.Path)
	if cause == nil && len(dropped) == 0 {
		s.keep = false
		return st, nil
	}
	if errors.Is(cause, os.ErrNotExist) {
		if folder := fileInTheWay(s.Path); folder != "" {
			return s.refuse(&LoadError{Path: s.Path, Err: ErrFolderIsFile, Folder: folder})
		}
		s.keep = false
		return Default(), nil
	}
	if cause == nil {
		// Readable, with parts left out: keep the original aside and
		// write what was kept, so the next start reads it cleanly.
		le := &LoadError{Path: s.Path, Dropped: dropped}
		backup, err := copyAside(s.Path, data)
		if err != nil {
			le.MoveErr = err
			s.keep = true
			return st, le
		}
		le.Backup = backup
		s.keep = false
		_ = s.save(st) // a failure shows on the next Save
		return st, le
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

// fileInTheWay returns the nearest parent of path that is a regular file
// (so path's folder cannot exist), or "".
func fileInTheWay(path string) string {
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		if fi, err := os.Lstat(dir); err == nil {
			if fi.Mode().IsRegular() {
				return dir
			}
			return ""
		}
		if next := filepath.Dir(dir); next == dir {
			return ""
		}
	}
}

// readFile reads and decodes path, never through a symbolic link. Errors
// never quote file content, so a secret in a damaged file cannot leak into
// a message.
func readFile(path string) (Settings, []byte, []string, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|oNoFollow, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Settings{}, nil, nil, err
		}
		return Settings{}, nil, nil, fmt.Errorf("cannot open it: %w", errors.Unwrap(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return Settings{}, nil, nil, fmt.Errorf("cannot read it: %w", errors.Unwrap(pathErrOrSelf(err)))
	}
	st, dropped, err := decode(data)
	return st, data, dropped, err
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
// fields and normalizing the result. A field of the wrong type does not
// spoil the rest: the server or favorite it belongs to (or the field, at
// the top level) is left out and named in dropped.
func decode(data []byte) (st Settings, dropped []string, err error) {
	if len(data) > MaxFileSize {
		return Settings{}, nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxFileSize)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return Settings{}, nil, fmt.Errorf("%w: the file is empty", ErrCorrupt)
	}
	if trimmed[0] != '{' {
		return Settings{}, nil, fmt.Errorf("%w: expected a JSON object", ErrCorrupt)
	}
	// Peek at the version first, so a newer file's unknown shapes do not
	// turn into "corrupt".
	var v struct {
		Version json.RawMessage `json:"version"`
	}
	if err := json.Unmarshal(trimmed, &v); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			return Settings{}, nil, describeJSONError(err)
		}
	}
	var version float64
	if len(v.Version) > 0 && string(v.Version) != "null" {
		if err := json.Unmarshal(v.Version, &version); err != nil {
			return Settings{}, nil, fmt.Errorf("%w: field \"version\" is not a number", ErrCorrupt)
		}
	}
	if version > SchemaVersion {
		return Settings{}, nil, fmt.Errorf("%w (file version %s, this Bore reads up to %d): update Bore", ErrFutureVersion, strconv.FormatFloat(version, 'g', 6, 64), SchemaVersion)
	}
	st = Default()
	st.Servers = nil
	st.Favorites = nil
	if err := json.Unmarshal(trimmed, &st); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			return Settings{}, nil, describeJSONError(err)
		}
		st, dropped = decodeParts(trimmed)
	}
	st.Normalize()
	return st, dropped, nil
}

// decodeParts decodes a settings object field by field and list entry by
// list entry, leaving out what has the wrong type.
func decodeParts(data []byte) (Settings, []string) {
	st := Default()
	st.Servers = nil
	st.Favorites = nil
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return st, []string{"everything (" + describeJSONError(err).Error() + ")"}
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var dropped []string
	for _, k := range keys {
		raw := fields[k]
		switch k {
		case "servers":
			st.Servers, dropped = decodeList[Server](raw, "server", dropped)
		case "favorites":
			st.Favorites, dropped = decodeList[Favorite](raw, "favorite", dropped, "inspect")
		default:
			one, _ := json.Marshal(map[string]json.RawMessage{k: raw})
			if err := json.Unmarshal(one, &st); err != nil {
				dropped = append(dropped, fmt.Sprintf("%s (%s)", k, strings.TrimPrefix(typeProblem(err), k+" ")))
			}
		}
	}
	return st, dropped
}

// decodeList decodes a JSON list entry by entry; an entry that does not
// decode is left out and named ("favorite 2 (local_port should be a
// number)", counting from 1). A mistyped optional field (an option that
// has a safe default) costs only that field: the entry is kept without it
// and the field is named ("favorite 2's inspect (should be true or
// false)").
func decodeList[T any](raw json.RawMessage, what string, dropped []string, optional ...string) ([]T, []string) {
	var entries []json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, append(dropped, fmt.Sprintf("the %s list (it should be a list)", what))
	}
	var out []T
	for i, e := range entries {
		var v T
		err := json.Unmarshal(e, &v)
		if err != nil && len(optional) > 0 {
			var fixed json.RawMessage
			var bad []string
			if fixed, bad = withoutBadFields[T](e, optional); len(bad) > 0 {
				var w T
				if json.Unmarshal(fixed, &w) == nil {
					v, err = w, nil
					for _, b := range bad {
						dropped = append(dropped, fmt.Sprintf("%s %d's %s", what, i+1, b))
					}
				}
			}
		}
		if err != nil {
			dropped = append(dropped, fmt.Sprintf("%s %d (%s)", what, i+1, typeProblem(err)))
			continue
		}
		out = append(out, v)
	}
	return out, dropped
}

// withoutBadFields returns entry, a JSON object, without those of the
// optional fields that do not decode into a T on their own, and names
// them with what is wrong ("inspect (should be true or false)").
func withoutBadFields[T any](entry json.RawMessage, optional []string) (json.RawMessage, []string) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(entry, &fields) != nil {
		return entry, nil
	}
	var bad []string
	for _, name := range optional {
		raw, ok := fields[name]
		if !ok {
			continue
		}
		one, _ := json.Marshal(map[string]json.RawMessage{name: raw})
		var v T
		if err := json.Unmarshal(one, &v); err != nil {
			bad = append(bad, fmt.Sprintf("%s (%s)", name, strings.TrimPrefix(typeProblem(err), name+" ")))
			delete(fields, name)
		}
	}
	if len(bad) == 0 {
		return entry, nil
	}
	out, err := json.Marshal(fields)
	if err != nil {
		return entry, nil
	}
	return out, bad
}

// typeProblem says what is wrong with a value, never quoting it.
func typeProblem(err error) string {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return "not readable"
	}
	want := "a " + te.Type.String()
	switch te.Type.Kind() {
	case reflect.Bool:
		want = "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		want = "a number"
		if te.Value == "number" {
			want = "a whole number in range"
		}
	case reflect.String:
		want = "text in quotes"
	case reflect.Slice:
		want = "a list"
	case reflect.Struct, reflect.Map:
		want = "an object"
	}
	if te.Field == "" {
		return "should be " + want
	}
	return te.Field + " should be " + want
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
		// leaves the file as private as the original was. Never through a
		// link: only a regular file is changed.
		if fi, err := os.Lstat(name); err == nil && fi.Mode().IsRegular() {
			_ = os.Chmod(name, 0o600)
		}
		return name, nil
	}
	return "", fmt.Errorf("too many backups next to %s: remove old %s.bad-* files", path, filepath.Base(path))
}

// copyAside writes data, the content of the settings file at path, to a
// fresh private "<path>.bad-<time>" file and returns its name.
func copyAside(path string, data []byte) (string, error) {
	base := path + ".bad-" + time.Now().UTC().Format("20060102T150405")
	for i := 0; i < 100; i++ {
		name := base
		if i > 0 {
			name = base + "-" + strconv.Itoa(i)
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, 0o600)
		if errors.Is(err, os.ErrExist) {
			continue // never overwrite an earlier backup
		}
		if err != nil {
			return "", err
		}
		_, err = f.Write(data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(name)
			return "", err
		}
		return name, nil
	}
	return "", fmt.Errorf("too many backups next to %s: remove old %s.bad-* files", path, filepath.Base(path))
}

// Save writes st (normalized) to Path atomically: a temporary file in the
// same directory is written, synced, made mode 0600 and renamed over the old
// file, then the directory is synced. On any failure the old file is left as
// it was and the error says what went wrong.
func (s *Store) Save(st Settings) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keep {
		return fmt.Errorf("%w: %s is damaged, a link, or in the way, and Bore leaves it alone; move or delete it, then try again", ErrNotSaved, s.Path)
	}
	return s.save(st)
}

// save writes st; s.mu is held.
func (s *Store) save(st Settings) error {
	st.Normalize()
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("could not encode settings: %w", err)
	}
	data = append(data, '\n')
	if fi, err := os.Lstat(s.Path); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return fmt.Errorf("%w: %s is a symbolic link, and Bore does not replace links; make it a regular file", ErrNotSaved, s.Path)
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
