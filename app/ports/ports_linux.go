package ports

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// On Linux the listening sockets come from netlink sock_diag (the kernel
// filters by state), or from /proc/net/tcp and tcp6 when sock_diag is not
// available. Socket inodes are mapped to processes by reading the
// /proc/<pid>/fd links, which costs far more, so that is done only when a
// listening socket appeared that the cache does not know yet.

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
	// noDiag is set once netlink sock_diag failed; the /proc tables are
	// used from then on.
	noDiag bool
}

// sockets lists the listening sockets, through sock_diag when it works
// and the /proc/net tables otherwise.
func (c *cache) sockets(root string) ([]socket, error) {
	if !c.noDiag && c.procRoot == "" {
		v4, err4 := diagListening(unix.AF_INET)
		v6, err6 := diagListening(unix.AF_INET6)
		if err4 == nil && (err6 == nil || errors.Is(err6, unix.EAFNOSUPPORT) || errors.Is(err6, unix.ENOENT)) {
			return append(v4, v6...), nil
		}
		c.noDiag = true
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
	return socks, nil
}

// listening lists the listening sockets and fills in process names,
// scanning /proc/*/fd only for inodes it has not seen before.
func (c *cache) listening(ctx context.Context) ([]Port, error) {
	root := c.procRoot
	if root == "" {
		root = "/proc"
	}
	socks, err := c.sockets(root)
	if err != nil {
		return nil, err
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
// sockets. The file is streamed: on a busy machine it can list tens of
// thousands of sockets (mostly TIME_WAIT), of which only a few listen.
func readTable(path string, v6 bool) ([]socket, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseTable(f, v6)
}

// parseTable parses the content of /proc/net/tcp or tcp6. Lines look like
//
//	sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
//	0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 45678 ...
//
// Lines not in LISTEN state are skipped after looking at four fields,
// without allocating.
func parseTable(r io.Reader, v6 bool) ([]socket, error) {
	var out []socket
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	first := true
	var f [10][]byte
	for sc.Scan() {
		if first { // header
			first = false
			continue
		}
		if !splitFields(sc.Bytes(), f[:]) || string(f[3]) != listenState {
			continue
		}
		hexIP, hexPort, ok := bytes.Cut(f[1], []byte(":"))
		if !ok {
			continue
		}
		port, err := strconv.ParseUint(string(hexPort), 16, 16)
		if err != nil {
			continue
		}
		ip, err := parseHexIP(string(hexIP), v6)
		if err != nil {
			continue
		}
		inode, err := strconv.ParseUint(string(f[9]), 10, 64)
		if err != nil {
			continue
		}
		out = append(out, socket{port: uint16(port), addr: ip.String(), inode: inode})
	}
	return out, sc.Err()
}

// splitFields fills dst with the first len(dst) space-separated fields of
// line, stopping after the state field (index 3) when it is not LISTEN. It
// reports false when the line has too few fields or is not listening.
func splitFields(line []byte, dst [][]byte) bool {
	i := 0
	for n := range dst {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' {
			j++
		}
		if j == i {
			return false
		}
		dst[n] = line[i:j]
		if n == 3 && string(dst[3]) != listenState {
			return false
		}
		i = j
	}
	return true
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
// wanted inodes and records their processes in owners. Newest processes
// (highest PIDs) go first, as a new listener usually belongs to a process
// that just started, and the walk stops once every wanted inode is found.
func findOwners(ctx context.Context, root string, want map[uint64]bool, owners map[uint64]owner) error {
	d, err := os.Open(root)
	if err != nil {
		return fmt.Errorf("could not list processes: %w", err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return fmt.Errorf("could not list processes: %w", err)
	}
	pids := make([]int, 0, len(names))
	for _, n := range names {
		if pid, err := strconv.Atoi(n); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	slices.SortFunc(pids, func(a, b int) int { return b - a })

	left := len(want)
	link := make([]byte, 64)
	for _, pid := range pids {
		if left == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		pidStr := strconv.Itoa(pid)
		fdDir := root + "/" + pidStr + "/fd/"
		f, err := os.Open(fdDir)
		if err != nil {
			continue // gone, or another user's
		}
		fds, err := f.Readdirnames(-1)
		f.Close()
		if err != nil {
			continue
		}
		name := ""
		for _, fd := range fds {
			n, err := unix.Readlink(fdDir+fd, link)
			if err != nil || n < len("socket:[]") || string(link[:8]) != "socket:[" || link[n-1] != ']' {
				continue
			}
			ino, err := strconv.ParseUint(string(link[8:n-1]), 10, 64)
			if err != nil || !want[ino] {
				continue
			}
			if _, done := owners[ino]; done {
				continue
			}
			if name == "" {
				name = processName(root, pidStr)
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
