package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/skip2/go-qrcode"

	"github.com/boretray/bore/app/desktop"
	"github.com/boretray/bore/app/settings"
	"github.com/boretray/bore/tunnel"
)

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

// Dialogs asks the user for text; *desktop.Dialogs implements it. Available
// returns "" when no dialog tool can be used; a cancelled dialog returns an
// error wrapping desktop.ErrCancelled.
type Dialogs interface {
	Available() string
	Entry(ctx context.Context, title, prompt, initial string) (string, error)
	Password(ctx context.Context, title, prompt string) (string, error)
}

// Opener opens a file or folder with the desktop's default application.
type Opener interface {
	Open(path string) error
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

// DefaultProbeInterval is how often servers are probed again in the
// background: often enough for the menu to stay truthful, rare enough to
// cost nothing.
const DefaultProbeInterval = 5 * time.Minute

// probeTimeout bounds one reachability probe; a server slower than this to
// accept a TCP connection is unusable anyway.
const probeTimeout = 5 * time.Second

// Config holds a Controller's state at start and its collaborators. Only
// Engine and Renderer are required; a nil collaborator or channel disables
// its feature.
type Config struct {
	// Version is the app's version, shown in About.
	Version string
	// Settings are the settings loaded at start.
	Settings settings.Settings
	// LoadErr is the error loading the settings returned, if any; the
	// controller tells the user about it once at start.
	LoadErr error
	// ConfigDir is the folder "Open config folder" opens.
	ConfigDir string
	// TempDir receives QR code images; "" means os.TempDir().
	TempDir string
	// Intents delivers what the user clicked. Intents that do not match an
	// enabled entry of the menu last rendered are ignored, so a click on a
	// disabled or vanished item does nothing.
	Intents <-chan Intent
	// Ports delivers the listening TCP ports whenever they change.
	Ports <-chan []Port
	// ProbeInterval is how often servers are probed; 0 means
	// DefaultProbeInterval.
	ProbeInterval time.Duration
	// Logger receives the controller's logs (never a secret); nil discards.
	Logger *slog.Logger

	Engine    Engine
	Renderer  Renderer
	Store     SettingsStore
	Clipboard Clipboard
	Notifier  Notifier
	Dialogs   Dialogs
	Opener    Opener
	Autostart Autostart
	Prober    Prober
}

// Controller owns the Model: it applies clicks, engine snapshots, port
// lists, probe results and timers in one loop (Run) and renders the result.
type Controller struct {
	cfg Config
	log *slog.Logger
	// results carries work finished in background goroutines (dialogs,
	// probes) back to the loop, which alone touches the model.
	results chan func()
	wg      sync.WaitGroup

	m         Model
	view      View
	rendered  bool
	deadlines map[tunnel.TunnelID]time.Time
	probing   map[string]bool
	timer     *time.Timer
}

// NewController returns a Controller for cfg. Call Run to start it.
func NewController(cfg Config) *Controller {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.ProbeInterval <= 0 {
		cfg.ProbeInterval = DefaultProbeInterval
	}
	s := cfg.Settings
	s.Normalize()
	c := &Controller{
		cfg:     cfg,
		log:     log,
		results: make(chan func()),
		m: Model{
			Version:         cfg.Version,
			Settings:        s,
			Reach:           map[string]Reach{},
			StopAfter:       map[tunnel.TunnelID]time.Duration{},
			FavoriteTunnels: map[string]tunnel.TunnelID{},
		},
		deadlines: map[tunnel.TunnelID]time.Time{},
		probing:   map[string]bool{},
	}
	return c
}

// Run applies events until Quit is chosen or ctx ends, then stops every
// tunnel (Engine.Close) and returns. Background work it started has ended
// when it returns.
func (c *Controller) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		c.wg.Wait()
		c.cfg.Engine.Close()
	}()
	snaps := c.cfg.Engine.Watch(ctx)
	probeTick := time.NewTicker(c.cfg.ProbeInterval)
	defer probeTick.Stop()
	c.timer = time.NewTimer(time.Hour)
	c.timer.Stop()
	defer c.timer.Stop()

	if c.cfg.LoadErr != nil {
		title := "Bore started with default settings"
		if le := (*settings.LoadError)(nil); errors.As(c.cfg.LoadErr, &le) && le.Err == nil {
			title = "Bore left out part of its settings"
		}
		c.alert(title, c.cfg.LoadErr.Error())
	}
	c.probeAll(ctx)
	if c.m.Settings.StartFavoritesAtLaunch {
		for _, f := range c.m.Settings.Favorites {
			c.startFavorite(f)
		}
	}
	c.render()

	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case in := <-c.cfg.Intents:
			if in.Kind == IntentQuit && c.view.offers(in) {
				c.log.Info("quitting")
				return nil
			}
			c.apply(ctx, in)
		case s, ok := <-snaps:
			if !ok {
				return errors.New("the tunnel engine stopped unexpectedly; restart Bore")
			}
			c.onSnapshot(s)
		case ps := <-c.cfg.Ports:
			c.m.Ports = ps
		case f := <-c.results:
			f()
		case <-probeTick.C:
			c.probeAll(ctx)
		case <-c.timer.C:
			c.stopExpired()
		}
		c.render()
	}
}

