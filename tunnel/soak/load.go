//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/boretray/bore/tunnel/internal/proctest"
)

// maxInflight bounds the load's connections in flight; beyond it a tick's
// connections are counted as late instead of piling up.
const maxInflight = 1024

// runLoad starts one server and cfg.tunnels clients with echo services,
// opens cfg.rate connections a second through them for cfg.duration, each
// echoing up to cfg.size bytes that are checked, and reports usage every
// cfg.interval.
func runLoad(ctx context.Context, cfg config) error {
	if cfg.tunnels < 1 || cfg.rate < 1 || cfg.size < 1 {
		return errors.New("-tunnels, -rate and -size must be at least 1")
	}
	srv, ctrl, err := proctest.StartServer(ctx, cfg.bore, 0)
	if err != nil {
		return err
	}
	defer srv.Stop()
	procs := []*proctest.Proc{srv}
	var publics []string
	for i := range cfg.tunnels {
		echo, err := startEcho()
		if err != nil {
			return err
		}
		defer echo.close()
		cli, public, err := proctest.StartClient(ctx, cfg.bore, fmt.Sprintf("client%d", i+1), ctrl, echo.port())
		if err != nil {
			return err
		}
		defer cli.Stop()
		procs = append(procs, cli)
		publics = append(publics, public)
	}
	fmt.Fprintf(cfg.out, "soak load: %v, %d tunnels %v, %d connections/s, 1..%d bytes each, report every %v\n",
		cfg.duration, cfg.tunnels, publics, cfg.rate, cfg.size, cfg.interval)

	var (
		ok, late atomic.Int64
		errs     errTally
		bytesN   atomic.Int64
		wg       sync.WaitGroup
	)
	sem := make(chan struct{}, maxInflight)
	all := make([]*series, len(procs))
	for i, p := range procs {
		all[i] = &series{name: p.Name()}
	}
	var idle []proctest.Stats
	// sample prints a report line; keep adds it to the series judged for
	// growth (the idle line before the load and the drained line after it
	// are not).
	sample := func(elapsed time.Duration, keep bool) ([]proctest.Stats, error) {
		us := make([]proctest.Stats, len(procs))
		line := fmt.Sprintf("%6s ok=%d err=%d late=%d MB=%.0f", elapsed.Round(time.Second), ok.Load(), errs.total(), late.Load(), float64(bytesN.Load())/1e6)
		for i, p := range procs {
			u, err := proctest.Usage(p.PID())
			if err != nil {
				return nil, fmt.Errorf("%s: %w; its output:\n%s", p.Name(), err, p.Output())
			}
			us[i] = u
			if keep {
				all[i].samples = append(all[i].samples, u)
			}
			line += fmt.Sprintf(" | %s %s", p.Name(), u)
		}
		fmt.Fprintln(cfg.out, line)
		return us, nil
	}

	begin := time.Now()
	end := begin.Add(cfg.duration)
	const tick = 10 * time.Millisecond
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	report := time.NewTicker(cfg.interval)
	defer report.Stop()
	var seq uint64
	var due float64
	last := begin
	idle, err = sample(0, false)
	if err != nil {
		return err
	}
	stopped := false
loop:
	for {
		select {
		case <-ctx.Done():
			stopped = true
			break loop
		case now := <-report.C:
			if _, err := sample(now.Sub(begin), true); err != nil {
				return err
			}
		case now := <-ticker.C:
			if now.After(end) {
				break loop
			}
			// Keep the rate steady even when ticks come late.
			due += now.Sub(last).Seconds() * float64(cfg.rate)
			last = now
			for ; due >= 1; due-- {
				select {
				case sem <- struct{}{}:
				default:
					late.Add(1)
					continue
				}
				seq++
				addr := publics[seq%uint64(len(publics))]
				wg.Add(1)
				go func(seq uint64) {
					defer wg.Done()
					defer func() { <-sem }()
					n, err := echoOnce(addr, seq, cfg.size)
					if err != nil {
						errs.add(err)
						return
					}
					ok.Add(1)
					bytesN.Add(int64(n))
				}(seq)
			}
		}
	}
	wg.Wait()
	// With the load over, every process must let go of its connections:
	// sockets back to where they were before the load. (Other descriptors
	// need not be: Go keeps a pool of pipes for splice(2) until the next
	// garbage collections.)
	drained := false
	for wait := time.Now().Add(30 * time.Second); ; {
		now, err := sample(time.Since(begin), false)
		if err != nil {
			return err
		}
		drained = true
		for i := range procs {
			if now[i].Sockets > idle[i].Sockets {
				drained = false
			}
		}
		if drained || time.Now().After(wait) {
			break
		}
		time.Sleep(time.Second)
	}
	for _, p := range procs {
		select {
		case <-p.Done():
			return fmt.Errorf("%s exited during the soak (%v); its output:\n%s", p.Name(), p.Err(), p.Output())
		default:
		}
	}

	fmt.Fprintf(cfg.out, "\nsummary: %d connections ok, %d errors, %d late (not opened: %d were still in flight), %.0f MB echoed in %v\n",
		ok.Load(), errs.total(), late.Load(), maxInflight, float64(bytesN.Load())/1e6, time.Since(begin).Round(time.Second))
	var problems []string
	for _, s := range all {
		flat, msg := s.flat()
		fmt.Fprintln(cfg.out, msg)
		if !flat {
			problems = append(problems, s.name+" grew")
		}
	}
	if !drained {
		problems = append(problems, "sockets still held 30 s after the load ended")
	} else {
		fmt.Fprintln(cfg.out, "after the load every process is back to its idle socket count")
	}
	if n := errs.total(); n > 0 {
		fmt.Fprint(cfg.out, "errors:\n"+errs.summary())
		problems = append(problems, fmt.Sprintf("%d connections failed", n))
	}
	if stopped {
		problems = append(problems, "interrupted")
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// echoOnce opens a connection to addr, sends 1..size deterministic bytes,
// half-closes, and checks the echo. It returns the bytes moved.
func echoOnce(addr string, seq uint64, size int) (int, error) {
	r := rand.New(rand.NewPCG(seq, 0x50a4))
	msg := make([]byte, 1+r.IntN(size))
	for i := range msg {
		msg[i] = byte(r.Uint32())
	}
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(msg)
		if err == nil {
			err = c.(*net.TCPConn).CloseWrite()
		}
		werr <- err
	}()
	got, rerr := io.ReadAll(c)
	if err := <-werr; err != nil {
		return 0, err
	}
	if rerr != nil {
		return 0, rerr
	}
	if !bytes.Equal(got, msg) {
		return 0, fmt.Errorf("echo mismatch: sent %d bytes, got %d back", len(msg), len(got))
	}
	return 2 * len(msg), nil
}
