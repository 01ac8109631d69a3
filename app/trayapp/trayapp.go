// Package trayapp starts the tray app: it checks the desktop session, takes
// the single-instance lock, loads the settings, and wires the port scanner,
// the tunnel engine, the desktop adapters and the systray shell (app/tray)
// to app.Run. It makes no decisions of its own; app does.
package trayapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/skip2/go-qrcode"

	"github.com/boretray/bore/app"
	"github.com/boretray/bore/app/desktop"
	"github.com/boretray/bore/app/ports"
	"github.com/boretray/bore/app/settings"
	"github.com/boretray/bore/app/tray"
	"github.com/boretray/bore/assets"
	"github.com/boretray/bore/tunnel"
)

// Options configure the tray app.
type Options struct {
	// Version is shown in About.
	Version string
	// ConfigPath is the settings file; "" means settings.DefaultPath().
	ConfigPath string
	// Logger receives the app's logs; nil discards them.
	Logger *slog.Logger
	// Server, when set, is a server ("host" or "host:port") to add, with
	// Secret, and choose at start: "bore tray --server".
	Server, Secret string
}

// portScanInterval is how often the listening ports are re-read. Reading the
// kernel's socket tables is cheap, and process names are only looked up when
// the set changes, so this keeps "Share a port" fresh at no visible cost.
const portScanInterval = 3 * time.Second

// hostRegisterWait is how long a tray host that appeared after start may
// take to list Bore's icon before Bore registers it itself.
const hostRegisterWait = 2 * time.Second