// render sends the View to the renderer when it changed.
func (c *Controller) render() {
	v := Render(c.m)
	if c.rendered && reflect.DeepEqual(v, c.view) {
		return
	}
	c.view, c.rendered = v, true
	c.cfg.Renderer.Render(v)
}

// offers reports whether v has an enabled entry that emits in.
func (v View) offers(in Intent) bool {
	return offers(v.Menu, in)
}

func offers(entries []MenuEntry, in Intent) bool {
	for _, e := range entries {
		if e.Enabled && !e.Separator && len(e.Children) == 0 && e.Intent == in && in.Kind != IntentNone {
			return true
		}
		if e.Enabled && offers(e.Children, in) {
			return true
		}
	}
	return false
}

// notify shows an informational notification, when the user wants them.
func (c *Controller) notify(title, body string) {
	if !c.m.Settings.Notifications {
		return
	}
	c.alert(title, body)
}

// alert shows a notification even when informational ones are off: it
// reports an error or answers an explicit request.
func (c *Controller) alert(title, body string) {
	c.log.Info("notification", "title", title, "body", body)
	if c.cfg.Notifier == nil {
		return
	}
	if err := c.cfg.Notifier.Notify(title, body); err != nil {
		c.log.Warn("could not show a notification", "err", err)
	}
}

// copyText copies s and returns "" or why it failed.
func (c *Controller) copyText(s string) error {
	if c.cfg.Clipboard == nil {
		return errors.New("no clipboard")
	}
	if err := c.cfg.Clipboard.CopyText(s); err != nil {
		c.log.Warn("could not copy to the clipboard", "err", err)
		return err
	}
	return nil
}

// save writes the settings and reports a failure.
func (c *Controller) save() {
	if c.cfg.Store == nil {
		return
	}
	if err := c.cfg.Store.Save(c.m.Settings); err != nil {
		c.log.Error("could not save settings", "err", err)
		c.alert("Bore could not save your settings",
			fmt.Sprintf("%v. The change applies until Bore quits.", err))
	}
}

func (c *Controller) apply(ctx context.Context, in Intent) {
	if !c.view.offers(in) {
		c.log.Debug("ignoring a click on an item that is not available now", "kind", in.Kind)
		return
	}
	switch in.Kind {
	case IntentCopyAddress, IntentCopyURL:
		st, ok := c.m.Snapshot.Find(in.Tunnel)
		if !ok || st.PublicAddr() == "" {
			return
		}
		text := st.PublicAddr()
		if in.Kind == IntentCopyURL {
			text = publicURL(st)
		}
		if err := c.copyText(text); err != nil {
			c.alert("Could not copy the address", fmt.Sprintf("%s: %v", text, err))
		}
	case IntentShowQR:
		c.showQR(in.Tunnel)
	case IntentStopAfter:
		c.setStopAfter(in.Tunnel, in.Duration)
	case IntentSaveFavorite:
		c.saveFavorite(in.Tunnel)
	case IntentStopTunnel:
		c.stopTunnel(in.Tunnel)
	case IntentSharePort:
		srv, _ := c.m.Settings.Server(c.m.Settings.CurrentServer)
		c.startTunnel(srv, in.Host, in.Port, 0)
	case IntentOtherPort:
		c.askPort(ctx)
	case IntentToggleFavorite:
		c.toggleFavorite(in.Name)
	case IntentToggleStartFavorites:
		c.m.Settings.StartFavoritesAtLaunch = !c.m.Settings.StartFavoritesAtLaunch
		c.save()
	case IntentRemoveFavorite:
		c.removeFavorite(in.Name)
	case IntentSelectServer:
		if _, ok := c.m.Settings.Server(in.Name); ok && c.m.Settings.CurrentServer != in.Name {
			c.m.Settings.CurrentServer = in.Name
			c.save()
		}
	case IntentAddServer:
		c.askServer(ctx)
	case IntentRemoveServer:
		c.removeServer(in.Name)
	case IntentTogglePref:
		c.togglePref(in.Pref)
	case IntentOpenConfig:
		if c.cfg.Opener == nil {
			return
		}
		// On a first run neither the folder nor the file exists yet:
		// write the settings so there is something to open and edit. A
		// file Bore keeps its hands off (ErrNotSaved) is opened as it is.
		if c.cfg.Store != nil {
			if err := c.cfg.Store.Save(c.m.Settings); err != nil && !errors.Is(err, settings.ErrNotSaved) {
				c.alert("Could not create the settings file", err.Error()+".")
			}
		}
		if err := c.cfg.Opener.Open(c.cfg.ConfigDir); err != nil {
			c.alert("Could not open the config folder", fmt.Sprintf("%v. The settings are in %s.", err, c.cfg.ConfigDir))
		}
	case IntentAbout:
		c.alert("Bore "+c.m.Version, "Share a local TCP port on a public server. Wire-compatible with bore.")
	}
}

