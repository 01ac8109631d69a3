// Command bore exposes a local TCP port on a public server. With no
// arguments, or "bore tray", it starts the tray app; "bore local" and
// "bore server" are drop-in replacements for the Rust bore's commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/boretray/bore/app/cli"
	"github.com/boretray/bore/app/trayapp"
	"github.com/boretray/bore/app/winconsole"
)

// version is stamped at build time from git describe.
var version = "dev"

func main() {
	// On Windows the program is built as a GUI app (no console window for
	// the tray); from a terminal, the commands still print there.
	winconsole.Attach()
	setProcs(os.Args[1:])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] == "tray" {
		opts := trayapp.Options{Version: version, Logger: cli.NewLogger(os.Stderr, slog.LevelInfo)}
		if len(args) > 0 {
			if err := trayapp.ParseArgs(args[1:], os.Getenv, os.Stdout, &opts); errors.Is(err, trayapp.ErrHelp) {
				return 0
			} else if err != nil {
				fmt.Fprintln(os.Stderr, "error:", err)
				return 2
			}
		}
		return trayapp.Main(ctx, opts)
	}
	return cli.Run(ctx, args, cli.IO{Getenv: os.Getenv, Stdout: os.Stdout, Stderr: os.Stderr}, version)
}
