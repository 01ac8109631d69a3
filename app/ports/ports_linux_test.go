package ports

import (
	"os"
	"slices"
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
			data, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseTable(data, tt.v6)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("parseTable(%s)\n got %+v\nwant %+v", tt.file, got, tt.want)
			}
		})
	}
}
