//go:build linux

// Command tunnelbench measures a bore tunnel against a direct loopback
// connection: bulk throughput both ways, connection setup, small-message
// round trips, and thousands of simultaneous connections with the memory
// and CPU they cost. It runs "bore server" and "bore local" as real
// processes on 127.0.0.1 and prints one table with the ratios and the
// floors the tunnel must meet. "make bench" builds bore and runs it.
//
// Usage:
//
//	tunnelbench [-bore bin/bore] [-quick] [flags]
//
// It exits 0 when the measurements ran, whether or not a floor was met
// (the table says PASS or FAIL), and 1 when they could not run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/boretray/bore/tunnel/internal/proctest"
)

func main() {
	if os.Getenv(serviceEnv) == "1" {
		os.Exit(serveMain(os.Stdin, os.Stdout))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// config is what one run measures.
type config struct {
	bore     string // path to the bore binary
	bulk     int64  // bytes per bulk transfer
	rounds   int    // bulk transfers per direction and path
	setups   int    // connection setups timed per path
	pings    int    // round trips timed per path
	conns    int    // simultaneous connections through the tunnel
	inflight int    // dials in flight while opening them
	nofile   uint64 // open-file limit to raise to
	inproc   bool   // run the local service inside this process

	peer      string        // a bore binary to measure beside ours
	noSide    bool          // skip the side-by-side loopback run in a namespace
	noWAN     bool          // skip the real-link scenario
	wanRounds int           // rounds of visitors per real-link case
	wanBulk   int64         // bytes per real-link bulk transfer
	settle    time.Duration // how long memory may take to come back after load
}

// Floors the tunnel must meet.
const (
	floorBulk       = 0.35 // × direct throughput, each direction
	floorSetupP50   = 6.0  // × direct p50
	floorRSSPerConn = 40   // KiB per connection, server + client
)

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tunnelbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	quick := fs.Bool("quick", false, "a small run that checks the benchmark works (10 MB, 50 connections)")
	fs.StringVar(&cfg.bore, "bore", "bin/bore", "path to the bore binary to measure")
	fs.Int64Var(&cfg.bulk, "bulk", 1<<30, "bytes per bulk transfer")
	fs.IntVar(&cfg.rounds, "rounds", 3, "bulk transfers per direction; the median counts")
	fs.IntVar(&cfg.setups, "setups", 1000, "connection setups to time")
	fs.IntVar(&cfg.pings, "pings", 5000, "64-byte round trips to time")
	fs.IntVar(&cfg.conns, "conns", 5000, "simultaneous connections through the tunnel")
	fs.IntVar(&cfg.inflight, "inflight", 200, "dials in flight while opening the connections")
	fs.BoolVar(&cfg.inproc, "inproc-service", false, "run the local service in this process instead of a process of its own")
	fs.Uint64Var(&cfg.nofile, "nofile", 200000, "open-file limit (RLIMIT_NOFILE) to raise to, for this program and bore")
	fs.StringVar(&cfg.peer, "peer", "", "another bore binary (for example Rust bore 0.5.2) to measure beside ours, in the same run")
	side := fs.Bool("side", true, "run the side-by-side loopback measurements in a network namespace (needs root and iproute2)")
	wan := fs.Bool("wan", true, "run the real-link scenario through the link emulator (needs root and iproute2)")
	fs.IntVar(&cfg.wanRounds, "wan-rounds", 2, "rounds of visitors per real-link case (10 visitors each)")
	fs.Int64Var(&cfg.wanBulk, "wan-bulk", 32_000_000, "bytes per bulk transfer on the real link")
	fs.DurationVar(&cfg.settle, "settle", 30*time.Second, "how long memory may take to come back after load")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, p := range map[string]*int{"rounds": &cfg.rounds, "setups": &cfg.setups, "pings": &cfg.pings, "conns": &cfg.conns} {
			if !set[name] {
				*p = map[string]int{"rounds": 1, "setups": 50, "pings": 200, "conns": 50}[name]
			}
		}
		if !set["bulk"] {
			cfg.bulk = 10_000_000
		}
		if !set["side"] {
			*side = false
		}
		if !set["wan"] {
			*wan = false
		}
		if !set["wan-rounds"] {
			cfg.wanRounds = 1
		}
		if !set["wan-bulk"] {
			cfg.wanBulk = 4_000_000
		}
		if !set["settle"] {
			cfg.settle = 2 * time.Second
		}
	}
	cfg.noSide, cfg.noWAN = !*side, !*wan
	if cfg.bulk < 1 || cfg.rounds < 1 || cfg.setups < 1 || cfg.pings < 1 || cfg.conns < 1 || cfg.inflight < 1 {
		fmt.Fprintln(stderr, "tunnelbench: -bulk, -rounds, -setups, -pings, -conns and -inflight must be at least 1")
		return 2
	}
	res, err := measure(ctx, cfg, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "tunnelbench: %v\n", err)
		return 1
	}
	res.print(stdout)
	if cfg.noSide && cfg.noWAN {
		return 0
	}
	if err := runSide(ctx, cfg, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "tunnelbench: %v\n", err)
		return 1
	}
	return 0
}

