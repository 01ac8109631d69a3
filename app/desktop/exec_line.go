package desktop

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// desktopExec renders argv as the Exec value of a .desktop file, following
// the Desktop Entry Specification: arguments with reserved characters are
// double-quoted with `"`, "`", "$" and "\" escaped by a backslash, "%" is
// doubled, and then the string-value escape turns each "\" into "\\".
func desktopExec(argv []string) (string, error) {
	parts := make([]string, 0, len(argv))
	for _, arg := range argv {
		if strings.ContainsAny(arg, "\n\r\t\x00") {
			return "", fmt.Errorf("argument %q has a control character, which a .desktop file cannot hold", arg)
		}
		q := arg
		if arg == "" || strings.ContainsAny(arg, " \"'\\><~|&;$*?#()`=") {
			var b strings.Builder
			b.WriteByte('"')
			for _, r := range arg {
				if r == '"' || r == '`' || r == '$' || r == '\\' {
					b.WriteByte('\\')
				}
				b.WriteRune(r)
			}
			b.WriteByte('"')
			q = b.String()
		}
		q = strings.ReplaceAll(q, "%", "%%")
		q = strings.ReplaceAll(q, `\`, `\\`)
		parts = append(parts, q)
	}
	return strings.Join(parts, " "), nil
}

// writeFileAtomic writes data to path through a temporary file and a
// rename, creating the directory (0700) if needed.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if werr == nil {
		werr = f.Chmod(perm)
	}
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
		return werr
	}
	return nil
}