// Main runs the tray app until Quit; it returns the process exit code.
func Main(ctx context.Context, opts Options) int {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	notifier := &desktop.Notifier{AppName: "Bore", Icon: assets.AppIcon(128)}

	hostErr, err := desktop.CheckSession()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bore:", err)
		return 1
	}
	release, err := desktop.Lock("bore")
	if errors.Is(err, desktop.ErrAlreadyRunning) {
		fmt.Fprintln(os.Stderr, "bore: already running; look for its icon in the system tray")
		if nerr := notifier.Notify("Bore is already running", "Look for its icon in the system tray."); nerr != nil {
			log.Warn("could not show a notification", "err", nerr)
		}
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bore:", err)
		return 1
	}
	defer release()

	path := opts.ConfigPath
	if path == "" {
		if path, err = settings.DefaultPath(); err != nil {
			fmt.Fprintln(os.Stderr, "bore:", err)
			return 1
		}
	}
	store := &settings.Store{Path: path}
	s, loadErr := store.Load()
	if loadErr != nil {
		log.Warn("settings not loaded", "err", loadErr)
	}
	added := ""
	if opts.Server != "" {
		if s, added, err = app.AddServer(s, opts.Server, opts.Secret); err != nil {
			fmt.Fprintln(os.Stderr, "bore: --server:", err)
			return 2
		}
		if err := store.Save(s); err != nil {
			fmt.Fprintln(os.Stderr, "bore:", err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "bore: added %s and chose it for the next Share\n", added)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()

	if hostErr != nil {
		// A panel often starts after the apps started at login: keep
		// running, the shell registers as soon as one appears.
		log.Warn("no system tray", "err", hostErr)
		fmt.Fprintln(os.Stderr, "bore: no system tray host on the session bus yet (no StatusNotifierWatcher); "+
			"waiting, the icon appears as soon as a panel starts")
		if nerr := notifier.Notify("Bore has no tray icon yet", hostErr.Error()); nerr != nil {
			log.Warn("could not show a notification", "err", nerr)
		}
		wg.Go(func() {
			err := desktop.WaitForHost(ctx)
			if err == nil {
				err = desktop.EnsureRegistered(ctx, desktop.TrayItemName(), hostRegisterWait)
			}
			switch {
			case err == nil:
				fmt.Fprintln(os.Stderr, "bore: a system tray host started; the icon is shown")
			case ctx.Err() == nil:
				log.Warn("cannot show the icon in the new tray host", "err", err)
				fmt.Fprintln(os.Stderr, "bore:", err)
			}
		})
	}

	scanner := ports.NewScanner(portScanInterval)
	wg.Go(func() { scanner.Run(ctx) })

	shell := tray.NewShell(icon)
	defer shell.Close()
	autostart := &autostarter{log: log}
	if exe, err := os.Executable(); err == nil {
		autostart.a = desktop.Autostart{Name: "Bore", Exec: exe, Args: []string{"tray"}, Icon: assets.AppIcon(128)}
	}
	tmp := os.TempDir()
	if dir, err := os.UserCacheDir(); err == nil {
		tmp = filepath.Join(dir, "bore")
	}
	eng := newEngine(tunnel.NewManager(), log)
	dlg := desktop.NewDialogs()
	cfg := app.Config{
		Version:   opts.Version,
		Settings:  s,
		LoadErr:   loadErr,
		Added:     added,
		ConfigDir: filepath.Dir(path),
		Ports:     scanner.Updates(),
		Logger:    log,
		Engine:    eng,
		Inspector: eng,
		Picker:    picker{dlg},
		Files:     fileServer{log: log},
		Store:     store,
		Clipboard: clipboard{},
		Notifier:  notifier,
		Dialogs:   dialogs{dlg},
		Opener:    opener{},
		QR:        qrShower{dir: tmp, open: desktop.OpenPath},
		Autostart: autostart,
		Prober:    dialProber{},
		Renderer:  shell,
		Intents:   shell.Intents(),
	}

	code := 0
	ready := func() {
		wg.Go(func() {
			if err := app.Run(ctx, cfg); err != nil && ctx.Err() == nil {
				log.Error("tray app stopped", "err", err)
				fmt.Fprintln(os.Stderr, "bore:", err)
				code = 1
			}
			tray.Quit()
		})
	}
	tray.Run(ready)
	cancel()
	shell.Close()
	wg.Wait()
	return code
}

// icon returns the tray image for kind in the platform's format.
func icon(k assets.Kind) []byte { return assets.Icon(k, runtime.GOOS) }

// clipboard is the desktop clipboard as an app.Clipboard.
type clipboard struct{}

// CopyText puts s on the clipboard.
func (clipboard) CopyText(s string) error { return desktop.CopyText(s) }

// dialogs are the desktop's dialogs as app.Dialogs: a cancelled dialog
// reports app.ErrCancelled.
type dialogs struct{ d *desktop.Dialogs }

// Available names the dialog tool, or "" when there is none.
func (d dialogs) Available() string { return d.d.Available() }

// Entry asks for a line of text until check accepts it: bad input shows
// the dialog again with the error.
func (d dialogs) Entry(ctx context.Context, title, prompt, initial string, check func(string) error) (string, error) {
	if check == nil {
		check = func(string) error { return nil }
	}
	s, err := desktop.AskValid(ctx, d.d, title, prompt, initial, check)
	return s, cancelled(err)
}

// Password asks for a secret.
func (d dialogs) Password(ctx context.Context, title, prompt string) (string, error) {
	s, err := d.d.Password(ctx, title, prompt)
	return s, cancelled(err)
}

func cancelled(err error) error {
	if errors.Is(err, desktop.ErrCancelled) {
		return fmt.Errorf("%w: %w", app.ErrCancelled, err)
	}
	return err
}

// opener opens files with the desktop's default application.
type opener struct{}

// Open opens path.
func (opener) Open(path string) error { return desktop.OpenPath(path) }

// qrShower writes a QR code image into dir and opens it with open.
type qrShower struct {
	dir  string
	open func(path string) error
}

// ShowQR draws text as a QR code and opens the image.
func (q qrShower) ShowQR(text string, port uint16) error {
	path := filepath.Join(q.dir, "bore-qr-"+strconv.Itoa(int(port))+".png")
	err := os.MkdirAll(q.dir, 0o700)
	if err == nil {
		err = qrcode.WriteFile(text, qrcode.Medium, 384, path)
	}
	if err == nil {
		err = q.open(path)
	}
	return err
}

// autostarter writes or removes the launch-at-login entry.
type autostarter struct {
	a   desktop.Autostart
	log *slog.Logger
}

// Enable starts Bore at login.
func (a *autostarter) Enable() error {
	if a.a.Exec == "" {
		return errors.New("cannot find Bore's own executable to start at login")
	}
	exe, err := installedExe(a.a.Exec)
	if err != nil {
		return err
	}
	e := a.a
	e.Exec = exe
	return e.Enable()
}

// installedExe returns the absolute, symlink-free path of the running
// binary, refusing one that will not be there at the next login: a build of
// "go run" or "go test" in a temporary folder.
func installedExe(exe string) (string, error) {
	abs, err := filepath.Abs(exe)
	if err != nil {
		return "", fmt.Errorf("cannot find Bore's own executable: %w", err)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	if strings.Contains(abs, string(filepath.Separator)+"go-build") {
		return "", fmt.Errorf("this copy of Bore runs from a temporary build (%s) that will be gone at the next login: "+
			"build it (make build) or install it, start that copy, and enable Launch at login again", abs)
	}
	return abs, nil
}

// Disable stops starting Bore at login.
func (a *autostarter) Disable() error { return a.a.Disable() }

// dialProber checks a server with tunnel.Probe: it answers on its control
// port and takes the secret.
type dialProber struct{}

// Probe checks srv and returns how long the TCP connect took.
func (dialProber) Probe(ctx context.Context, srv settings.Server) (time.Duration, error) {
	return tunnel.Probe(ctx, srv.Host, srv.Port(), srv.Secret)
}
