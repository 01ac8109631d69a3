// Package cli implements the "bore local" and "bore server" commands: a
// drop-in for the Rust bore's command line, with the same flags and BORE_*
// environment variables, plus a few of our own.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"syscall"

	"github.com/boretray/bore/tunnel"
)

// Exit codes, as bore's: 2 for usage errors, 1 for runtime errors.
const (
	ExitOK      = 0
	ExitRuntime = 1
	ExitUsage   = 2
)

// IO is what a command reads and writes: its environment and its output.
type IO struct {
	// Getenv reads an environment variable ("" when unset).
	Getenv func(string) string
	// Stdout receives logs and help; Stderr receives errors.
	Stdout, Stderr io.Writer
}

// Run runs the command named by args[0] ("local", "server", "help",
// "--version" ...) and returns the process exit code. It returns when the
// command ends or ctx is cancelled (SIGINT, SIGTERM).
func Run(ctx context.Context, args []string, env IO, version string) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return ExitUsage
	}
	switch args[0] {
	case "local":
		return unlocked(func() int { return runLocal(ctx, args[1:], env) })
	case "server":
		return unlocked(func() int { return runServer(ctx, args[1:], env, version) })
	case "share":
		return unlocked(func() int { return runShare(ctx, args[1:], env) })
	case "-V", "--version", "version":
		fmt.Fprintf(env.Stdout, "bore %s\n", version)
		return ExitOK
	case "-h", "--help", "help":
		fmt.Fprint(env.Stdout, usage)
		return ExitOK
	}
	fmt.Fprintf(env.Stderr, "error: unrecognized subcommand %q\n\n%s", args[0], usage)
	return ExitUsage
}

// unlocked runs a command on a goroutine of its own and waits for it. The
// main goroutine is locked to the main thread, for the tray (its library
// does so in an init function), and each time a locked goroutine waits and
// wakes, the scheduler hands its work between two threads: four futex
// calls and two thread switches. The server's accept loop and the
// client's control loop wait and wake for every visitor.
func unlocked(f func() int) int {
	code := make(chan int, 1)
	go func() { code <- f() }()
	return <-code
}

const usage = `Bore exposes a local TCP port on a public server.

Usage:
  bore                     start the tray app
  bore tray [--server HOST[:PORT]]
                           start the tray app, adding and choosing a server
  bore local <LOCAL_PORT> --to <SERVER> [options]
                           expose a local port through a bore server
  bore share <DIR> --to <SERVER> [options]
                           share a folder (read-only) through a bore server
  bore server [options]    run a bore server
  bore --version           print the version
  bore help                print this help

Run "bore local --help", "bore share --help" or "bore server --help" for
their options.
`

// flagSet wraps flag.FlagSet with interleaved positional arguments, short
// aliases and help text that shows environment variables but never their
// values.
type flagSet struct {
	*flag.FlagSet
	env  IO
	help string
}

func newFlagSet(name, help string, env IO) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &flagSet{FlagSet: fs, env: env, help: help}
}

// parse parses flags and returns positional arguments, which may come
// before, between or after flags, as clap allows. It reports whether the
// command should go on, and the exit code otherwise.
func (fs *flagSet) parse(args []string) ([]string, bool, int) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(fs.env.Stdout, fs.help)
				return nil, false, ExitOK
			}
			return nil, false, fs.usageError("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, true, 0
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func (fs *flagSet) usageError(format string, a ...any) int {
	fmt.Fprintf(fs.env.Stderr, "error: "+format+"\n\nRun \"bore %s --help\" for usage.\n", append(a, fs.Name())...)
	return ExitUsage
}

// isSet reports whether any of the named flags was given.
func (fs *flagSet) isSet(names ...string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		for _, n := range names {
			if f.Name == n {
				set = true
			}
		}
	})
	return set
}

// fromEnv fills *dst from the environment variable when no flag set it.
func (fs *flagSet) stringFromEnv(dst *string, envVar string, flags ...string) {
	if !fs.isSet(flags...) {
		if v := fs.env.Getenv(envVar); v != "" {
			*dst = v
		}
	}
}