// startTunnel starts a tunnel through srv and returns its ID.
func (c *Controller) startTunnel(srv settings.Server, host string, port, remote uint16) (tunnel.TunnelID, bool) {
	cfg := tunnel.ClientConfig{
		Server:      srv.Host,
		ControlPort: srv.Port(),
		LocalHost:   localHost(host),
		LocalPort:   port,
		RemotePort:  remote,
		Secret:      srv.Secret,
		Logger:      c.log.With("local", net2(localHost(host), port)),
	}
	id, err := c.cfg.Engine.Start(cfg)
	if err != nil {
		c.alert("Could not share "+net2(localHost(host), port), err.Error())
		return 0, false
	}
	c.log.Info("tunnel started", "id", id, "local", net2(localHost(host), port), "server", srv.Key())
	return id, true
}

func net2(host string, port uint16) string {
	return localAddr(tunnel.Status{LocalHost: host, LocalPort: port})
}

func (c *Controller) stopTunnel(id tunnel.TunnelID) {
	c.cfg.Engine.Stop(id)
	c.forget(id)
	c.m.Snapshot.Tunnels = slices.DeleteFunc(slices.Clone(c.m.Snapshot.Tunnels),
		func(t tunnel.Status) bool { return t.ID == id })
}

// forget drops what the controller remembers about a tunnel.
func (c *Controller) forget(id tunnel.TunnelID) {
	delete(c.m.StopAfter, id)
	if _, ok := c.deadlines[id]; ok {
		delete(c.deadlines, id)
		c.resetTimer()
	}
	for k, tid := range c.m.FavoriteTunnels {
		if tid == id {
			delete(c.m.FavoriteTunnels, k)
		}
	}
}

func (c *Controller) setStopAfter(id tunnel.TunnelID, d time.Duration) {
	if _, ok := c.m.Snapshot.Find(id); !ok {
		return
	}
	if d <= 0 {
		delete(c.m.StopAfter, id)
		delete(c.deadlines, id)
	} else {
		c.m.StopAfter[id] = d
		c.deadlines[id] = time.Now().Add(d)
	}
	c.resetTimer()
}