// runSide runs the side-by-side loopback and real-link measurements, ours
// and, with -peer, the peer's, and prints their table.
func runSide(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	if os.Geteuid() != 0 {
		fmt.Fprintln(stdout, "\nside-by-side and real-link scenarios skipped: they need root (network namespaces, TUN devices)")
		return nil
	}
	if _, err := exec.LookPath("ip"); err != nil {
		fmt.Fprintln(stdout, "\nside-by-side and real-link scenarios skipped: they need the ip command (apt-get install iproute2)")
		return nil
	}
	ours, err := filepath.Abs(cfg.bore)
	if err != nil {
		return err
	}
	systems := []system{{name: "ours", server: ours, client: ours}}
	if cfg.peer != "" {
		peer, err := filepath.Abs(cfg.peer)
		if err != nil {
			return err
		}
		if _, err := os.Stat(peer); err != nil {
			return fmt.Errorf("-peer: %w", err)
		}
		systems = append(systems,
			system{name: "ours->bore server", server: peer, client: ours, wanOnly: true},
			system{name: "bore", server: peer, client: peer})
	}
	fmt.Fprintf(stdout, "\nSide by side, in network namespaces: loopback (%d setups, %s x %d bulk each way, idle and after-load RSS) and a real link\n",
		cfg.setups, size(cfg.bulk), cfg.rounds)
	fmt.Fprintf(stdout, "emulated by a userspace TUN link (RTT %v and %v; visitors: %d rounds of one after a 3.5 s pause, a burst of six, three in a row;\n",
		wanRTTs[0], wanRTTs[1], cfg.wanRounds)
	fmt.Fprintf(stdout, "bulk %s each way at %d Mbit/s, %v RTT). Visitors sit beside the server; the link is between server and client.\n",
		size(cfg.wanBulk), wanRate/1_000_000, wanRTTs[0])
	sides, wans, err := sideBySide(ctx, cfg, systems, stderr)
	if err != nil {
		return err
	}
	if failed := printSide(stdout, cfg, systems, sides, wans); failed > 0 {
		fmt.Fprintf(stdout, "%d side-by-side floor(s) FAILED.\n", failed)
	} else {
		fmt.Fprintln(stdout, "All side-by-side floors met.")
	}
	return nil
}

// results is everything one run measured.
type results struct {
	cfg                 config
	upTunnel, upDirect  float64 // MB/s, median of rounds
	dnTunnel, dnDirect  float64
	setupTunnel         [2]time.Duration // p50, p99
	setupDirect         [2]time.Duration
	pingTunnel          [2]time.Duration
	pingDirect          [2]time.Duration
	many                manyResult
	cpuPerGiB           float64 // seconds, server + client
	cpuTotal            time.Duration
	cpuPerSetup         time.Duration // server + client
	cpuSetupServer      time.Duration
	cpuSetupClient      time.Duration
	movedBytes          int64
	rssServer, rssLocal int64 // at the end of the run
}

