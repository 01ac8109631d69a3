package winconsole

import (
	"os"
	"runtime"
	"testing"
)

// TestAttachKeepsStreams checks that Attach leaves usable standard streams
// alone: under "go test" they are pipes or files on every OS.
func TestAttachKeepsStreams(t *testing.T) {
	in, out, errOut := os.Stdin, os.Stdout, os.Stderr
	Attach()
	if runtime.GOOS != "windows" && (os.Stdin != in || os.Stdout != out || os.Stderr != errOut) {
		t.Fatal("Attach replaced the standard streams outside Windows")
	}
	if os.Stdout == nil || os.Stderr == nil {
		t.Fatal("Attach left a nil standard stream")
	}
}
