package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/boretray/bore/app/inspect"
	"github.com/boretray/bore/app/share"
	"github.com/boretray/bore/tunnel"
)

// inspectFlag is --inspect with an optional =ADDR.
type inspectFlag struct {
	on   bool
	addr string
}

func (f *inspectFlag) String() string   { return f.addr }
func (f *inspectFlag) IsBoolFlag() bool { return true }

func (f *inspectFlag) Set(v string) error {
	switch v {
	case "true":
		f.on, f.addr = true, ""
	case "false":
		f.on, f.addr = false, ""
	default:
		f.on, f.addr = true, v
	}
	return nil
}

// startInspector starts an inspector for the local service at target
// when --inspect was given, and prints its address. It returns what the
// tunnel's WrapLocal should be (nil without --inspect), the function that
// stops the inspector, and ExitOK, or an exit code.
func startInspector(f inspectFlag, target string, log *slog.Logger, env IO) (tunnel.ConnWrapper, func(), int) {
	if !f.on {
		return nil, func() {}, ExitOK
	}
	in, err := inspect.New(inspect.Options{Target: target, Listen: f.addr, Logger: log})
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return nil, nil, ExitRuntime
	}
	log.Info("inspect traffic at " + in.URL())
	return in, func() { in.Close() }, ExitOK
}

const shareHelp = `Share a folder, read-only, through a bore server.

Usage: bore share <DIR> --to <SERVER> [options]

Serves DIR (or a single file) over HTTP on a loopback port, with directory
listings and ranged downloads, and exposes it through the server. Hidden
files (names starting with ".") and symbolic links leading out of DIR are
not served. Prints the public URL.

Arguments:
  <DIR>                      the folder (or file) to share

Options:
  -t, --to <SERVER>          address of the server, HOST or HOST:PORT [env: BORE_SERVER]
  -p, --port <PORT>          public port to ask for; 0 lets the server choose [default: 0]
  -s, --secret <SECRET>      secret for authentication [env: BORE_SECRET]
      --control-port <PORT>  the server's control port, unless --to names one
                             [env: BORE_CONTROL_PORT] [default: 7835]
      --no-reconnect         exit when the connection to the server drops
      --inspect[=ADDR]       also show the requests on an inspector page (see bore local)
      --log-level <LEVEL>    debug, info, warn or error [default: info]
  -h, --help                 print help
`

func runShare(ctx context.Context, args []string, env IO) int {
	fs := newFlagSet("share", shareHelp, env)
	var c clientFlags
	c.define(fs)
	pos, ok, code := fs.parse(args)
	if !ok {
		return code
	}
	if err := c.fromEnv(fs); err != nil {
		return fs.usageError("%v", err)
	}
	switch {
	case len(pos) == 0:
		return fs.usageError("the following required arguments were not provided: <DIR>")
	case len(pos) > 1:
		return fs.usageError("unexpected argument %q", pos[1])
	}
	log, err := c.logger(env)
	if err != nil {
		return fs.usageError("%v", err)
	}
	cfg := c.config(log)
	srv, err := share.Attach(&cfg, pos[0], share.Options{Logger: log})
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return ExitRuntime
	}
	defer srv.Close()
	wrap, stop, code := startInspector(c.inspect, srv.Addr(), log, env)
	if code != ExitOK {
		return code
	}
	defer stop()
	cfg.WrapLocal = wrap
	t, err := tunnel.NewTunnel(cfg)
	if err != nil {
		return fs.usageError("%v", err)
	}
	// Print the public URL when the tunnel opens, and again if a
	// reconnect changes it.
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		announceURL(t, srv.Dir(), log, done)
	}()
	err = t.Run(ctx)
	close(done)
	wg.Wait()
	return exitFor(err, env)
}

// announceURL logs the share's public URL each time it changes.
func announceURL(t *tunnel.Tunnel, dir string, log *slog.Logger, done <-chan struct{}) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last uint16
	for {
		if st := t.Status(); st.State == tunnel.StateOpen && st.RemotePort != 0 && st.RemotePort != last {
			last = st.RemotePort
			url := "http://" + net.JoinHostPort(st.Server, strconv.Itoa(int(st.RemotePort))) + "/"
			log.Info("sharing " + dir + " (read-only) at " + url)
		}
		select {
		case <-done:
			return
		case <-tick.C:
		}
	}
}
