//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/boretray/bore/tunnel/internal/linkemu"
	"github.com/boretray/bore/tunnel/internal/proctest"
)

// The side-by-side and real-link scenarios run bore servers and clients in
// network namespaces of their own: bore (the peer) hard-codes control
// port 7835 and binds 0.0.0.0, and a link emulator needs two namespaces.
// Namespace A holds the server and the visitors, B the client and the
// local service; A's loopback alone serves the side-by-side loopback
// measurements, with the client and the service there too.

// system is one server and client pair to measure.
type system struct {
	name           string // column heading
	server, client string // binaries
	wanOnly        bool   // measured on the real link only
}

// benchSecret is the secret of the "with a secret" runs.
const benchSecret = "tunnelbench-secret"

// Readiness lines, tolerant of bore's coloured logs (escape sequences
// between a field's name, its "=" and its value).
var (
	anyServerReady = regexp.MustCompile(`server listening \S*addr\S*?:(\d+)`)
	anyClientReady = regexp.MustCompile(`connected to server \S*remote_port\S*?=\S*?(\d+)\s*$`)
)

// nsPair is a server in namespace srvNS and a client in cliNS exposing
// localPort, with the public address as seen from srvNS.
type nsPair struct {
	srv, cli *proctest.Proc
	public   string
}

func (p *nsPair) stop() {
	p.cli.Stop()
	p.srv.Stop()
}

// startPair starts sys's server in srvNS (control port 7835, every
// address) and its client in cliNS, connecting to serverHost.
func startPair(ctx context.Context, sys system, srvNS, cliNS, serverHost string, localPort int, secret string) (*nsPair, error) {
	sargs := []string{sys.server, "server", "--min-port", "10000", "--max-port", "30000"}
	cargs := []string{sys.client, "local", strconv.Itoa(localPort), "--local-host", "127.0.0.1", "--to", serverHost}
	if secret != "" {
		sargs = append(sargs, "--secret", secret)
		cargs = append(cargs, "--secret", secret)
	}
	a := linkemu.Exec(srvNS, sargs...)
	srv, err := proctest.Start(a[0], sys.name+" server", nil, a[1:]...)
	if err != nil {
		return nil, err
	}
	if _, err := srv.WaitFor(ctx, anyServerReady, 0, proctest.StartTimeout); err != nil {
		srv.Stop()
		return nil, err
	}
	a = linkemu.Exec(cliNS, cargs...)
	cli, err := proctest.Start(a[0], sys.name+" client", nil, a[1:]...)
	if err != nil {
		srv.Stop()
		return nil, err
	}
	port, err := cli.WaitFor(ctx, anyClientReady, 0, proctest.StartTimeout)
	if err != nil {
		cli.Stop()
		srv.Stop()
		return nil, err
	}
	return &nsPair{srv: srv, cli: cli, public: net.JoinHostPort("127.0.0.1", port)}, nil
}

// startServiceIn starts the local service in namespace ns on addr
// (host:0) and returns the process and its port.
func startServiceIn(ctx context.Context, ns, addr string) (*proctest.Proc, int, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, 0, err
	}
	a := linkemu.Exec(ns, exe)
	p, err := proctest.Start(a[0], "local service", []string{serviceEnv + "=1", serviceAddrEnv + "=" + addr}, a[1:]...)
	if err != nil {
		return nil, 0, err
	}
	port, err := p.WaitFor(ctx, serviceReady, 0, proctest.StartTimeout)
	if err != nil {
		p.Stop()
		return nil, 0, err
	}
	n, _ := strconv.Atoi(port)
	return p, n, nil
}

// nsDial returns a dialFunc that connects from inside namespace ns.
func nsDial(d *linkemu.Dialer) dialFunc {
	return func(ctx context.Context, addr string) (*net.TCPConn, error) {
		ctx, cancel := context.WithTimeout(ctx, dialTimeout)
		defer cancel()
		c, err := d.DialContext(ctx, addr)
		if err != nil {
			return nil, err
		}
		return c.(*net.TCPConn), nil
	}
}

