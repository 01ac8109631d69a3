package cli

import (
	"context"
	"errors"
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
	var (
		to, secret, level string
		port, controlPort uint
		noReconnect       bool
		insp              inspectFlag
	)
	for _, n := range []string{"to", "t"} {
		fs.StringVar(&to, n, "", "")
	}
	for _, n := range []string{"port", "p"} {
		fs.UintVar(&port, n, 0, "")
	}
	for _, n := range []string{"secret", "s"} {
		fs.StringVar(&secret, n, "", "")
	}
	fs.UintVar(&controlPort, "control-port", tunnel.DefaultControlPort, "")
	fs.BoolVar(&noReconnect, "no-reconnect", false, "")
	fs.StringVar(&level, "log-level", "info", "")
	fs.Var(&insp, "inspect", "")
	pos, ok, code := fs.parse(args)
	if !ok {
		return code
	}
	fs.stringFromEnv(&to, "BORE_SERVER", "to", "t")
	fs.stringFromEnv(&secret, "BORE_SECRET", "secret", "s")
	if err := fs.portFromEnv(&controlPort, "BORE_CONTROL_PORT", "control-port"); err != nil {
		return fs.usageError("%v", err)
	}
	switch {
	case len(pos) == 0:
		return fs.usageError("the following required arguments were not provided: <DIR>")
	case len(pos) > 1:
		return fs.usageError("unexpected argument %q", pos[1])
	}
	if to == "" {
		return fs.usageError("the following required arguments were not provided: --to <SERVER>")
	}
	for name, v := range map[string]uint{"--port": port, "--control-port": controlPort} {
		if err := checkPort(name, v); err != nil {
			return fs.usageError("%v", err)
		}
	}
	if controlPort == 0 {
		return fs.usageError("--control-port must be a port number from 1 to 65535")
	}
	lvl, err := parseLevel(level)
	if err != nil {
		return fs.usageError("%v", err)
	}
	log := slog.New(newLineHandler(env.Stdout, lvl))
	cfg := tunnel.ClientConfig{
		Server:      to,
		ControlPort: uint16(controlPort),
		RemotePort:  uint16(port),
		Secret:      secret,
		NoReconnect: noReconnect,
		Logger:      log,
	}
	srv, err := share.Attach(&cfg, pos[0], share.Options{Logger: log})
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return ExitRuntime
	}
	defer srv.Close()
	wrap, stop, code := startInspector(insp, srv.Addr(), log, env)
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
	switch {
	case err == nil, errors.Is(err, tunnel.ErrServerClosed):
		return ExitOK
	}
	fmt.Fprintf(env.Stderr, "Error: %v\n", err)
	if h := hint(err); h != "" {
		fmt.Fprintf(env.Stderr, "  (%s)\n", h)
	}
	return ExitRuntime
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
