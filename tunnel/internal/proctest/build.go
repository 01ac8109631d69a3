//go:build linux

package proctest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BuildBore builds the bore command into a temporary directory of tb's and
// returns its path. It fails tb when the build fails.
func BuildBore(tb testing.TB) string {
	tb.Helper()
	// go test puts its own GOROOT/bin first in PATH.
	goTool, err := exec.LookPath("go")
	if err != nil {
		tb.Fatalf("build bore: no go command in PATH: %v", err)
	}
	bin := filepath.Join(tb.TempDir(), "bore")
	cmd := exec.Command(goTool, "build", "-o", bin, "github.com/boretray/bore")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("build bore: %v\n%s", err, out)
	}
	return bin
}