// sideResult is one system's loopback numbers, measured in namespace A.
type sideResult struct {
	setup          [2]time.Duration // p50, p99
	setupsPerSec   float64
	cpuSrv, cpuCli time.Duration // per setup
	// monSrv and monCli are the part of cpuSrv and cpuCli spent in the
	// Go runtime's monitor thread (ours only; -1 elsewhere).
	monSrv, monCli time.Duration
	up, down       float64    // MB/s
	direct         [2]float64 // up, down MB/s, same namespace
	rssSrv, rssCli int64      // idle, a second after start
	rssSrvAfter    int64      // after the load, once back within 1.5x idle or after cfg.settle
	rssCliAfter    int64
}

// monitors returns the CPU time of the Go runtime's monitor thread in the
// server srv and the client cli.
func monitors(srv, cli int) ([2]time.Duration, error) {
	var m [2]time.Duration
	for i, pid := range []int{srv, cli} {
		d, err := proctest.MonitorCPU(pid)
		if err != nil {
			return m, err
		}
		m[i] = d
	}
	return m, nil
}

// wanResult is one system's real-link numbers.
type wanResult struct {
	// first[rtt index][secret] is connect + first echo in RTT units,
	// p50 and p90.
	first    [2][2][2]float64
	up, down float64 // fraction of the rate cap
}

// wanRTTs are the round trips the real-link scenario emulates.
var wanRTTs = [2]time.Duration{40 * time.Millisecond, 100 * time.Millisecond}

// wanRate is the bulk scenario's cap, in bits per second.
const wanRate = 100_000_000