// measure runs every measurement and returns the numbers.
func measure(ctx context.Context, cfg config, stdout, stderr io.Writer) (*results, error) {
	// Each forwarded connection holds two sockets and, while its bytes
	// are spliced, two pipes in each of the server and the client.
	limit, err := proctest.RaiseFileLimit(cfg.nofile)
	if err != nil {
		fmt.Fprintf(stderr, "tunnelbench: warning: %v\n", err)
	}
	version, err := exec.CommandContext(ctx, cfg.bore, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("run %s --version: %w; run \"make build\" first", cfg.bore, err)
	}
	fmt.Fprintf(stdout, "%s on %s/%s, %d CPUs, %s; open-file limit %d\n",
		strings.TrimSpace(string(version)), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), limit)
	fmt.Fprintf(stdout, "bulk %s x %d per direction, %d setups, %d round trips, %d connections (%d dials in flight)\n",
		size(cfg.bulk), cfg.rounds, cfg.setups, cfg.pings, cfg.conns, cfg.inflight)
	where := "in a process of its own"
	if cfg.inproc {
		where = "inside the benchmark process"
	}
	fmt.Fprintf(stdout, "direct: benchmark -> local service (%s); tunnel: benchmark -> bore server -> bore local -> local service\n\n", where)

	var direct string
	if cfg.inproc {
		svc, err := startService()
		if err != nil {
			return nil, err
		}
		defer svc.Close()
		direct = svc.Addr()
	} else {
		svc, addr, err := startServiceProcess(ctx)
		if err != nil {
			return nil, err
		}
		defer svc.Stop()
		direct = addr
	}
	_, port, _ := net.SplitHostPort(direct)
	localPort, _ := strconv.Atoi(port)
	srv, cli, public, err := startTunnel(ctx, cfg.bore, localPort)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	defer cli.Stop()
	pids := []int{srv.PID(), cli.PID()}
	payload := make([]byte, bulkChunk)
	progress := func(format string, a ...any) { fmt.Fprintf(stderr, "  "+format+"\n", a...) }
	progress("service %s, tunnel %s (server pid %d, client pid %d)", direct, public, srv.PID(), cli.PID())

	// Warm up both paths: the first connections pay for page faults and
	// goroutine stacks that later ones reuse.
	for _, addr := range []string{direct, public} {
		if _, err := setup(ctx, addr, 20); err != nil {
			return nil, err
		}
	}

	r := &results{cfg: cfg}
	progress("bulk transfers")
	var ups, dns, upsT, dnsT []float64
	mbps := func(d time.Duration) float64 { return float64(cfg.bulk) / 1e6 / d.Seconds() }
	for range cfg.rounds {
		d, err := upload(ctx, direct, payload, cfg.bulk)
		if err != nil {
			return nil, fmt.Errorf("direct %w", err)
		}
		ups = append(ups, mbps(d))
		d, err = download(ctx, direct, cfg.bulk)
		if err != nil {
			return nil, fmt.Errorf("direct %w", err)
		}
		dns = append(dns, mbps(d))

		cpu0, err := cpuSum(pids)
		if err != nil {
			return nil, err
		}
		d, err = upload(ctx, public, payload, cfg.bulk)
		if err != nil {
			return nil, fmt.Errorf("tunnel %w", err)
		}
		upsT = append(upsT, mbps(d))
		d, err = download(ctx, public, cfg.bulk)
		if err != nil {
			return nil, fmt.Errorf("tunnel %w", err)
		}
		dnsT = append(dnsT, mbps(d))
		cpu1, err := cpuSum(pids)
		if err != nil {
			return nil, err
		}
		r.cpuTotal += cpu1 - cpu0
		r.movedBytes += 2 * cfg.bulk
	}
	r.upDirect, r.dnDirect, r.upTunnel, r.dnTunnel = median(ups), median(dns), median(upsT), median(dnsT)
	r.cpuPerGiB = r.cpuTotal.Seconds() / (float64(r.movedBytes) / (1 << 30))

	progress("connection setup")
	for _, m := range []struct {
		addr string
		dst  *[2]time.Duration
	}{{direct, &r.setupDirect}, {public, &r.setupTunnel}} {
		before, err := usages(pids)
		if err != nil {
			return nil, err
		}
		ds, err := setup(ctx, m.addr, cfg.setups)
		if err != nil {
			return nil, err
		}
		after, err := usages(pids)
		if err != nil {
			return nil, err
		}
		if m.addr == public {
			n := time.Duration(cfg.setups)
			r.cpuSetupServer, r.cpuSetupClient = (after[0].CPU-before[0].CPU)/n, (after[1].CPU-before[1].CPU)/n
			r.cpuPerSetup = r.cpuSetupServer + r.cpuSetupClient
		}
		*m.dst = [2]time.Duration{percentile(ds, 50), percentile(ds, 99)}
	}

	progress("64-byte round trips")
	for _, m := range []struct {
		addr string
		dst  *[2]time.Duration
	}{{direct, &r.pingDirect}, {public, &r.pingTunnel}} {
		ds, err := pingPong(ctx, m.addr, cfg.pings)
		if err != nil {
			return nil, err
		}
		*m.dst = [2]time.Duration{percentile(ds, 50), percentile(ds, 99)}
	}

	progress("%d simultaneous connections", cfg.conns)
	if r.many, err = many(ctx, public, cfg.conns, cfg.inflight, pids); err != nil {
		return nil, err
	}
	if r.many.firstErr != nil {
		progress("first failure: %v", r.many.firstErr)
	}
	end, err := usages(pids)
	if err != nil {
		return nil, err
	}
	r.rssServer, r.rssLocal = end[0].RSS, end[1].RSS
	if ctx.Err() != nil {
		return nil, fmt.Errorf("interrupted: %w", ctx.Err())
	}
	return r, nil
}

