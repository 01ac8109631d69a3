package ports

import (
	"slices"
	"strconv"
	"testing"
)

func TestParseTable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		v6   bool
		want []socket
	}{
		{"testdata/tcp", false, []socket{
			{port: 3306, addr: "127.0.0.1", inode: 45678},
			{port: 22, addr: "0.0.0.0", inode: 1234},
		}},
		{"testdata/tcp6", true, []socket{
			{port: 22, addr: "::", inode: 1235},
			{port: 8080, addr: "::1", inode: 2000},
			{port: 8081, addr: "192.168.0.5", inode: 2001},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			got, err := readTable(tt.file, tt.v6)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("parseTable(%s)\n got %+v\nwant %+v", tt.file, got, tt.want)
			}
		})
	}
}

func TestDiagMatchesProcTables(t *testing.T) {
	ln, port := listen(t)
	_ = ln
	diag, err := (&cache{}).sockets("/proc")
	if err != nil {
		t.Fatalf("sockets via sock_diag: %v", err)
	}
	proc, err := (&cache{noDiag: true}).sockets("/proc")
	if err != nil {
		t.Fatalf("sockets via /proc: %v", err)
	}
	key := func(s socket) string {
		return s.addr + "/" + strconv.Itoa(int(s.port)) + "/" + strconv.FormatUint(s.inode, 10)
	}
	set := func(l []socket) map[string]bool {
		m := make(map[string]bool)
		for _, s := range l {
			m[key(s)] = true
		}
		return m
	}
	d, p := set(diag), set(proc)
	found := false
	for _, s := range diag {
		if s.port == port && s.addr == "127.0.0.1" {
			found = true
		}
	}
	if !found {
		t.Errorf("sock_diag did not list our listener on port %d: %+v", port, diag)
	}
	// Other tests on the machine may open or close listeners between the
	// two reads; ours must be in both, and the sets should mostly agree.
	for k := range d {
		if !p[k] {
			t.Logf("only in sock_diag: %s", k)
		}
	}
	for k := range p {
		if !d[k] {
			t.Logf("only in /proc: %s", k)
		}
	}
	for _, s := range proc {
		if s.port == port && !d[key(s)] {
			t.Errorf("our listener %s is in /proc but not sock_diag", key(s))
		}
	}
}
