package app

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// errPortRange is the wording for any port that is not 1..65535.
var errPortRange = errors.New("port must be a number from 1 to 65535")

// ParsePortEntry parses what a user typed for a local service: "3000",
// "localhost:3000", "192.168.1.5:8080" or "[::1]:22". host is "" when only a
// port was given.
func ParsePortEntry(s string) (host string, port uint16, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", 0, errors.New("enter a port such as 3000 or localhost:3000")
	}
	if i := strings.Index(s, "://"); i >= 0 {
		return "", 0, fmt.Errorf("%q is not host:port: enter it without %s, like localhost:3000", s, s[:i+3])
	}
	if !strings.Contains(s, ":") || isDigits(s) {
		p, err := parsePort(s)
		return "", p, err
	}
	h, ps, err := net.SplitHostPort(s)
	if err != nil {
		if strings.Count(s, ":") > 1 && !strings.HasPrefix(s, "[") {
			return "", 0, fmt.Errorf("%q: put an IPv6 address in brackets, like [::1]:22", s)
		}
		return "", 0, fmt.Errorf("%q is not host:port, like localhost:3000", s)
	}
	if ps == "" {
		return "", 0, fmt.Errorf("%q has no port: %w", s, errPortRange)
	}
	if err := checkHost(h); err != nil {
		return "", 0, err
	}
	p, err := parsePort(ps)
	return h, p, err
}

// ParseServerEntry parses a bore server typed by a user: "example.com" or
// "example.com:7000" (IPv6 as "[2001:db8::1]:7000" or bare). controlPort is 0
// when no port was given, meaning bore's default 7835.
func ParseServerEntry(s string) (host string, controlPort uint16, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", 0, errors.New("enter a server such as bore.pub or example.com:7835")
	}
	if i := strings.Index(s, "://"); i >= 0 {
		return "", 0, fmt.Errorf("%q: enter just the host name, without %s", s, s[:i+3])
	}
	if ip := net.ParseIP(strings.Trim(s, "[]")); ip != nil && strings.Count(s, ":") > 1 && !strings.Contains(s, "]:") {
		return ip.String(), 0, nil // bare IPv6
	}
	if !strings.Contains(s, ":") {
		if err := checkHost(s); err != nil {
			return "", 0, err
		}
		return s, 0, nil
	}
	h, ps, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, fmt.Errorf("%q is not a host or host:port, like example.com:7835", s)
	}
	if h == "" {
		return "", 0, fmt.Errorf("%q has no host name", s)
	}
	if err := checkHost(h); err != nil {
		return "", 0, err
	}
	p, err := parsePort(ps)
	return h, p, err
}

// parsePort parses a decimal port in 1..65535.
func parsePort(s string) (uint16, error) {
	if !isDigits(s) {
		return 0, fmt.Errorf("%q: %w", s, errPortRange)
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%q: %w", s, errPortRange)
	}
	return uint16(n), nil
}

// checkHost rejects host names with characters no host name or IP has.
func checkHost(h string) error {
	if h == "" {
		return nil
	}
	if strings.ContainsAny(h, " \t\r\n/\\@?#[]") {
		return fmt.Errorf("%q is not a valid host name or IP address", h)
	}
	return nil
}

// isDigits reports whether s is a non-empty run of ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