// startTunnel starts "bore server" on a free loopback control port and
// "bore local" exposing localPort through it. It returns both processes and
// the public address of the tunnel.
func startTunnel(ctx context.Context, bore string, localPort int) (srv, cli *proctest.Proc, public string, err error) {
	srv, ctrl, err := proctest.StartServer(ctx, bore, 0)
	if err != nil {
		return nil, nil, "", err
	}
	cli, public, err = proctest.StartClient(ctx, bore, "bore local", ctrl, localPort, "--no-reconnect")
	if err != nil {
		srv.Stop()
		return nil, nil, "", err
	}
	return srv, cli, public, nil
}

// row is one line of the results table.
type row struct {
	metric         string
	tunnel, direct string
	ratio, floor   string
	result         string // "PASS", "FAIL" or "" when there is no floor
}

func (r *results) rows() []row {
	var rows []row
	ratio := func(t, d float64) (float64, string) {
		if d == 0 {
			return math.NaN(), "-"
		}
		return t / d, fmt.Sprintf("%.3gx", t/d)
	}
	verdict := func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "FAIL"
	}
	for _, b := range []struct {
		name string
		t, d float64
	}{{"bulk up, 1 conn (MB/s)", r.upTunnel, r.upDirect}, {"bulk down, 1 conn (MB/s)", r.dnTunnel, r.dnDirect}} {
		q, qs := ratio(b.t, b.d)
		rows = append(rows, row{b.name, fmt.Sprintf("%.0f", b.t), fmt.Sprintf("%.0f", b.d), qs,
			fmt.Sprintf(">= %.2fx", floorBulk), verdict(q >= floorBulk)})
	}
	us := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Microsecond)) }
	lat := func(name string, t, d [2]time.Duration, p50Floor float64) {
		q, qs := ratio(float64(t[0]), float64(d[0]))
		rw := row{name + " p50 (us)", us(t[0]), us(d[0]), qs, "", ""}
		if p50Floor > 0 {
			rw.floor, rw.result = fmt.Sprintf("<= %.0fx", p50Floor), verdict(q <= p50Floor)
		}
		rows = append(rows, rw)
		_, qs = ratio(float64(t[1]), float64(d[1]))
		rows = append(rows, row{name + " p99 (us)", us(t[1]), us(d[1]), qs, "", ""})
	}
	lat("setup: connect+1B echo", r.setupTunnel, r.setupDirect, floorSetupP50)
	lat("64-byte round trip", r.pingTunnel, r.pingDirect, 0)

	n := r.cfg.conns
	rows = append(rows, row{fmt.Sprintf("%d conns open and echoing", n),
		fmt.Sprintf("%d", min(r.many.opened, r.many.echoed)), "-", "-", fmt.Sprintf("all %d", n),
		verdict(r.many.opened == n && r.many.echoed == n)})
	perConn := float64(r.many.rssWith-r.many.rssBefore) / 1024 / float64(n)
	rows = append(rows, row{"RSS per conn, server+client (KiB)", fmt.Sprintf("%.1f", perConn), "-", "-",
		fmt.Sprintf("<= %d", floorRSSPerConn), verdict(perConn <= floorRSSPerConn)})
	rows = append(rows, row{"CPU per GiB moved, server+client (s)", fmt.Sprintf("%.2f", r.cpuPerGiB), "-", "-", "", ""})
	rows = append(rows, row{"CPU per conn setup, server+client (us)", us(r.cpuPerSetup), "-", "-", "", ""})
	return rows
}

