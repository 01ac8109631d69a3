package app

import (
	"strings"
	"testing"
)

func TestParsePortEntry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		in       string
		wantHost string
		wantPort uint16
		wantErr  string
	}{
		{"port_only", "3000", "", 3000, ""},
		{"spaces", "  8080 \n", "", 8080, ""},
		{"localhost", "localhost:3000", "localhost", 3000, ""},
		{"ipv4", "192.168.1.5:8080", "192.168.1.5", 8080, ""},
		{"ipv6", "[::1]:22", "::1", 22, ""},
		{"max", "65535", "", 65535, ""},
		{"empty", "", "", 0, "enter a port"},
		{"zero", "0", "", 0, "port must be a number from 1 to 65535"},
		{"too_big", "65536", "", 0, "port must be a number from 1 to 65535"},
		{"negative", "-1", "", 0, "port must be a number from 1 to 65535"},
		{"word", "http", "", 0, "port must be a number from 1 to 65535"},
		{"no_port", "localhost:", "", 0, "port must be a number from 1 to 65535"},
		{"bad_port", "localhost:abc", "", 0, "port must be a number from 1 to 65535"},
		{"bare_ipv6", "::1:22", "", 0, "brackets"},
		{"url", "http://localhost:3000", "", 0, "not host:port"},
		{"space_in_host", "my host:80", "", 0, "not a valid host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			host, port, err := ParsePortEntry(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("ParsePortEntry(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || host != tt.wantHost || port != tt.wantPort {
				t.Errorf("ParsePortEntry(%q) = %q, %d, %v; want %q, %d", tt.in, host, port, err, tt.wantHost, tt.wantPort)
			}
		})
	}
}

func TestParseServerEntry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		in       string
		wantHost string
		wantPort uint16
		wantErr  string
	}{
		{"host", "example.com", "example.com", 0, ""},
		{"host_port", "example.com:7000", "example.com", 7000, ""},
		{"spaces", " bore.pub ", "bore.pub", 0, ""},
		{"ipv4", "10.0.0.1:7835", "10.0.0.1", 7835, ""},
		{"ipv6_port", "[2001:db8::1]:7000", "2001:db8::1", 7000, ""},
		{"bare_ipv6", "2001:db8::1", "2001:db8::1", 0, ""},
		{"empty", "", "", 0, "enter a server"},
		{"scheme", "https://example.com", "", 0, "without https://"},
		{"bad_port", "example.com:0", "", 0, "port must be a number from 1 to 65535"},
		{"port_word", "example.com:abc", "", 0, "port must be a number from 1 to 65535"},
		{"no_host", ":7000", "", 0, "no host"},
		{"path", "example.com/x", "", 0, "not a valid host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			host, port, err := ParseServerEntry(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("ParseServerEntry(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || host != tt.wantHost || port != tt.wantPort {
				t.Errorf("ParseServerEntry(%q) = %q, %d, %v; want %q, %d", tt.in, host, port, err, tt.wantHost, tt.wantPort)
			}
		})
	}
}
