package cli

import (
	"strings"
	"testing"
)

func TestParseCodeRanges(t *testing.T) {
	t.Parallel()
	maps := `00400000-009d4000 r-xp 00000000 08:01 123 /usr/bin/bore
009d4000-01064000 r--p 005d4000 08:01 123 /usr/bin/bore
01064000-010d4000 rw-p 00c64000 08:01 123 /usr/bin/bore
010d4000-03119000 rw-p 00000000 00:00 0
7f0000000000-7f0000001000 r-xp 00000000 08:01 456 /usr/lib/other
7f0000002000-7f0000001000 r--p 00000000 08:01 123 /usr/bin/bore
zzzz-7f0000003000 r--p 00000000 08:01 123 /usr/bin/bore
short line
`
	got := parseCodeRanges(strings.NewReader(maps), "/usr/bin/bore")
	want := []codeRange{{0x400000, 0x9d4000 - 0x400000}, {0x9d4000, 0x1064000 - 0x9d4000}}
	if len(got) != len(want) {
		t.Fatalf("got %x, want %x", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("range %d: got %x, want %x", i, got[i], want[i])
		}
	}
}

// The executable's own code keeps running after its pages are dropped:
// the kernel maps them back from the page cache.
func TestDropCodePagesKeepsRunning(t *testing.T) {
	if len(codeRanges()) == 0 {
		t.Fatal("no read-only mappings of the test executable found in /proc/self/maps")
	}
	dropCodePages()
	dropCodePages()
	if s := strings.Repeat("x", 3); s != "xxx" {
		t.Fatal(s)
	}
}
