package app

import (
	"time"

	"github.com/boretray/bore/tunnel"
)

// Event is something that happened, handed to Update: a click, a report
// from the engine or the port scanner, the answer of a dialog or a probe, the
// timer, or the result of an Effect.
type Event interface{ isEvent() }

// Started is the first event: the app has just started. LoadErr is the
// error loading the settings returned, if any; the user hears of it once.
// Added is the key of a server added from the command line, or "": the
// user hears whether it can be used, as after Add server….
type Started struct {
	LoadErr error
	Added   string
}

// Clicked is a click on a menu entry. Clicks that do not match an enabled
// entry of the menu Render draws for the model are ignored, so a click on a
// disabled or vanished item does nothing.
type Clicked struct{ Intent Intent }

// EngineReported is the engine's new snapshot of every tunnel.
type EngineReported struct{ Snapshot tunnel.Snapshot }

// PortsChanged lists the TCP ports listening now.
type PortsChanged struct{ Ports []Port }

// TimerFired says the timer armed by ArmTimer went off.
type TimerFired struct{}

// Probed is the result of a Probe.
type Probed struct {
	// Server is the key of the server probed.
	Server string
	RTT    time.Duration
	Err    error
	// Announce is the Probe's: the user hears the result.
	Announce bool
}

// Answered is what the user answered to an Ask. Err wraps ErrCancelled
// when the dialog was cancelled.
type Answered struct {
	Ask  Ask
	Text string
	Err  error
}

// TunnelStarted says the engine accepted a StartTunnel, under ID.
type TunnelStarted struct {
	Start StartTunnel
	ID    tunnel.TunnelID
}

// InspectorStarted says a StartInspector worked: the page is at URL.
type InspectorStarted struct {
	Start StartInspector
	URL   string
}

// Picked is what the user chose in a Pick: Path, or an Err wrapping
// ErrCancelled when the picker was cancelled.
type Picked struct {
	Pick Pick
	Path string
	Err  error
}

// Copied is the outcome of a CopyText: Err is nil when it worked.
type Copied struct {
	Copy CopyText
	Err  error
}

// AutostartChanged says SetAutostart worked.
type AutostartChanged struct{ On bool }

// Failed says an Effect could not be carried out, and why.
type Failed struct {
	Effect Effect
	Err    error
}

func (Started) isEvent()          {}
func (Clicked) isEvent()          {}
func (EngineReported) isEvent()   {}
func (PortsChanged) isEvent()     {}
func (TimerFired) isEvent()       {}
func (Probed) isEvent()           {}
func (Answered) isEvent()         {}
func (TunnelStarted) isEvent()    {}
func (Copied) isEvent()           {}
func (InspectorStarted) isEvent() {}
func (Picked) isEvent()           {}
func (AutostartChanged) isEvent() {}
func (Failed) isEvent()           {}