// sideBySide runs the loopback comparison and the real-link scenario for
// every system, in namespaces, and returns their results in order.
func sideBySide(ctx context.Context, cfg config, systems []system, stderr io.Writer) ([]sideResult, []wanResult, error) {
	progress := func(format string, a ...any) { fmt.Fprintf(stderr, "  "+format+"\n", a...) }
	link, err := linkemu.New(fmt.Sprintf("tunnelbench-%d", os.Getpid()), linkemu.Config{})
	if err != nil {
		return nil, nil, fmt.Errorf("real-link scenario (needs root and iproute2): %w", err)
	}
	defer link.Close()
	dA, err := linkemu.NewDialer(link.NameA, 8)
	if err != nil {
		return nil, nil, err
	}
	defer dA.Close()
	dialA := nsDial(dA)
	payload := make([]byte, bulkChunk)
	mbps := func(n int64, d time.Duration) float64 { return float64(n) / 1e6 / d.Seconds() }

	sides := make([]sideResult, len(systems))
	if !cfg.noSide {
		svc, port, err := startServiceIn(ctx, link.NameA, "127.0.0.1:0")
		if err != nil {
			return nil, nil, err
		}
		defer svc.Stop()
		direct := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		for i, sys := range systems {
			if sys.wanOnly {
				continue
			}
			progress("loopback side by side: %s", sys.name)
			r := &sides[i]
			p, err := startPair(ctx, sys, link.NameA, link.NameA, "127.0.0.1", port, "")
			if err != nil {
				return nil, nil, err
			}
			err = func() error {
				defer p.stop()
				// Idle: settled after start-up (ours gives memory back after
				// 2 s without activity).
				time.Sleep(5 * time.Second)
				u, err := usages([]int{p.srv.PID(), p.cli.PID()})
				if err != nil {
					return err
				}
				r.rssSrv, r.rssCli = u[0].RSS, u[1].RSS
				if _, err := setupVia(ctx, dialA, p.public, 20); err != nil {
					return err
				}
				if u, err = usages([]int{p.srv.PID(), p.cli.PID()}); err != nil {
					return err
				}
				mon := sys.name == "ours"
				var m0 [2]time.Duration
				if mon {
					if m0, err = monitors(p.srv.PID(), p.cli.PID()); err != nil {
						return err
					}
				}
				t0 := time.Now()
				ds, err := setupVia(ctx, dialA, p.public, cfg.setups)
				if err != nil {
					return err
				}
				r.setupsPerSec = float64(cfg.setups) / time.Since(t0).Seconds()
				u2, err := usages([]int{p.srv.PID(), p.cli.PID()})
				if err != nil {
					return err
				}
				n := time.Duration(cfg.setups)
				r.cpuSrv, r.cpuCli = (u2[0].CPU-u[0].CPU)/n, (u2[1].CPU-u[1].CPU)/n
				r.monSrv, r.monCli = -1, -1
				if mon {
					m1, err := monitors(p.srv.PID(), p.cli.PID())
					if err != nil {
						return err
					}
					r.monSrv, r.monCli = (m1[0]-m0[0])/n, (m1[1]-m0[1])/n
				}
				r.setup = [2]time.Duration{percentile(ds, 50), percentile(ds, 99)}
				var ups, dns, dups, ddns []float64
				for range cfg.rounds {
					for _, m := range []struct {
						addr   string
						up, dn *[]float64
					}{{direct, &dups, &ddns}, {p.public, &ups, &dns}} {
						d, err := uploadVia(ctx, dialA, m.addr, payload, cfg.bulk)
						if err != nil {
							return err
						}
						*m.up = append(*m.up, mbps(cfg.bulk, d))
						d, err = downloadVia(ctx, dialA, m.addr, cfg.bulk)
						if err != nil {
							return err
						}
						*m.dn = append(*m.dn, mbps(cfg.bulk, d))
					}
				}
				r.up, r.down, r.direct = median(ups), median(dns), [2]float64{median(dups), median(ddns)}
				// Memory after load: the last reading within settle.
				deadline := time.Now().Add(cfg.settle)
				for {
					u, err := usages([]int{p.srv.PID(), p.cli.PID()})
					if err != nil {
						return err
					}
					r.rssSrvAfter, r.rssCliAfter = u[0].RSS, u[1].RSS
					if time.Now().After(deadline) || (float64(u[0].RSS) <= 1.5*float64(r.rssSrv) && float64(u[1].RSS) <= 1.5*float64(r.rssCli)) {
						return nil
					}
					time.Sleep(500 * time.Millisecond)
				}
			}()
			if err != nil {
				return nil, nil, fmt.Errorf("%s, loopback: %w", sys.name, err)
			}
		}
	}

	wans := make([]wanResult, len(systems))
	if cfg.noWAN {
		return sides, wans, nil
	}
	svc, port, err := startServiceIn(ctx, link.NameB, "0.0.0.0:0")
	if err != nil {
		return nil, nil, err
	}
	defer svc.Stop()
	for ri, rtt := range wanRTTs {
		link.Set(linkemu.Config{Delay: rtt / 2})
		for si, secret := range []string{"", benchSecret} {
			for i, sys := range systems {
				progress("real link, %v RTT, secret %v: %s", rtt, secret != "", sys.name)
				p, err := startPair(ctx, sys, link.NameA, link.NameB, linkemu.AddrA, port, secret)
				if err != nil {
					return nil, nil, fmt.Errorf("%s: %w", sys.name, err)
				}
				ds, err := wanVisits(ctx, dialA, p.public, cfg.wanRounds)
				p.stop()
				if err != nil {
					return nil, nil, fmt.Errorf("%s, %v RTT: %w", sys.name, rtt, err)
				}
				inRTT := make([]time.Duration, len(ds))
				copy(inRTT, ds)
				wans[i].first[ri][si] = [2]float64{
					float64(percentile(inRTT, 50)) / float64(rtt),
					float64(percentile(inRTT, 90)) / float64(rtt),
				}
			}
		}
	}
	// Bulk at the cap, 40 ms RTT.
	link.Set(linkemu.Config{Delay: wanRTTs[0] / 2, Rate: wanRate, Queue: 50 * time.Millisecond})
	capMBps := float64(wanRate) / 8 / 1e6
	n := cfg.wanBulk
	for i, sys := range systems {
		progress("real link, bulk at %d Mbit/s: %s", wanRate/1_000_000, sys.name)
		p, err := startPair(ctx, sys, link.NameA, link.NameB, linkemu.AddrA, port, "")
		if err != nil {
			return nil, nil, err
		}
		du, err := uploadVia(ctx, dialA, p.public, payload, n)
		var dd time.Duration
		if err == nil {
			dd, err = downloadVia(ctx, dialA, p.public, n)
		}
		p.stop()
		if err != nil {
			return nil, nil, fmt.Errorf("%s, bulk: %w", sys.name, err)
		}
		wans[i].up, wans[i].down = mbps(n, du)/capMBps, mbps(n, dd)/capMBps
	}
	return sides, wans, nil
}

