package desktop

import (
	"encoding/base64"
	"os"
	"os/exec"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(lockHelperEnv) != "" {
		os.Exit(lockHelper())
	}
	goleak.VerifyTestMain(m)
}

// requireTool returns the path of a system tool the test needs. Without it
// the test is skipped locally and fails under CI, where .ci/run installs it.
func requireTool(t *testing.T, name, aptPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required under CI (apt package %s): %v", name, aptPackage, err)
		}
		t.Skipf("%s not installed (apt package %s)", name, aptPackage)
	}
	return p
}

// decodeBase64 decodes standard base64.
func decodeBase64(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
