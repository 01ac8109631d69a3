// Package atomicfile writes a file so that readers see either its old
// content or the new, never a mix, even if the program dies half-way.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write writes data to path through a temporary file in the same folder,
// synced to disk and then renamed over path. The folder is created (0700)
// if missing. A symlink at path is replaced, never followed: the file it
// points to is left as it was. perm is the new file's mode. On failure path
// is unchanged and no temporary file is left behind.
func Write(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = f.Chmod(perm)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// rename(2) replaces a symlink at path itself, not its target.
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable where the OS allows it; failing to
// is not an error, the rename has happened.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync() //nolint:errcheck // best effort; some systems refuse to sync a directory
		d.Close()
	}
}