// wanVisits times visitors through a tunnel the way people arrive: after
// one unrecorded burst of six (a page load), each round is one visitor
// after a pause longer than bore's 3 s first-frame timeout, a burst of six
// at once, and three one after another.
func wanVisits(ctx context.Context, dial dialFunc, public string, rounds int) ([]time.Duration, error) {
	visit := func() (time.Duration, error) {
		t0 := time.Now()
		c, err := dial(ctx, public)
		if err != nil {
			return 0, err
		}
		defer c.Close()
		if err := echoOnce(c, modeEcho); err != nil {
			return 0, err
		}
		return time.Since(t0), nil
	}
	burst := func(n int) ([]time.Duration, error) {
		var mu sync.Mutex
		var ds []time.Duration
		var first error
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d, err := visit()
				mu.Lock()
				defer mu.Unlock()
				if err != nil && first == nil {
					first = err
				}
				ds = append(ds, d)
			}()
		}
		wg.Wait()
		return ds, first
	}
	if _, err := burst(6); err != nil {
		return nil, err
	}
	var all []time.Duration
	for range rounds {
		time.Sleep(3500 * time.Millisecond)
		d, err := visit()
		if err != nil {
			return nil, err
		}
		all = append(all, d)
		ds, err := burst(6)
		if err != nil {
			return nil, err
		}
		all = append(all, ds...)
		for range 3 {
			time.Sleep(50 * time.Millisecond)
			d, err := visit()
			if err != nil {
				return nil, err
			}
			all = append(all, d)
		}
	}
	return all, nil
}

// Floors of the side-by-side and real-link tables.
const (
	floorWANFirst = 2.2       // RTT, p50, with and without a secret
	floorIdleRSS  = 6_000_000 // bytes, each process: 6 MB (10^6 bytes) is 5.72 MiB, the stricter reading
	floorBulkSide = 0.5       // × direct, each way (loopback)
	floorSettle   = 1.5       // × idle RSS, after load
)

