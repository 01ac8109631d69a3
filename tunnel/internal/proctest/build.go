//go:build linux

package proctest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// BuildBore builds the bore command into a temporary directory of tb's and
// returns its path. It fails tb when the build fails.
func BuildBore(tb testing.TB) string {
	tb.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(tb.TempDir(), "bore")
	cmd := exec.Command(goTool, "build", "-o", bin, "github.com/boretray/bore")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("build bore: %v\n%s", err, out)
	}
	return bin
}