// portFromEnv is stringFromEnv for a port number; it returns an error
// naming the variable when its value is not a port.
func (fs *flagSet) portFromEnv(dst *uint, envVar string, flags ...string) error {
	if fs.isSet(flags...) {
		return nil
	}
	v := fs.env.Getenv(envVar)
	if v == "" {
		return nil
	}
	n, err := strconv.ParseUint(v, 10, 16)
	if err != nil {
		return fmt.Errorf("invalid value %q for %s: expected a port number from 0 to 65535", v, envVar)
	}
	*dst = uint(n)
	return nil
}

func checkPort(name string, v uint) error {
	if v > 65535 {
		return fmt.Errorf("invalid value '%d' for '%s': must be from 0 to 65535", v, name)
	}
	return nil
}

const localHelp = `Expose a local port through a bore server.

Usage: bore local <LOCAL_PORT> --to <SERVER> [options]

Arguments:
  <LOCAL_PORT>               the local port to expose [env: BORE_LOCAL_PORT]

Options:
  -t, --to <SERVER>          address of the server, HOST or HOST:PORT [env: BORE_SERVER]
  -l, --local-host <HOST>    the local host to expose [default: localhost]
  -p, --port <PORT>          public port to ask for; 0 lets the server choose [default: 0]
  -s, --secret <SECRET>      secret for authentication [env: BORE_SECRET]
      --control-port <PORT>  the server's control port, unless --to names one
                             [env: BORE_CONTROL_PORT] [default: 7835]
      --no-reconnect         exit when the connection to the server drops, as bore does
      --max-conns <N>        visitor connections forwarded or being set up at once;
                             visitors beyond it are refused [default: 8192]
      --max-setups <N>       visitor setups in flight at once [default: 256]
      --warm <N>             most accept connections kept ready for visitors;
                             0 keeps none [default: 8]
      --inspect[=ADDR]       show the tunnel's HTTP traffic on a page at ADDR, a loopback
                             PORT or 127.0.0.1:PORT [default: a free port]; prints its address
      --log-level <LEVEL>    debug, info, warn or error [default: info]
  -h, --help                 print help
`

func runLocal(ctx context.Context, args []string, env IO) int {
	fs := newFlagSet("local", localHelp, env)
	var (
		c                         clientFlags
		localHost                 string
		maxConns, maxSetups, warm uint
	)
	c.define(fs)
	for _, n := range []string{"local-host", "l"} {
		fs.StringVar(&localHost, n, "localhost", "")
	}
	fs.UintVar(&maxConns, "max-conns", tunnel.DefaultMaxConns, "")
	fs.UintVar(&maxSetups, "max-setups", tunnel.DefaultMaxSetups, "")
	fs.UintVar(&warm, "warm", tunnel.DefaultWarmConns, "")
	pos, ok, code := fs.parse(args)
	if !ok {
		return code
	}
	if err := c.fromEnv(fs); err != nil {
		return fs.usageError("%v", err)
	}
	var localPort uint
	switch {
	case len(pos) > 1:
		return fs.usageError("unexpected argument %q", pos[1])
	case len(pos) == 1:
		n, err := strconv.ParseUint(pos[0], 10, 16)
		if err != nil {
			return fs.usageError("invalid value %q for <LOCAL_PORT>: expected a port number from 1 to 65535", pos[0])
		}
		localPort = uint(n)
	default:
		if err := fs.portFromEnv(&localPort, "BORE_LOCAL_PORT"); err != nil {
			return fs.usageError("%v", err)
		}
		if env.Getenv("BORE_LOCAL_PORT") == "" {
			return fs.usageError("the following required arguments were not provided: <LOCAL_PORT>")
		}
	}
	if localPort == 0 {
		return fs.usageError("<LOCAL_PORT> must be a port number from 1 to 65535")
	}
	log, err := c.logger(env)
	if err != nil {
		return fs.usageError("%v", err)
	}
	if maxConns == 0 || maxSetups == 0 || maxConns > 1<<20 || maxSetups > 1<<20 || warm > 64 {
		return fs.usageError("--max-conns and --max-setups must be from 1 to 1048576, --warm from 0 to 64")
	}
	warmConns := int(warm)
	if warm == 0 {
		warmConns = -1
	}
	wrap, stop, code := startInspector(c.inspect, net.JoinHostPort(localHost, strconv.Itoa(int(localPort))), log, env)
	if code != ExitOK {
		return code
	}
	defer stop()
	cfg := c.config(log)
	cfg.MaxConns, cfg.MaxSetups, cfg.WarmConns = int(maxConns), int(maxSetups), warmConns
	cfg.LocalHost, cfg.LocalPort = localHost, uint16(localPort)
	cfg.WrapLocal = wrap
	t, err := tunnel.NewTunnel(cfg)
	if err != nil {
		return fs.usageError("%v", err)
	}
	// Once visitors stop, and again once the ready connections stop
	// churning (after the tunnel has been idle for a while).
	trimWhenQuiet(ctx, func() int64 {
		st := t.Status()
		return st.Total + int64(st.State)<<40 + int64(st.Attempt)<<48
	})
	trimWhenQuiet(ctx, t.Activity)
	return exitFor(t.Run(ctx), env)
}

