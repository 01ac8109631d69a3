package desktop

import (
	"strings"
	"testing"
)

func TestOpenCommand(t *testing.T) {
	t.Parallel()
	tests := []struct{ goos, want string }{
		{"linux", "xdg-open /tmp/x y"},
		{"freebsd", "xdg-open /tmp/x y"},
		{"darwin", "open /tmp/x y"},
		{"windows", "explorer.exe /tmp/x y"},
	}
	for _, tt := range tests {
		if got := strings.Join(openCommand(tt.goos, "/tmp/x y"), " "); got != tt.want {
			t.Errorf("openCommand(%q) = %q, want %q", tt.goos, got, tt.want)
		}
	}
}
