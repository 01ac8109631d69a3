package trayapp

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/boretray/bore/app"
)

// trayUsage is "bore tray --help".
const trayUsage = `Start the tray app.

Usage: bore tray [--server HOST[:PORT]] [--secret SECRET]

Options:
  --server HOST[:PORT]   add this bore server (control port 7835 unless given) and
                         choose it for the next Share; the same as Server > Add server…,
                         for desktops without a dialog program
  --secret SECRET        the server's secret, if it has one [env: BORE_SECRET]
  -h, --help             print this help
`

// ErrHelp is what ParseArgs returns when help was asked for and printed.
var ErrHelp = errors.New("help requested")

// ParseArgs reads the arguments after "bore tray" into opts: --server adds
// and chooses a server at start, --secret (or BORE_SECRET) is its secret.
// Errors say what to type instead; help goes to out.
func ParseArgs(args []string, getenv func(string) string, out io.Writer, opts *Options) error {
	fs := flag.NewFlagSet("bore tray", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	server := fs.String("server", "", "")
	secret := fs.String("secret", getenv("BORE_SECRET"), "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(out, trayUsage)
			return ErrHelp
		}
		return fmt.Errorf("%v\n\n%s", err, trayUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q\n\n%s", fs.Arg(0), trayUsage)
	}
	if *server == "" {
		if isSet(fs, "secret") {
			return errors.New("--secret needs --server: it is that server's secret")
		}
		return nil
	}
	if _, _, err := app.ParseServerEntry(*server); err != nil {
		return fmt.Errorf("--server: %w", err)
	}
	opts.Server, opts.Secret = strings.TrimSpace(*server), *secret
	return nil
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