// print writes the table and the details under it.
func (r *results) print(w io.Writer) {
	rows := r.rows()
	head := row{"metric", "tunnel", "direct", "ratio", "floor", "result"}
	width := [6]int{}
	for _, rw := range append([]row{head}, rows...) {
		for i, s := range rw.cells() {
			width[i] = max(width[i], len(s))
		}
	}
	line := func(rw row) {
		c := rw.cells()
		fmt.Fprintf(w, "%-*s  %*s  %*s  %*s  %-*s  %s\n", width[0], c[0], width[1], c[1], width[2], c[2], width[3], c[3], width[4], c[4], c[5])
	}
	line(head)
	fmt.Fprintln(w, strings.Repeat("-", width[0]+width[1]+width[2]+width[3]+width[4]+len("result")+10))
	failed := 0
	for _, rw := range rows {
		line(rw)
		if rw.result == "FAIL" {
			failed++
		}
	}
	fmt.Fprintf(w, "\nRSS server+client: %s before, %s with %d connections open; at the end server %s, client %s.\n",
		size(r.many.rssBefore), size(r.many.rssWith), r.cfg.conns, size(r.rssServer), size(r.rssLocal))
	fmt.Fprintf(w, "CPU: %.2f s of server+client time for %s through the tunnel; per connection setup, server %.0f us, client %.0f us.\n",
		r.cpuTotal.Seconds(), size(r.movedBytes), float64(r.cpuSetupServer)/float64(time.Microsecond), float64(r.cpuSetupClient)/float64(time.Microsecond))
	if r.many.firstErr != nil {
		fmt.Fprintf(w, "First connection failure: %v\n", r.many.firstErr)
	}
	if failed > 0 {
		fmt.Fprintf(w, "%d floor(s) FAILED.\n", failed)
	} else {
		fmt.Fprintln(w, "All floors met.")
	}
}

func (rw row) cells() [6]string {
	return [6]string{rw.metric, rw.tunnel, rw.direct, rw.ratio, rw.floor, rw.result}
}

// size formats a byte count with a binary unit.
func size(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
