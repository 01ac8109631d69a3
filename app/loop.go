package app

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/boretray/bore/app/settings"
	"github.com/boretray/bore/tunnel"
)

// The collaborators the loop carries effects out through, each as small as
// the loop needs. A nil one disables its feature.

// Engine runs tunnels; *tunnel.Manager implements it.
type Engine interface {
	Start(cfg tunnel.ClientConfig) (tunnel.TunnelID, error)
	Stop(id tunnel.TunnelID)
	Watch(ctx context.Context) <-chan tunnel.Snapshot
	Close()
}

// Clipboard puts text on the system clipboard.
type Clipboard interface {
	CopyText(s string) error
}

// Notifier shows a desktop notification.
type Notifier interface {
	Notify(title, body string) error
}

// ErrCancelled is what Dialogs return when the user closed or cancelled
// the dialog: no answer, and nothing to report.
var ErrCancelled = errors.New("dialog cancelled")

// Dialogs asks the user for text. Available returns "" when no dialog tool
// can be used; a cancelled dialog returns an error wrapping ErrCancelled.
type Dialogs interface {
	Available() string
	Entry(ctx context.Context, title, prompt, initial string) (string, error)
	Password(ctx context.Context, title, prompt string) (string, error)
}

// Opener opens a file or folder with the desktop's default application.
type Opener interface {
	Open(path string) error
}

// QRShower draws a QR code of a tunnel's public address addr (on public
// port port) and shows it.
type QRShower interface {
	ShowQR(addr string, port uint16) error
}

// Autostart starts the app at login, or stops doing so.
type Autostart interface {
	Enable() error
	Disable() error
}

// SettingsStore saves the settings.
type SettingsStore interface {
	Save(s settings.Settings) error
}

// Prober measures how long a TCP connect to a server's control port takes.
type Prober interface {
	Probe(ctx context.Context, srv settings.Server) (time.Duration, error)
}

// Renderer shows a View; the tray shell implements it.
type Renderer interface {
	Render(v View)
}

// probeTimeout bounds one reachability probe; a server slower than this to
// accept a TCP connection is unusable anyway.
const probeTimeout = 5 * time.Second

// Config holds the app's state at start and its collaborators. Only Engine
// and Renderer are required; a nil collaborator or channel disables its
// feature.
type Config struct {
	// Version is the app's version, shown in About.
	Version string
	// Settings are the settings loaded at start.
	Settings settings.Settings
	// LoadErr is the error loading the settings returned, if any; the
	// user is told about it once at start.
	LoadErr error
	// ConfigDir is the folder "Open config folder" opens.
	ConfigDir string
	// Intents delivers what the user clicked.
	Intents <-chan Intent
	// Ports delivers the listening TCP ports whenever they change.
	Ports <-chan []Port
	// ProbeInterval is how often servers are probed; 0 means
	// DefaultProbeInterval.
	ProbeInterval time.Duration
	// Logger receives the app's logs (never a secret); nil discards.
	Logger *slog.Logger

	Engine    Engine
	Renderer  Renderer
	Store     SettingsStore
	Clipboard Clipboard
	Notifier  Notifier
	Dialogs   Dialogs
	Opener    Opener
	QR        QRShower
	Autostart Autostart
	Prober    Prober
}

