// Command bore exposes a local TCP port on a public server. With no
// arguments, or "bore tray", it starts the tray app; "bore local" and
// "bore server" are drop-in replacements for the Rust bore's commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/boretray/bore/app/cli"
)

// version is stamped at build time from git describe.
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string) int {
	return cli.Run(ctx, args, cli.IO{Getenv: os.Getenv, Stdout: os.Stdout, Stderr: os.Stderr}, version)
}
