package app

import (
	"context"
	"errors"
	"log/slog"
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
// Entry shows its dialog until check (nil: none) accepts the answer: after
// bad input it shows it again with check's error above the prompt and the
// answer filled in.
type Dialogs interface {
	Available() string
	Entry(ctx context.Context, title, prompt, initial string, check func(string) error) (string, error)
	Password(ctx context.Context, title, prompt string) (string, error)
}

// Opener opens a file or folder with the desktop's default application.
type Opener interface {
	Open(path string) error
}

// QRShower draws a QR code of text (a tunnel's address as a URL; port is
// its public port) and shows it.
type QRShower interface {
	ShowQR(text string, port uint16) error
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

// Prober checks that a server answers on its control port and takes its
// secret, and measures how long the TCP connect took.
type Prober interface {
	Probe(ctx context.Context, srv settings.Server) (time.Duration, error)
}

// Inspector turns the traffic inspector of a running tunnel on and off.
// Inspect serves the page on loopback, on a free port, and returns its URL
// (with the token that opens it); target is the tunnel's local service,
// where replays go, and title names the tunnel on the page.
type Inspector interface {
	Inspect(id tunnel.TunnelID, target, title string) (url string, err error)
	StopInspecting(id tunnel.TunnelID)
}

// Picker asks the user for a folder or a file to share with the desktop's
// file picker. Available returns "" when no picker program can be used; a
// cancelled picker returns an error wrapping ErrCancelled.
type Picker interface {
	Available() string
	Pick(ctx context.Context, folder bool, title string) (string, error)
}

// FileServer serves a folder, or one file, read-only on a loopback port
// for a tunnel to share; stop stops it.
type FileServer interface {
	Serve(path string) (port uint16, stop func(), err error)
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
	// Added is the key of a server added at start (bore tray --server),
	// or "": the user hears whether it can be used.
	Added string
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
	// Inspector turns tunnels' traffic inspectors on and off; the page
	// opens through Opener.
	Inspector Inspector
	Picker    Picker
	Files     FileServer
}