// resetTimer arms the timer for the nearest Stop after deadline.
func (c *Controller) resetTimer() {
	c.timer.Stop()
	var next time.Time
	for _, t := range c.deadlines {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	if !next.IsZero() {
		c.timer.Reset(time.Until(next))
	}
}

func (c *Controller) stopExpired() {
	now := time.Now()
	for id, t := range c.deadlines {
		if t.After(now) {
			continue
		}
		st, ok := c.m.Snapshot.Find(id)
		d := c.m.StopAfter[id]
		c.stopTunnel(id)
		if ok {
			c.notify("Tunnel stopped", fmt.Sprintf("%s stopped after %s, as asked.", localAddr(st), labelFor(d)))
		}
	}
	c.resetTimer()
}

func labelFor(d time.Duration) string {
	for _, ch := range stopAfterChoices() {
		if ch.d == d {
			return ch.label
		}
	}
	return d.String()
}

func (c *Controller) showQR(id tunnel.TunnelID) {
	st, ok := c.m.Snapshot.Find(id)
	if !ok || st.PublicAddr() == "" || c.cfg.Opener == nil {
		return
	}
	dir := c.cfg.TempDir
	if dir == "" {
		dir = os.TempDir()
	}
	path := filepath.Join(dir, "bore-qr-"+strconv.Itoa(int(st.RemotePort))+".png")
	err := os.MkdirAll(dir, 0o700)
	if err == nil {
		err = qrcode.WriteFile(st.PublicAddr(), qrcode.Medium, 384, path)
	}
	if err == nil {
		err = c.cfg.Opener.Open(path)
	}
	if err != nil {
		c.alert("Could not show the QR code", fmt.Sprintf("%s: %v", st.PublicAddr(), err))
	}
}

// serverKeyOf finds the saved server a tunnel runs through.
func (c *Controller) serverKeyOf(st tunnel.Status) (string, bool) {
	for _, srv := range c.m.Settings.Servers {
		if srv.Host == st.Server && srv.Port() == controlPort(st.ControlPort) {
			return srv.Key(), true
		}
	}
	return "", false
}

func (c *Controller) saveFavorite(id tunnel.TunnelID) {
	st, ok := c.m.Snapshot.Find(id)
	if !ok {
		return
	}
	if _, saved := c.m.matchingFavorite(st); saved {
		return
	}
	key, ok := c.serverKeyOf(st)
	if !ok {
		c.alert("Could not save the favorite", "Its server is no longer in the Server menu; add it again first.")
		return
	}
	f := settings.Favorite{
		Name:       c.processName(st.LocalPort),
		LocalHost:  st.LocalHost,
		LocalPort:  st.LocalPort,
		Server:     key,
		RemotePort: st.RemotePort,
	}
	c.m.Settings.Favorites = append(slices.Clone(c.m.Settings.Favorites), f)
	c.m.Settings.Normalize()
	c.m.FavoriteTunnels[FavoriteKey(f)] = id
	c.save()
	c.notify("Favorite saved", favoriteLabel(f))
}

// processName is the name of the program listening on port, or "".
func (c *Controller) processName(port uint16) string {
	for _, p := range c.m.Ports {
		if p.Port == port && p.Process != "" {
			return p.Process
		}
	}
	return ""
}

func (c *Controller) favorite(key string) (settings.Favorite, bool) {
	for _, f := range c.m.Settings.Favorites {
		if FavoriteKey(f) == key {
			return f, true
		}
	}
	return settings.Favorite{}, false
}

func (c *Controller) startFavorite(f settings.Favorite) {
	srv, ok := c.m.Settings.Server(f.Server)
	if !ok {
		c.alert("Could not start "+favoriteLabel(f), "Its server is no longer saved; add it again in the Server menu.")
		return
	}
	if id, ok := c.startTunnel(srv, f.LocalHost, f.LocalPort, f.RemotePort); ok {
		c.m.FavoriteTunnels[FavoriteKey(f)] = id
	}
}

func (c *Controller) toggleFavorite(key string) {
	f, ok := c.favorite(key)
	if !ok {
		return
	}
	if id, running := c.m.FavoriteTunnels[key]; running {
		if _, ok := c.m.Snapshot.Find(id); ok {
			c.stopTunnel(id)
			return
		}
		delete(c.m.FavoriteTunnels, key)
	}
	c.startFavorite(f)
}

func (c *Controller) removeFavorite(key string) {
	before := len(c.m.Settings.Favorites)
	c.m.Settings.Favorites = slices.DeleteFunc(slices.Clone(c.m.Settings.Favorites),
		func(f settings.Favorite) bool { return FavoriteKey(f) == key })
	if len(c.m.Settings.Favorites) == before {
		return
	}
	delete(c.m.FavoriteTunnels, key)
	c.save()
}

func (c *Controller) removeServer(key string) {
	if len(c.m.Settings.Servers) < 2 {
		return
	}
	if _, ok := c.m.Settings.Server(key); !ok {
		return
	}
	favs := len(c.m.Settings.Favorites)
	c.m.Settings.Servers = slices.DeleteFunc(slices.Clone(c.m.Settings.Servers),
		func(s settings.Server) bool { return s.Key() == key })
	c.m.Settings.Normalize()
	delete(c.m.Reach, key)
	c.save()
	if n := favs - len(c.m.Settings.Favorites); n > 0 {
		c.notify("Server removed", fmt.Sprintf("Removed %s and %s that used it.", key, plural(n, "favorite")))
	}
}

func (c *Controller) togglePref(p Pref) {
	s := &c.m.Settings
	switch p {
	case PrefLaunchAtLogin:
		if c.cfg.Autostart == nil {
			return
		}
		var err error
		if s.LaunchAtLogin {
			err = c.cfg.Autostart.Disable()
		} else {
			err = c.cfg.Autostart.Enable()
		}
		if err != nil {
			c.alert("Could not change Launch at login", err.Error())
			return
		}
		s.LaunchAtLogin = !s.LaunchAtLogin
	case PrefCopyOnOpen:
		s.CopyOnOpen = !s.CopyOnOpen
	case PrefNotifications:
		s.Notifications = !s.Notifications
	case PrefNotifyOnConnection:
		s.NotifyOnConnection = !s.NotifyOnConnection
	default:
		return
	}
	c.save()
}

// send hands f to the loop unless the controller is stopping.
func (c *Controller) send(ctx context.Context, f func()) {
	select {
	case c.results <- f:
	case <-ctx.Done():
	}
}

// noDialogs tells the user that Bore cannot ask and what to do instead.
func (c *Controller) noDialogs(what string) {
	c.alert("Bore cannot ask for "+what,
		"No dialog program was found: install zenity (or kdialog or yad); Bore finds it at once. "+
			"You can edit the settings file instead: choose “Open config folder”.")
}

func (c *Controller) cancelled(err error) bool {
	return errors.Is(err, desktop.ErrCancelled)
}

// askPort asks for a port to share, in the background.
func (c *Controller) askPort(ctx context.Context) {
	if c.cfg.Dialogs == nil || c.cfg.Dialogs.Available() == "" {
		c.noDialogs("a port")
		return
	}
	d := c.cfg.Dialogs
	c.wg.Go(func() {
		// Bad input shows the dialog again with the error.
		text, err := desktop.AskValid(ctx, d, "Share a port", "Port to share (or host:port):", "", func(s string) error {
			_, _, err := desktop.ParsePortEntry(s)
			return err
		})
		if err != nil {
			if !c.cancelled(err) && ctx.Err() == nil {
				c.send(ctx, func() { c.alert("Could not ask for a port", err.Error()) })
			}
			return
		}
		host, port, _ := desktop.ParsePortEntry(text)
		c.send(ctx, func() {
			srv, _ := c.m.Settings.Server(c.m.Settings.CurrentServer)
			c.startTunnel(srv, host, port, 0)
		})
	})
}

// askServer asks for a server (and its secret) to add, in the background.
func (c *Controller) askServer(ctx context.Context) {
	if c.cfg.Dialogs == nil || c.cfg.Dialogs.Available() == "" {
		c.noDialogs("a server")
		return
	}
	d := c.cfg.Dialogs
	c.wg.Go(func() {
		fail := func(err error) {
			if !c.cancelled(err) && ctx.Err() == nil {
				c.send(ctx, func() { c.alert("Could not ask for a server", err.Error()) })
			}
		}
		text, err := desktop.AskValid(ctx, d, "Add server", "Server (host, or host:control-port):", "", func(s string) error {
			_, _, err := desktop.ParseServerEntry(s)
			return err
		})
		if err != nil {
			fail(err)
			return
		}
		host, port, _ := desktop.ParseServerEntry(text)
		secret, err := d.Password(ctx, "Add server", "Secret for "+host+" (leave empty if it has none):")
		if err != nil {
			fail(err)
			return
		}
		c.send(ctx, func() { c.addServer(ctx, settings.Server{Host: host, ControlPort: port, Secret: secret}) })
	})
}

func (c *Controller) addServer(ctx context.Context, srv settings.Server) {
	s := &c.m.Settings
	s.Servers = slices.DeleteFunc(slices.Clone(s.Servers), func(o settings.Server) bool { return o.Key() == srv.Key() })
	s.Servers = append(s.Servers, srv)
	s.Normalize()
	if _, ok := s.Server(srv.Key()); !ok {
		c.alert("Cannot add that server", srv.Key()+" is not a valid host name.")
		return
	}
	s.CurrentServer = srv.Key()
	c.save()
	delete(c.m.Reach, srv.Key())
	c.probe(ctx, srv)
}

// probeAll probes every saved server in the background.
func (c *Controller) probeAll(ctx context.Context) {
	for _, srv := range c.m.Settings.Servers {
		c.probe(ctx, srv)
	}
}

func (c *Controller) probe(ctx context.Context, srv settings.Server) {
	key := srv.Key()
	if c.cfg.Prober == nil || c.probing[key] {
		return
	}
	c.probing[key] = true
	p := c.cfg.Prober
	c.wg.Go(func() {
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		rtt, err := p.Probe(pctx, srv)
		cancel()
		c.send(ctx, func() {
			delete(c.probing, key)
			if _, ok := c.m.Settings.Server(key); !ok {
				return
			}
			r := Reach{RTT: rtt}
			if err != nil {
				r.Err = err.Error()
			}
			c.m.Reach[key] = r
		})
	})
}