const serverHelp = `Run a bore server that hands out public ports to clients.

Usage: bore server [options]

Options:
      --min-port <PORT>          lowest public port handed out [env: BORE_MIN_PORT] [default: 1024]
      --max-port <PORT>          highest public port handed out [env: BORE_MAX_PORT] [default: 65535]
  -s, --secret <SECRET>          secret clients must prove they know [env: BORE_SECRET]
      --bind-addr <IP>           IP address the control port listens on; 0.0.0.0 is every IPv4
                                 address (IPv4 only), :: every IPv6 one (and IPv4 where the
                                 system does dual-stack) [default: 0.0.0.0]
      --bind-tunnels <IP>        IP address public ports listen on [default: --bind-addr]
      --control-port <PORT>      the control port [env: BORE_CONTROL_PORT] [default: 7835]
      --max-pending <N>          visitors waiting to be accepted, per tunnel [default: 2048]
      --max-pending-total <N>    visitors waiting to be accepted, whole server [default: 16384]
      --max-pending-per-ip <N>   visitors waiting to be accepted on the tunnels of one client
                                 address (IPv6: one /64) [default: a quarter of --max-pending-total]
      --max-handshakes <N>       connections in their handshake at once [default: 8192]
      --max-tunnels-per-ip <N>   tunnels one client address (IPv6: one /64) may hold [default: 64]
      --metrics-addr <HOST:PORT> serve Prometheus metrics at http://HOST:PORT/metrics; 0.0.0.0
                                 and :: as for --bind-addr [default: off]
      --log-level <LEVEL>        debug, info, warn or error [default: info]
  -h, --help                     print help
`

