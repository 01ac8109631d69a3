package trayapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/boretray/bore/app"
	"github.com/boretray/bore/app/desktop"
	"github.com/boretray/bore/app/inspect"
	"github.com/boretray/bore/app/share"
	"github.com/boretray/bore/tunnel"
)

// engine is the tunnel manager with a traffic inspector that can be
// turned on and off for each tunnel (app.Engine and app.Inspector). Every
// tunnel gets an inspect.Switch as its WrapLocal: while it is off the
// tunnel keeps its direct copy path.
type engine struct {
	m   *tunnel.Manager
	log *slog.Logger

	mu       sync.Mutex
	switches map[tunnel.TunnelID]*inspect.Switch
}

func newEngine(m *tunnel.Manager, log *slog.Logger) *engine {
	return &engine{m: m, log: log, switches: map[tunnel.TunnelID]*inspect.Switch{}}
}

// Start starts a tunnel that can be inspected later.
func (e *engine) Start(cfg tunnel.ClientConfig) (tunnel.TunnelID, error) {
	sw := &inspect.Switch{}
	cfg.WrapLocal = sw
	id, err := e.m.Start(cfg)
	if err != nil {
		return 0, err
	}
	e.mu.Lock()
	e.switches[id] = sw
	e.mu.Unlock()
	return id, nil
}

// Stop stops a tunnel and its inspector.
func (e *engine) Stop(id tunnel.TunnelID) {
	e.m.Stop(id)
	e.StopInspecting(id)
	e.mu.Lock()
	delete(e.switches, id)
	e.mu.Unlock()
}

// Watch reports the tunnels' snapshots.
func (e *engine) Watch(ctx context.Context) <-chan tunnel.Snapshot { return e.m.Watch(ctx) }

// Close stops every tunnel and every inspector.
func (e *engine) Close() {
	e.m.Close()
	e.mu.Lock()
	switches := e.switches
	e.switches = map[tunnel.TunnelID]*inspect.Switch{}
	e.mu.Unlock()
	for _, sw := range switches {
		if in := sw.Set(nil); in != nil {
			in.Close()
		}
	}
}

// Inspect starts an inspector for tunnel id, on 127.0.0.1 and a free
// port, and returns its page's URL. New visitor connections go through
// it; open ones keep going as they were.
func (e *engine) Inspect(id tunnel.TunnelID, target, title string) (string, error) {
	e.mu.Lock()
	sw := e.switches[id]
	e.mu.Unlock()
	if sw == nil {
		return "", errors.New("the tunnel has stopped")
	}
	if in := sw.Inspector(); in != nil {
		return in.URL(), nil
	}
	in, err := inspect.New(inspect.Options{Target: target, Title: title, Logger: e.log.With("inspect", target)})
	if err != nil {
		return "", err
	}
	if old := sw.Set(in); old != nil {
		old.Close()
	}
	return in.URL(), nil
}

// StopInspecting turns tunnel id's inspector off and closes its page.
func (e *engine) StopInspecting(id tunnel.TunnelID) {
	e.mu.Lock()
	sw := e.switches[id]
	e.mu.Unlock()
	if sw == nil {
		return
	}
	if in := sw.Set(nil); in != nil {
		in.Close()
	}
}

// fileServer serves shared folders and files with app/share.
type fileServer struct{ log *slog.Logger }

// Serve serves path read-only on 127.0.0.1 and a free port.
func (f fileServer) Serve(path string) (uint16, func(), error) {
	s, err := share.Start(path, share.Options{Logger: f.log})
	if err != nil {
		return 0, nil, err
	}
	return s.Port(), func() { s.Close() }, nil
}

// picker is the desktop's file picker as an app.Picker.
type picker struct{ d *desktop.Dialogs }

// Available names the picker tool, or "" when there is none.
func (p picker) Available() string { return p.d.Available() }

// Pick asks for a folder or a file.
func (p picker) Pick(ctx context.Context, folder bool, title string) (string, error) {
	var path string
	var err error
	if folder {
		path, err = p.d.PickFolder(ctx, title)
	} else {
		path, err = p.d.PickFile(ctx, title)
	}
	if errors.Is(err, desktop.ErrNoPicker) {
		return "", fmt.Errorf("%w: %w", app.ErrNoDialogs, err)
	}
	return path, cancelled(err)
}
