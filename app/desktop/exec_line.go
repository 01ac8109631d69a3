package desktop

import (
	"fmt"
	"os"
	"strings"

	"github.com/boretray/bore/app/internal/atomicfile"
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

// writeFileAtomic writes data to path atomically (atomicfile.Write): a
// symlink at path is replaced, never written through.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	return atomicfile.Write(path, data, perm)
}
