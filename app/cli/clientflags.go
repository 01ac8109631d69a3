package cli

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/boretray/bore/tunnel"
)

// clientFlags are the options every command that opens a tunnel takes:
// where the server is, how to authenticate, which public port to ask for,
// whether to reconnect, the inspector and the log level.
type clientFlags struct {
	to, secret, level string
	port, controlPort uint
	noReconnect       bool
	inspect           inspectFlag
}

// define registers the flags on fs, under bore's names and short forms.
func (c *clientFlags) define(fs *flagSet) {
	for _, n := range []string{"to", "t"} {
		fs.StringVar(&c.to, n, "", "")
	}
	for _, n := range []string{"port", "p"} {
		fs.UintVar(&c.port, n, 0, "")
	}
	for _, n := range []string{"secret", "s"} {
		fs.StringVar(&c.secret, n, "", "")
	}
	fs.UintVar(&c.controlPort, "control-port", tunnel.DefaultControlPort, "")
	fs.BoolVar(&c.noReconnect, "no-reconnect", false, "")
	fs.StringVar(&c.level, "log-level", "info", "")
	fs.Var(&c.inspect, "inspect", "")
}

// fromEnv fills what the command line left unset from the BORE_*
// variables, after parsing.
func (c *clientFlags) fromEnv(fs *flagSet) error {
	fs.stringFromEnv(&c.to, "BORE_SERVER", "to", "t")
	fs.stringFromEnv(&c.secret, "BORE_SECRET", "secret", "s")
	return fs.portFromEnv(&c.controlPort, "BORE_CONTROL_PORT", "control-port")
}

// logger checks the flags and returns the logger they ask for, or the
// usage error to print.
func (c *clientFlags) logger(env IO) (*slog.Logger, error) {
	if c.to == "" {
		return nil, errors.New("the following required arguments were not provided: --to <SERVER>")
	}
	for name, v := range map[string]uint{"--port": c.port, "--control-port": c.controlPort} {
		if err := checkPort(name, v); err != nil {
			return nil, err
		}
	}
	if c.controlPort == 0 {
		return nil, errors.New("--control-port must be a port number from 1 to 65535")
	}
	lvl, err := parseLevel(c.level)
	if err != nil {
		return nil, err
	}
	return slog.New(newLineHandler(env.Stdout, lvl)), nil
}

// config returns the tunnel configuration the flags describe.
func (c *clientFlags) config(log *slog.Logger) tunnel.ClientConfig {
	return tunnel.ClientConfig{
		Server:      c.to,
		ControlPort: uint16(c.controlPort),
		RemotePort:  uint16(c.port),
		Secret:      c.secret,
		NoReconnect: c.noReconnect,
		Logger:      log,
	}
}

// exitFor prints why a tunnel ended, with a hint where one helps, and
// returns the exit code.
func exitFor(err error, env IO) int {
	if err == nil || errors.Is(err, tunnel.ErrServerClosed) {
		return ExitOK
	}
	fmt.Fprintf(env.Stderr, "Error: %v\n", err)
	if h := hint(err); h != "" {
		fmt.Fprintf(env.Stderr, "  (%s)\n", h)
	}
	return ExitRuntime
}
