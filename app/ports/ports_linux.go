package ports

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// On Linux the socket tables are read from /proc/net/tcp and tcp6 (cheap: a
// few hundred microseconds), and socket inodes are mapped to processes by
// reading the /proc/<pid>/fd links, which costs far more, so that is done only
// when a listening socket appeared that the cache does not know yet.

// listenState is TCP_LISTEN in /proc/net/tcp's "st" column.
const listenState = "0A"

// owner is the process holding a socket.
type owner struct {
	pid  int32
	name string
}

// socket is one listening socket from /proc/net/tcp*.
type socket struct {
	port  uint16
	addr  string
	inode uint64
}

// cache remembers which process owns which listening socket inode.
type cache struct {
	procRoot string // "/proc" unless a test says otherwise
	owners   map[uint64]owner
}

// listening reads the socket tables and fills in process names, scanning
// /proc/*/fd only for inodes it has not seen before.
func (c *cache) listening(ctx context.Context) ([]Port, error) {
	root := c.procRoot
	if root == "" {
		root = "/proc"
	}
	var socks []socket
	var firstErr error
	found := false
	for _, name := range []string{"tcp", "tcp6"} {
		s, err := readTable(filepath.Join(root, "net", name), name == "tcp6")
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		found = true
		socks = append(socks, s...)
	}
	if !found {
		return nil, fmt.Errorf("could not list listening ports: %w", firstErr)
	}

	missing := make(map[uint64]bool)
	live := make(map[uint64]bool, len(socks))
	for _, s := range socks {
		live[s.inode] = true
		if _, ok := c.owners[s.inode]; !ok && s.inode != 0 {
			missing[s.inode] = true
		}
	}
	if c.owners == nil {
		c.owners = make(map[uint64]owner)
	}
	for ino := range c.owners {
		if !live[ino] {
			delete(c.owners, ino)
		}
	}
	if len(missing) > 0 {
		if err := findOwners(ctx, root, missing, c.owners); err != nil {
			return nil, err
		}
		// Remember unknown owners too (another user's process), so they do
		// not trigger a full scan on every refresh.
		for ino := range missing {
			if _, ok := c.owners[ino]; !ok {
				c.owners[ino] = owner{}
			}
		}
	}

	out := make([]Port, 0, len(socks))
	for _, s := range socks {
		o := c.owners[s.inode]
		out = append(out, Port{Port: s.port, Addr: s.addr, PID: o.pid, Process: o.name})
	}
	return dedupe(out), nil
}

// readTable parses one /proc/net/tcp-format file and returns its listening
// sockets.
func readTable(path string, v6 bool) ([]socket, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseTable(data, v6)
}

// parseTable parses the content of /proc/net/tcp or tcp6. Lines look like
//
//	sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
//	0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 45678 ...
func parseTable(data []byte, v6 bool) ([]socket, error) {
	var out []socket
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	first := true
	for sc.Scan() {
		if first { // header
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[3] != listenState {
			continue
		}
		hexIP, hexPort, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		port, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil {
			continue
		}
		ip, err := parseHexIP(hexIP, v6)
		if err != nil {
			continue
		}
		inode, err := strconv.ParseUint(f[9], 10, 64)
		if err != nil {
			continue
		}
		out = append(out, socket{port: uint16(port), addr: ip.String(), inode: inode})
	}
	return out, sc.Err()
}

// parseHexIP decodes the kernel's address: 4-byte groups in host (little
// endian on every Linux we ship for) byte order.
func parseHexIP(s string, v6 bool) (net.IP, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if (!v6 && len(b) != 4) || (v6 && len(b) != 16) {
		return nil, errors.New("bad address length")
	}
	for i := 0; i+4 <= len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	ip := net.IP(b)
	if v4 := ip.To4(); v4 != nil && v6 && !ip.IsUnspecified() {
		return v4, nil // ::ffff:a.b.c.d
	}
	return ip, nil
}

// findOwners walks /proc/<pid>/fd looking for "socket:[inode]" links of the
// wanted inodes and records their processes in owners. It stops early once
// every wanted inode is found.
func findOwners(ctx context.Context, root string, want map[uint64]bool, owners map[uint64]owner) error {
	entries, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("could not list processes: %w", err)
	}
	left := len(want)
	for _, e := range entries {
		if left == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		pid, err := strconv.ParseInt(e.Name(), 10, 32)
		if err != nil {
			continue
		}
		fdDir := filepath.Join(root, e.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue // gone, or another user's
		}
		name := ""
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			if err != nil || !strings.HasPrefix(link, "socket:[") {
				continue
			}
			ino, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]"), 10, 64)
			if err != nil || !want[ino] {
				continue
			}
			if _, done := owners[ino]; done {
				continue
			}
			if name == "" {
				name = processName(root, e.Name())
			}
			owners[ino] = owner{pid: int32(pid), name: name}
			left--
		}
	}
	return nil
}

// processName returns a process's name: /proc/<pid>/comm, which the kernel
// cuts at 15 bytes, completed from the executable's name when it was cut.
func processName(root, pid string) string {
	b, err := os.ReadFile(filepath.Join(root, pid, "comm"))
	if err != nil {
		return ""
	}
	name := strings.TrimSpace(string(b))
	if len(name) == 15 {
		if cmd, err := os.ReadFile(filepath.Join(root, pid, "cmdline")); err == nil {
			arg0, _, _ := bytes.Cut(cmd, []byte{0})
			if base := filepath.Base(string(arg0)); strings.HasPrefix(base, name) {
				return base
			}
		}
	}
	return name
}
