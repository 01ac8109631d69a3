package desktop

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/adrg/xdg"
)

// lockPath returns the lock file for name: <XDG runtime dir>/<name>.lock
// when that directory exists, else <config dir>/bore/<name>.lock.
func lockPath(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, `/\:`) || name == "." || name == ".." {
		return "", fmt.Errorf("invalid lock name %q", name)
	}
	if rt := xdg.RuntimeDir; rt != "" {
		if fi, err := os.Stat(rt); err == nil && fi.IsDir() {
			return filepath.Join(rt, name+".lock"), nil
		}
	}
	dir := filepath.Join(xdg.ConfigHome, "bore")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("cannot create %s for the instance lock: %w", dir, err)
	}
	return filepath.Join(dir, name+".lock"), nil
}
