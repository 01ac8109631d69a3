package app

import (
	"errors"
	"time"

	"github.com/boretray/bore/app/settings"
	"github.com/boretray/bore/tunnel"
)

// Effect is work Update asks the loop to do. Effects that can fail are
// answered with a Failed event; some also with an event of their own, as
// each says.
type Effect interface{ isEffect() }

// StartTunnel starts a tunnel; answered with TunnelStarted. Favorite is the
// key of the favorite it runs, or "".
type StartTunnel struct {
	Config   tunnel.ClientConfig
	Favorite string
	// Share, when set, is a folder or file to serve read-only: the file
	// server is started on loopback first and the tunnel shares it
	// (Config's local side is ignored). It stops with the tunnel.
	Share string
	// Inspect turns the tunnel's inspector on as soon as it runs, and
	// OpenInspector then opens its page.
	Inspect, OpenInspector bool
}

// StopTunnel stops a tunnel, and the file server of a share; it cannot
// fail.
type StopTunnel struct{ ID tunnel.TunnelID }

// StartInspector turns the traffic inspector of Tunnel on: its page is
// served on loopback, on a free port. Target is the local service (where
// replays go) and Title names the tunnel on the page. Answered with
// InspectorStarted; Open is set when the page is to be opened then.
type StartInspector struct {
	Tunnel        tunnel.TunnelID
	Target, Title string
	Open          bool
}

// StopInspector turns the traffic inspector of Tunnel off; it cannot fail.
type StopInspector struct{ Tunnel tunnel.TunnelID }

// OpenURL opens URL in the default browser.
type OpenURL struct{ URL string }

// Pick asks the user for a folder (Folder) or a file with the desktop's
// file picker; answered with Picked. It fails with ErrNoDialogs when no
// picker program can be used.
type Pick struct {
	Folder bool
	Title  string
}

// CopyText puts Text on the clipboard; always answered with Copied. Open is
// set when Text is the address of a tunnel that just opened.
type CopyText struct {
	Text string
	Open *OpenNote
}

// OpenNote is the "Tunnel open" notification that follows a CopyText:
// Copied when the copy worked, Plain (and why not) when it did not.
type OpenNote struct {
	Copied, Plain string
	// Alert shows it even when informational notifications are off: the
	// answer to a share the user asked for.
	Alert bool
}

// Notify shows a notification. Alert marks errors and answers to explicit
// requests, shown even when informational notifications are off (Update
// leaves those out itself).
type Notify struct {
	Title, Body string
	Alert       bool
}

// SaveSettings writes the settings. BeforeOpen marks the write that
// "Open config folder" makes first, so a first run has a file to open.
type SaveSettings struct {
	Settings   settings.Settings
	BeforeOpen bool
}

// OpenPath opens a file or folder with the desktop's default application.
type OpenPath struct{ Path string }

// ShowQR draws a QR code of Text (a tunnel's address as an http:// URL,
// the same text as "Copy as URL", so a phone camera opens it; Port is the
// tunnel's public port) and shows it.
type ShowQR struct {
	Text string
	Port uint16
}

// AskPurpose says what an Ask is for.
type AskPurpose int

// What the app asks the user for.
const (
	// AskPort asks for a port (or host:port) to share.
	AskPort AskPurpose = iota + 1
	// AskServer asks for a server to add.
	AskServer
	// AskSecret asks for the secret of Server, about to be added.
	AskSecret
)

// Ask shows a dialog; answered with Answered. It fails with
// ErrNoDialogs when no dialog program can be used.
type Ask struct {
	Purpose       AskPurpose
	Title, Prompt string
	// Password hides what is typed.
	Password bool
	// Server is the server being added, for AskSecret.
	Server settings.Server
}

// Check returns the function that tells whether an answer to a is usable
// (the parser of what it asks for), or nil when any answer is. The dialog
// is shown again, with the error, until the answer passes.
func (a Ask) Check() func(string) error {
	switch a.Purpose {
	case AskPort:
		return func(s string) error { _, _, err := ParsePortEntry(s); return err }
	case AskServer:
		return func(s string) error { _, _, err := ParseServerEntry(s); return err }
	}
	return nil
}

// ErrNoDialogs is how an Ask fails when no dialog program can be used.
var ErrNoDialogs = errors.New("no dialog program")

// Probe checks that Server answers on its control port and takes its
// secret, timing the connect; answered with Probed. Announce is set when the
// user is to hear the result (a server just added).
type Probe struct {
	Server   settings.Server
	Announce bool
}

// SetAutostart starts the app at login (On) or stops doing so; answered
// with AutostartChanged.
type SetAutostart struct{ On bool }

// ArmTimer arms the one timer to fire at At (TimerFired), replacing any
// earlier arming; a zero At disarms it.
type ArmTimer struct{ At time.Time }

// Quit ends the loop: every tunnel stops and the app exits.
type Quit struct{}

func (StartTunnel) isEffect()    {}
func (StopTunnel) isEffect()     {}
func (CopyText) isEffect()       {}
func (Notify) isEffect()         {}
func (SaveSettings) isEffect()   {}
func (OpenPath) isEffect()       {}
func (ShowQR) isEffect()         {}
func (Ask) isEffect()            {}
func (Probe) isEffect()          {}
func (SetAutostart) isEffect()   {}
func (ArmTimer) isEffect()       {}
func (Quit) isEffect()           {}
func (StartInspector) isEffect() {}
func (StopInspector) isEffect()  {}
func (OpenURL) isEffect()        {}
func (Pick) isEffect()           {}