// Run is the app's loop: it hands every event to Update, renders the new
// Model, and carries out the effects, until Quit is chosen (it returns nil)
// or ctx ends. Then it stops every tunnel (Engine.Close) and returns, once
// the background work it started (dialogs, probes) has ended.
func Run(ctx context.Context, cfg Config) error {
	ctx, cancel := context.WithCancel(ctx)
	l := &loop{
		cfg:     cfg,
		log:     cfg.Logger,
		ctx:     ctx,
		results: make(chan Event),
		m:       NewModel(cfg.Version, cfg.Settings, cfg.ConfigDir, cfg.ProbeInterval),
		timer:   time.NewTimer(time.Hour),
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	l.timer.Stop()
	defer func() {
		cancel()
		l.timer.Stop()
		l.wg.Wait()
		cfg.Engine.Close()
	}()
	snaps := cfg.Engine.Watch(ctx)
	l.handle(Started{LoadErr: cfg.LoadErr})
	for !l.quit {
		l.render()
		var e Event
		select {
		case <-ctx.Done():
			return ctx.Err()
		case in := <-cfg.Intents:
			e = Clicked{Intent: in}
		case s, ok := <-snaps:
			if !ok {
				return errors.New("the tunnel engine stopped unexpectedly; restart Bore")
			}
			e = EngineReported{Snapshot: s}
		case ps := <-cfg.Ports:
			e = PortsChanged{Ports: ps}
		case e = <-l.results:
		case <-l.timer.C:
			e = TimerFired{}
		}
		l.handle(e)
	}
	l.log.Info("quitting")
	return nil
}

// loop is Run's state: the Model and what carrying out effects needs.
type loop struct {
	cfg Config
	log *slog.Logger
	ctx context.Context
	// results carries the answers of work done in the background (dialogs,
	// probes) back to the loop.
	results chan Event
	wg      sync.WaitGroup
	timer   *time.Timer

	m        Model
	view     View
	rendered bool
	quit     bool
}

// handle updates the model with e and carries out the effects; an effect's
// answer is handled at once, before the next effect, so effects happen in
// the order Update listed them.
func (l *loop) handle(e Event) {
	m, fx := Update(l.m, e, time.Now())
	l.m = m
	for _, f := range fx {
		if answer := l.do(f); answer != nil {
			l.handle(answer)
		}
	}
}

// render sends the View to the renderer when it changed.
func (l *loop) render() {
	v := Render(l.m)
	if l.rendered && reflect.DeepEqual(v, l.view) {
		return
	}
	l.view, l.rendered = v, true
	l.cfg.Renderer.Render(v)
}

// do carries out one effect and returns its immediate answer, if any.
func (l *loop) do(f Effect) Event {
	fail := func(err error) Event {
		if err == nil {
			return nil
		}
		return Failed{Effect: f, Err: err}
	}
	switch f := f.(type) {
	case StartTunnel:
		cfg := f.Config
		local := net2(cfg.LocalHost, cfg.LocalPort)
		cfg.Logger = l.log.With("local", local)
		id, err := l.cfg.Engine.Start(cfg)
		if err != nil {
			l.log.Warn("could not start a tunnel", "local", local, "err", err)
			return fail(err)
		}
		l.log.Info("tunnel started", "id", id, "local", local, "server", cfg.Server)
		return TunnelStarted{Start: f, ID: id}
	case StopTunnel:
		l.cfg.Engine.Stop(f.ID)
	case CopyText:
		err := errors.New("no clipboard")
		if l.cfg.Clipboard != nil {
			err = l.cfg.Clipboard.CopyText(f.Text)
		}
		if err != nil {
			l.log.Warn("could not copy to the clipboard", "err", err)
		}
		return Copied{Copy: f, Err: err}
	case Notify:
		l.log.Info("notification", "title", f.Title, "body", f.Body, "alert", f.Alert)
		if l.cfg.Notifier != nil {
			if err := l.cfg.Notifier.Notify(f.Title, f.Body); err != nil {
				l.log.Warn("could not show a notification", "err", err)
			}
		}
	case SaveSettings:
		if l.cfg.Store != nil {
			if err := l.cfg.Store.Save(f.Settings); err != nil {
				l.log.Error("could not save settings", "err", err)
				return fail(err)
			}
		}
	case OpenPath:
		if l.cfg.Opener != nil {
			return fail(l.cfg.Opener.Open(f.Path))
		}
	case ShowQR:
		if l.cfg.QR != nil {
			return fail(l.cfg.QR.ShowQR(f.Addr, f.Port))
		}
	case SetAutostart:
		if l.cfg.Autostart == nil {
			return nil
		}
		var err error
		if f.On {
			err = l.cfg.Autostart.Enable()
		} else {
			err = l.cfg.Autostart.Disable()
		}
		if err != nil {
			return fail(err)
		}
		//lint:ignore S1016 an answer is its own event, alike in shape by chance
		return AutostartChanged{On: f.On}
	case ArmTimer:
		l.timer.Stop()
		if !f.At.IsZero() {
			l.timer.Reset(time.Until(f.At))
		}
	case Ask:
		if l.cfg.Dialogs == nil || l.cfg.Dialogs.Available() == "" {
			return fail(ErrNoDialogs)
		}
		l.background(func(ctx context.Context) Event {
			ask := l.cfg.Dialogs.Entry
			if f.Password {
				ask = func(ctx context.Context, title, prompt, _ string) (string, error) {
					return l.cfg.Dialogs.Password(ctx, title, prompt)
				}
			}
			text, err := ask(ctx, f.Title, f.Prompt, "")
			return Answered{Ask: f, Text: text, Err: err}
		})
	case Probe:
		if l.cfg.Prober == nil {
			return fail(errors.New("no prober"))
		}
		l.background(func(ctx context.Context) Event {
			pctx, cancel := context.WithTimeout(ctx, probeTimeout)
			defer cancel()
			rtt, err := l.cfg.Prober.Probe(pctx, f.Server)
			return Probed{Server: f.Server.Key(), RTT: rtt, Err: err}
		})
	case Quit:
		l.quit = true
	}
	return nil
}

// background runs work in a goroutine and hands its answer to the loop,
// unless the loop is stopping.
func (l *loop) background(work func(ctx context.Context) Event) {
	l.wg.Go(func() {
		e := work(l.ctx)
		if l.ctx.Err() != nil {
			return
		}
		select {
		case l.results <- e:
		case <-l.ctx.Done():
		}
	})
}