func runServer(ctx context.Context, args []string, env IO, version string) int {
	fs := newFlagSet("server", serverHelp, env)
	var (
		minPort, maxPort, controlPort       uint
		secret, bindAddr, bindTunnels       string
		level, metricsAddr                  string
		maxPending, maxHandshakes, maxPerIP int
		maxPendingTotal, maxPendingPerIP    int
	)
	fs.UintVar(&minPort, "min-port", tunnel.DefaultMinPort, "")
	fs.UintVar(&maxPort, "max-port", tunnel.DefaultMaxPort, "")
	for _, n := range []string{"secret", "s"} {
		fs.StringVar(&secret, n, "", "")
	}
	fs.StringVar(&bindAddr, "bind-addr", "0.0.0.0", "")
	fs.StringVar(&bindTunnels, "bind-tunnels", "", "")
	fs.UintVar(&controlPort, "control-port", tunnel.DefaultControlPort, "")
	fs.IntVar(&maxPending, "max-pending", tunnel.DefaultMaxPendingPerTunnel, "")
	fs.IntVar(&maxPendingTotal, "max-pending-total", tunnel.DefaultMaxPending, "")
	fs.IntVar(&maxPendingPerIP, "max-pending-per-ip", 0, "")
	fs.IntVar(&maxHandshakes, "max-handshakes", tunnel.DefaultMaxHandshakes, "")
	fs.IntVar(&maxPerIP, "max-tunnels-per-ip", tunnel.DefaultMaxTunnelsPerIP, "")
	fs.StringVar(&level, "log-level", "info", "")
	fs.StringVar(&metricsAddr, "metrics-addr", "", "")
	pos, ok, code := fs.parse(args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return fs.usageError("unexpected argument %q", pos[0])
	}
	fs.stringFromEnv(&secret, "BORE_SECRET", "secret", "s")
	for _, e := range []struct {
		dst  *uint
		env  string
		flag string
	}{{&minPort, "BORE_MIN_PORT", "min-port"}, {&maxPort, "BORE_MAX_PORT", "max-port"}, {&controlPort, "BORE_CONTROL_PORT", "control-port"}} {
		if err := fs.portFromEnv(e.dst, e.env, e.flag); err != nil {
			return fs.usageError("%v", err)
		}
	}
	for name, v := range map[string]uint{"--min-port": minPort, "--max-port": maxPort, "--control-port": controlPort} {
		if err := checkPort(name, v); err != nil {
			return fs.usageError("%v", err)
		}
	}
	if minPort > maxPort {
		return fs.usageError("port range is empty")
	}
	if net.ParseIP(bindAddr) == nil {
		return fs.usageError("invalid value %q for --bind-addr: expected an IP address", bindAddr)
	}
	if bindTunnels == "" {
		bindTunnels = bindAddr
	}
	if net.ParseIP(bindTunnels) == nil {
		return fs.usageError("invalid value %q for --bind-tunnels: expected an IP address", bindTunnels)
	}
	for name, v := range map[string]int{"--max-pending": maxPending, "--max-pending-total": maxPendingTotal, "--max-handshakes": maxHandshakes, "--max-tunnels-per-ip": maxPerIP} {
		if v < 1 {
			return fs.usageError("%s must be at least 1", name)
		}
	}
	if maxPendingPerIP < 0 || fs.isSet("max-pending-per-ip") && maxPendingPerIP < 1 {
		return fs.usageError("--max-pending-per-ip must be at least 1")
	}
	lvl, err := parseLevel(level)
	if err != nil {
		return fs.usageError("%v", err)
	}
	log := slog.New(newLineHandler(env.Stdout, lvl))
	srv, err := tunnel.NewServer(tunnel.ServerConfig{
		MinPort:             uint16(minPort),
		MaxPort:             uint16(maxPort),
		Secret:              secret,
		BindTunnels:         bindTunnels,
		MaxPendingPerTunnel: maxPending,
		MaxPending:          maxPendingTotal,
		MaxPendingPerIP:     maxPendingPerIP,
		MaxHandshakes:       maxHandshakes,
		MaxTunnelsPerIP:     maxPerIP,
		Logger:              log,
	})
	if err != nil {
		return fs.usageError("%v", err)
	}
	addr := net.JoinHostPort(bindAddr, strconv.Itoa(int(controlPort)))
	if metricsAddr != "" {
		if _, _, err := net.SplitHostPort(metricsAddr); err != nil {
			return fs.usageError("invalid value %q for --metrics-addr: expected HOST:PORT", metricsAddr)
		}
		ctx2, cancel := context.WithCancel(ctx)
		defer cancel()
		wait, err := serveMetrics(ctx2, metricsAddr, srv, log)
		if err != nil {
			fmt.Fprintf(env.Stderr, "Error: %v\n", err)
			return ExitRuntime
		}
		defer wait()
		defer cancel()
		ctx = ctx2
	}
	log.Info("bore server starting", "version", version, "ports", fmt.Sprintf("%d-%d", minPort, maxPort), "auth", secret != "")
	trimWhenQuiet(ctx, func() int64 {
		st := srv.Stats()
		return st.Visitors + st.Tunnels<<40
	})
	trimWhenQuiet(ctx, func() int64 {
		// Handshakes that end without a frame (a client's ready
		// connections, retired) count as refusals: activity too.
		st := srv.Stats()
		n := st.Visitors + st.Tunnels<<40
		for _, r := range st.Refused {
			n += r
		}
		return n
	})
	if err := srv.ListenAndServe(ctx, addr); err != nil {
		msg := err.Error()
		if errors.Is(err, syscall.EADDRINUSE) {
			msg += " (is another server running? choose another port with --control-port)"
		}
		fmt.Fprintf(env.Stderr, "Error: %s\n", msg)
		return ExitRuntime
	}
	log.Info("server stopped")
	return ExitOK
}
