//go:build linux

package main

import (
	"context"
	"fmt"
	"time"

	"github.com/boretray/bore/tunnel/internal/proctest"
)

// reopenTimeout bounds how long a client may take to come back once its
// server is up again: one full backoff step (30 s at most) plus margin.
const reopenTimeout = 90 * time.Second

// runUnreachable opens a tunnel, kills the server, watches the client
// retry for cfg.duration, starts the server again on the same control port
// and checks the tunnel reopens and carries traffic.
func runUnreachable(ctx context.Context, cfg config) error {
	srv, ctrl, err := proctest.StartServer(ctx, cfg.bore, 0)
	if err != nil {
		return err
	}
	defer func() { srv.Stop() }()
	echo, err := startEcho()
	if err != nil {
		return err
	}
	defer echo.close()
	cli, public, err := proctest.StartClient(ctx, cfg.bore, "client", ctrl, echo.port())
	if err != nil {
		return err
	}
	defer cli.Stop()
	if _, err := echoOnce(public, 1, 4096); err != nil {
		return fmt.Errorf("first echo through %s: %w", public, err)
	}
	fmt.Fprintf(cfg.out, "soak unreachable: tunnel open at %s; killing the server for %v, report every %v\n", public, cfg.duration, cfg.interval)

	srv.Kill()
	s := &series{name: "client"}
	begin := time.Now()
	sample := func() error {
		u, err := proctest.Usage(cli.PID())
		if err != nil {
			return fmt.Errorf("client: %w; its output:\n%s", err, cli.Output())
		}
		s.samples = append(s.samples, u)
		attempts, _ := cli.Matches(proctest.ClientLost())
		fmt.Fprintf(cfg.out, "%6s attempts=%d | client %s\n", time.Since(begin).Round(time.Second), attempts, u)
		return nil
	}
	if err := sample(); err != nil {
		return err
	}
	report := time.NewTicker(cfg.interval)
	defer report.Stop()
	end := time.NewTimer(cfg.duration)
	defer end.Stop()
wait:
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("interrupted")
		case <-end.C:
			break wait
		case <-report.C:
			if err := sample(); err != nil {
				return err
			}
		}
	}
	if err := sample(); err != nil {
		return err
	}
	attempts, _ := cli.Matches(proctest.ClientLost())

	srv, _, err = proctest.StartServer(ctx, cfg.bore, ctrl)
	if err != nil {
		return fmt.Errorf("restart the server on control port %d: %w", ctrl, err)
	}
	back := time.Now()
	port, err := cli.WaitFor(ctx, proctest.ClientReady(), 1, reopenTimeout)
	if err != nil {
		return fmt.Errorf("the tunnel did not reopen: %w", err)
	}
	public = "127.0.0.1:" + port
	if _, err := echoOnce(public, 2, 4096); err != nil {
		return fmt.Errorf("echo through the reopened tunnel %s: %w", public, err)
	}
	fmt.Fprintf(cfg.out, "\nsummary: %d failed attempts in %v; the tunnel reopened at %s %v after the server came back and carries traffic\n",
		attempts, cfg.duration, public, time.Since(back).Round(100*time.Millisecond))
	flat, msg := s.flat()
	fmt.Fprintln(cfg.out, msg)
	if !flat {
		return fmt.Errorf("the client grew while the server was unreachable")
	}
	return nil
}
