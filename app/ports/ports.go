// Package ports lists the TCP ports listening on this machine, with the name
// of the process behind each one, so the tray can offer them for a tunnel.
package ports

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/boretray/bore/app"
)

// Port is one listening TCP port: the tray's own type, so the scanner's
// lists reach the tray as they are.
type Port = app.Port

// Listening returns the TCP ports listening on this machine now, one entry
// per port (preferring an entry with a process name), sorted by port.
func Listening(ctx context.Context) ([]Port, error) {
	var c cache
	return c.listening(ctx)
}

// dedupe keeps one entry per port, preferring one with a process name, then
// a wildcard or loopback address over others, and sorts by port.
func dedupe(in []Port) []Port {
	best := make(map[uint16]Port, len(in))
	for _, p := range in {
		cur, ok := best[p.Port]
		if !ok || better(p, cur) {
			best[p.Port] = p
		}
	}
	out := make([]Port, 0, len(best))
	for _, p := range best {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Port) int { return int(a.Port) - int(b.Port) })
	return out
}

// better reports whether a should replace b as the entry for their port.
func better(a, b Port) bool {
	if (a.Process != "") != (b.Process != "") {
		return a.Process != ""
	}
	if ra, rb := addrRank(a.Addr), addrRank(b.Addr); ra != rb {
		return ra < rb
	}
	return a.Addr < b.Addr // deterministic
}

// addrRank orders listening addresses: IPv4 before IPv6 and wildcard before
// loopback before the rest, so the shown address is the most useful to dial.
func addrRank(addr string) int {
	switch addr {
	case "0.0.0.0":
		return 0
	case "127.0.0.1":
		return 1
	case "::":
		return 2
	case "::1":
		return 3
	}
	return 4
}

// Scanner keeps a cached list of listening ports fresh cheaply: it re-reads
// the kernel's socket tables every interval and looks up the owning
// processes only when the set of listening sockets changed.
type Scanner struct {
	interval time.Duration
	updates  chan []Port

	mu      sync.Mutex
	current []Port
	cache   cache
}

// NewScanner returns a Scanner refreshing every interval (at least 100 ms;
// 0 means 2 s).
func NewScanner(interval time.Duration) *Scanner {
	if interval == 0 {
		interval = 2 * time.Second
	}
	if interval < 100*time.Millisecond {
		interval = 100 * time.Millisecond
	}
	return &Scanner{interval: interval, updates: make(chan []Port, 1)}
}

// Run refreshes the list at once and then every interval until ctx ends.
// Call it once.
func (s *Scanner) Run(ctx context.Context) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		s.refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// refresh scans once and publishes the result when it differs from the last.
// A failed scan keeps the last list.
func (s *Scanner) refresh(ctx context.Context) {
	s.mu.Lock()
	list, err := s.cache.listening(ctx)
	if err != nil || (s.current != nil && slices.Equal(list, s.current)) {
		s.mu.Unlock()
		return
	}
	s.current = list
	s.mu.Unlock()
	// Coalesce: replace a value nobody has read yet with the newest one, so
	// the scanner never blocks on a slow reader.
	select {
	case <-s.updates:
	default:
	}
	select {
	case s.updates <- slices.Clone(list):
	default:
	}
}

// Updates receives a new list each time it changes (the first scan always
// counts as a change). The channel has capacity 1 and holds only the newest
// list.
func (s *Scanner) Updates() <-chan []Port { return s.updates }

// Current returns the last list scanned (nil before the first scan).
func (s *Scanner) Current() []Port {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.current)
}
