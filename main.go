// Command bore exposes a local TCP port on a public server. With no
// arguments it starts the tray app; "bore local" and "bore server" are
// drop-in replacements for the Rust bore's commands.
package main

import (
	"fmt"
	"os"
)

// version is stamped at build time from git describe.
var version = "dev"

func main() {
	fmt.Fprintln(os.Stderr, "usage: bore <local|server> [flags]")
	os.Exit(2)
}
