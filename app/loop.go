package app

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/boretray/bore/tunnel"
)

// Run is the app's loop: it hands every event to Update, renders the new
// Model, and carries out the effects, until Quit is chosen (it returns nil)
// or ctx ends. Then it stops every tunnel (Engine.Close) and returns, once
// the background work it started (dialogs, probes) has ended.
func Run(ctx context.Context, cfg Config) error {
	ctx, cancel := context.WithCancel(ctx)
	l := &loop{
		cfg:        cfg,
		log:        cfg.Logger,
		ctx:        ctx,
		results:    make(chan Event),
		shares:     map[tunnel.TunnelID]func(){},
		inspecting: map[tunnel.TunnelID]bool{},
		m:          NewModel(cfg.Version, cfg.Settings, cfg.ConfigDir, cfg.ProbeInterval),
		timer:      time.NewTimer(time.Hour),
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
		for id := range l.inspecting {
			cfg.Inspector.StopInspecting(id)
		}
		for _, stop := range l.shares {
			stop()
		}
	}()
	snaps := cfg.Engine.Watch(ctx)
	l.handle(Started{LoadErr: cfg.LoadErr, Added: cfg.Added})
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
	// shares stops the file server of each share tunnel.
	shares map[tunnel.TunnelID]func()
	// inspecting holds the tunnels whose inspector is on.
	inspecting map[tunnel.TunnelID]bool

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
		return l.startTunnel(f)
	case StopTunnel:
		l.cfg.Engine.Stop(f.ID)
		if stop, ok := l.shares[f.ID]; ok {
			delete(l.shares, f.ID)
			stop()
			l.log.Info("file server stopped", "id", f.ID)
		}
	case StartInspector:
		if l.cfg.Inspector == nil {
			return fail(errors.New("this build cannot inspect traffic"))
		}
		url, err := l.cfg.Inspector.Inspect(f.Tunnel, f.Target, f.Title)
		if err != nil {
			l.log.Warn("could not start an inspector", "id", f.Tunnel, "err", err)
			return fail(err)
		}
		l.inspecting[f.Tunnel] = true
		l.log.Info("inspecting traffic", "id", f.Tunnel)
		return InspectorStarted{Start: f, URL: url}
	case StopInspector:
		if l.inspecting[f.Tunnel] {
			delete(l.inspecting, f.Tunnel)
			l.cfg.Inspector.StopInspecting(f.Tunnel)
			l.log.Info("inspector stopped", "id", f.Tunnel)
		}
	case OpenURL:
		if l.cfg.Opener == nil {
			return fail(errors.New("no browser opener"))
		}
		return fail(l.cfg.Opener.Open(f.URL))
	case Pick:
		if l.cfg.Picker == nil || l.cfg.Picker.Available() == "" {
			return fail(ErrNoDialogs)
		}
		l.background(func(ctx context.Context) Event {
			p, err := l.cfg.Picker.Pick(ctx, f.Folder, f.Title)
			return Picked{Pick: f, Path: p, Err: err}
		})
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
			return fail(l.cfg.QR.ShowQR(f.Text, f.Port))
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
			var text string
			var err error
			if f.Password {
				text, err = l.cfg.Dialogs.Password(ctx, f.Title, f.Prompt)
			} else {
				text, err = l.cfg.Dialogs.Entry(ctx, f.Title, f.Prompt, "", f.Check())
			}
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
			return Probed{Server: f.Server.Key(), RTT: rtt, Err: err, Announce: f.Announce}
		})
	case Quit:
		l.quit = true
	}
	return nil
}

// startTunnel starts f's tunnel, and first the file server of a share.
func (l *loop) startTunnel(f StartTunnel) Event {
	cfg := f.Config
	var stop func()
	if f.Share != "" {
		if l.cfg.Files == nil {
			return Failed{Effect: f, Err: errors.New("this build cannot share folders")}
		}
		port, s, err := l.cfg.Files.Serve(f.Share)
		if err != nil {
			l.log.Warn("could not serve a folder", "err", err)
			return Failed{Effect: f, Err: err}
		}
		cfg.LocalHost, cfg.LocalPort, stop = "127.0.0.1", port, s
	}
	local := net2(cfg.LocalHost, cfg.LocalPort)
	cfg.Logger = l.log.With("local", local)
	id, err := l.cfg.Engine.Start(cfg)
	if err != nil {
		if stop != nil {
			stop()
		}
		l.log.Warn("could not start a tunnel", "local", local, "err", err)
		return Failed{Effect: f, Err: err}
	}
	if stop != nil {
		l.shares[id] = stop
	}
	l.log.Info("tunnel started", "id", id, "local", local, "server", cfg.Server)
	return TunnelStarted{Start: f, ID: id}
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