// printSide writes the side-by-side tables.
func printSide(w io.Writer, cfg config, systems []system, sides []sideResult, wans []wanResult) int {
	failed := 0
	head := []string{"metric"}
	for _, s := range systems {
		head = append(head, s.name)
	}
	head = append(head, "floor", "result")
	var rows [][]string
	add := func(metric string, vals []string, floor string, ok *bool) {
		r := append([]string{metric}, vals...)
		res := ""
		if ok != nil {
			res = "PASS"
			if !*ok {
				res = "FAIL"
				failed++
			}
		}
		rows = append(rows, append(r, floor, res))
	}
	each := func(f func(i int) string) []string {
		var v []string
		for i := range systems {
			v = append(v, f(i))
		}
		return v
	}
	side := func(f func(i int) string) []string {
		return each(func(i int) string {
			if systems[i].wanOnly {
				return "-"
			}
			return f(i)
		})
	}
	us := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Microsecond)) }
	mib := func(n int64) string { return fmt.Sprintf("%.1f", float64(n)/(1<<20)) }
	peer := -1
	for i, s := range systems {
		if s.name == "bore" {
			peer = i
		}
	}
	if !cfg.noSide {
		okP50 := peer < 0 || sides[0].setup[0] <= sides[peer].setup[0]
		add("loopback setup p50 (us)", side(func(i int) string { return us(sides[i].setup[0]) }), "<= bore", ptrIf(peer >= 0, okP50))
		add("loopback setup p99 (us)", side(func(i int) string { return us(sides[i].setup[1]) }), "", nil)
		add("setups per second", side(func(i int) string { return fmt.Sprintf("%.0f", sides[i].setupsPerSec) }), "", nil)
		add("CPU per setup, server (us)", side(func(i int) string { return us(sides[i].cpuSrv) }), "", nil)
		add("CPU per setup, client (us)", side(func(i int) string { return us(sides[i].cpuCli) }), "", nil)
		monitor := func(d time.Duration) string {
			if d < 0 {
				return "-"
			}
			return us(d)
		}
		add("  of which Go runtime monitor, server", side(func(i int) string { return monitor(sides[i].monSrv) }), "", nil)
		add("  of which Go runtime monitor, client", side(func(i int) string { return monitor(sides[i].monCli) }), "", nil)
		for k, dir := range []string{"up", "down"} {
			ok := true
			vals := side(func(i int) string {
				v := []float64{sides[i].up, sides[i].down}[k]
				q := v / sides[i].direct[k]
				if i == 0 && q < floorBulkSide {
					ok = false
				}
				return fmt.Sprintf("%.0f (%.2fx)", v, q)
			})
			add("bulk "+dir+" MB/s (x direct)", vals, fmt.Sprintf(">= %.1fx", floorBulkSide), &ok)
		}
		for k, who := range []string{"server", "client"} {
			okIdle := []int64{sides[0].rssSrv, sides[0].rssCli}[k] <= floorIdleRSS
			add("idle RSS, "+who+" (MiB)", side(func(i int) string { return mib([]int64{sides[i].rssSrv, sides[i].rssCli}[k]) }),
				fmt.Sprintf("<= %.2f (6 MB)", float64(floorIdleRSS)/(1<<20)), &okIdle)
			after, idle := []int64{sides[0].rssSrvAfter, sides[0].rssCliAfter}[k], []int64{sides[0].rssSrv, sides[0].rssCli}[k]
			okAfter := float64(after) <= floorSettle*float64(idle)
			add(fmt.Sprintf("RSS %v after load, %s (MiB)", cfg.settle, who), side(func(i int) string {
				return mib([]int64{sides[i].rssSrvAfter, sides[i].rssCliAfter}[k])
			}), "<= 1.5x idle", &okAfter)
		}
	}
	if !cfg.noWAN {
		for ri, rtt := range wanRTTs {
			for si, sec := range []string{"no secret", "secret"} {
				for q, pct := range []string{"p50", "p90"} {
					var ok *bool
					floor := ""
					if q == 0 {
						floor = fmt.Sprintf("<= %.1f", floorWANFirst)
						b := true
						for i, s := range systems {
							if s.client == systems[0].client && wans[i].first[ri][si][0] > floorWANFirst {
								b = false
							}
						}
						ok = &b
					}
					add(fmt.Sprintf("WAN %v, %s: first echo %s (RTT)", rtt, sec, pct),
						each(func(i int) string { return fmt.Sprintf("%.2f", wans[i].first[ri][si][q]) }), floor, ok)
				}
			}
		}
		add(fmt.Sprintf("WAN bulk up at %d Mbit/s (x cap)", wanRate/1_000_000), each(func(i int) string { return fmt.Sprintf("%.2f", wans[i].up) }), "", nil)
		add(fmt.Sprintf("WAN bulk down at %d Mbit/s (x cap)", wanRate/1_000_000), each(func(i int) string { return fmt.Sprintf("%.2f", wans[i].down) }), "", nil)
	}
	width := make([]int, len(head))
	for _, r := range append([][]string{head}, rows...) {
		for i, c := range r {
			width[i] = max(width[i], len(c))
		}
	}
	line := func(r []string) {
		var b strings.Builder
		for i, c := range r {
			if i == 0 || i >= len(r)-2 {
				fmt.Fprintf(&b, "%-*s  ", width[i], c)
			} else {
				fmt.Fprintf(&b, "%*s  ", width[i], c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	fmt.Fprintln(w)
	line(head)
	total := 0
	for _, x := range width {
		total += x + 2
	}
	fmt.Fprintln(w, strings.Repeat("-", total-2))
	for _, r := range rows {
		line(r)
	}
	return failed
}

func ptrIf(cond, v bool) *bool {
	if !cond {
		return nil
	}
	return &v
}
