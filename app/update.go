package app

import (
	"errors"
	"fmt"
	"time"

	"github.com/boretray/bore/app/settings"
)

// Update applies e to m and returns the new Model and the Effects to carry
// out, in order. It is pure: no I/O, no goroutines, no clock but now, and m
// itself is left unchanged.
func Update(m Model, e Event, now time.Time) (Model, []Effect) {
	u := &update{m: m.clone(), now: now}
	u.m.Now = now
	switch e := e.(type) {
	case Started:
		u.started(e)
	case Clicked:
		u.clicked(e.Intent)
	case EngineReported:
		u.engineReported(e.Snapshot)
	case PortsChanged:
		u.m.Ports = e.Ports
	case TimerFired:
		u.timerFired()
	case Probed:
		u.probed(e)
	case Answered:
		u.answered(e)
	case TunnelStarted:
		u.tunnelStarted(e)
	case Copied:
		u.copied(e)
	case InspectorStarted:
		u.inspectorStarted(e)
	case Picked:
		u.picked(e)
	case AutostartChanged:
		u.autostartChanged(e.On)
	case Failed:
		u.failed(e)
	}
	u.armTimer()
	return u.m, u.fx
}

// update is one run of Update: the model being changed and the effects so
// far.
type update struct {
	m   Model
	fx  []Effect
	now time.Time
}

func (u *update) do(e ...Effect) { u.fx = append(u.fx, e...) }

// notify shows an informational notification, when the user wants them.
func (u *update) notify(title, body string) {
	if u.m.Settings.Notifications {
		u.do(Notify{Title: title, Body: body})
	}
}

// alert shows a notification even when informational ones are off: it
// reports an error or answers an explicit request.
func (u *update) alert(title, body string) {
	u.do(Notify{Title: title, Body: body, Alert: true})
}

// save writes the settings.
func (u *update) save() { u.do(SaveSettings{Settings: u.m.Settings}) }

func (u *update) started(e Started) {
	if e.LoadErr != nil {
		title := "Bore started with default settings"
		if le := (*settings.LoadError)(nil); errors.As(e.LoadErr, &le) && le.Err == nil {
			// Only some parts were unreadable: everything else is kept.
			title = "Bore left out part of its settings"
		}
		u.alert(title, e.LoadErr.Error())
	}
	if srv, ok := u.m.Settings.Server(e.Added); ok && e.Added != "" {
		u.m.Probing[e.Added] = true
		u.do(Probe{Server: srv, Announce: true})
	}
	u.probeAll()
	if u.m.Settings.StartFavoritesAtLaunch {
		for _, f := range u.m.Settings.Favorites {
			u.startFavorite(f, false)
		}
	}
}

func (u *update) clicked(in Intent) {
	if !Render(u.m).offers(in) {
		return
	}
	switch in.Kind {
	case IntentCopyAddress, IntentCopyURL, IntentShowQR, IntentStopAfter,
		IntentSaveFavorite, IntentStopTunnel, IntentSharePort, IntentOtherPort:
		u.tunnelClicked(in)
	case IntentToggleFavorite, IntentToggleStartFavorites, IntentRemoveFavorite:
		u.favoriteClicked(in)
	case IntentSelectServer, IntentAddServer, IntentRemoveServer:
		u.serverClicked(in)
	case IntentTogglePref:
		u.togglePref(in.Pref)
	case IntentOpenConfig:
		// On a first run neither the folder nor the file exists yet:
		// write the settings so there is something to open and edit.
		u.do(SaveSettings{Settings: u.m.Settings, BeforeOpen: true})
		u.do(OpenPath{Path: u.m.ConfigDir})
	case IntentAbout:
		u.alert("Bore "+u.m.Version, "Share a local TCP port on a public server. Wire-compatible with bore.")
	case IntentQuit:
		u.do(Quit{})
	case IntentToggleInspect:
		u.toggleInspect(in.Tunnel, true)
	case IntentOpenInspector:
		u.openInspector(in.Tunnel)
	case IntentToggleFavoriteInspect:
		u.toggleFavoriteInspect(in.Favorite)
	case IntentShareFolder, IntentShareFile:
		u.shareClicked(in.Kind == IntentShareFolder)
	}
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

func (u *update) answered(e Answered) {
	switch e.Ask.Purpose {
	case AskPort:
		u.portAnswered(e)
	case AskServer, AskSecret:
		u.serverAnswered(e)
	}
}

// askFailed reports a dialog that could not be shown or failed; a
// cancelled one is not worth a word.
func (u *update) askFailed(what string, err error) {
	if errors.Is(err, ErrCancelled) {
		return
	}
	if errors.Is(err, ErrNoDialogs) {
		u.alert("Bore cannot ask for "+what,
			"No dialog program was found: install zenity (or kdialog or yad); Bore finds it at once. "+
				"You can edit the settings file instead: choose “Open config folder”.")
		return
	}
	u.alert("Could not ask for "+what, err.Error())
}

func (u *update) failed(e Failed) {
	switch f := e.Effect.(type) {
	case StartTunnel:
		u.startFailed(f, e.Err)
	case SaveSettings:
		if f.BeforeOpen {
			// A file Bore keeps its hands off (ErrNotSaved) is opened as
			// it is; the user heard why at start.
			if !errors.Is(e.Err, settings.ErrNotSaved) {
				u.alert("Could not create the settings file", e.Err.Error()+".")
			}
			return
		}
		u.alert("Bore could not save your settings",
			fmt.Sprintf("%v. The change applies until Bore quits.", e.Err))
	case OpenPath:
		u.alert("Could not open the config folder", fmt.Sprintf("%v. The settings are in %s.", e.Err, f.Path))
	case ShowQR:
		u.alert("Could not show the QR code", fmt.Sprintf("%s: %v", f.Text, e.Err))
	case Ask:
		u.answered(Answered{Ask: f, Err: e.Err})
	case SetAutostart:
		u.alert("Could not change Launch at login", e.Err.Error())
	case Probe:
		delete(u.m.Probing, f.Server.Key()) // no prober: not probed
	case StartInspector:
		u.inspectorFailed(f, e.Err)
	case OpenURL:
		u.openURLFailed(f, e.Err)
	case Pick:
		u.picked(Picked{Pick: f, Err: e.Err})
	}
}

// timerFired stops the tunnels whose Stop after time has come and probes
// the servers when that is due.
func (u *update) timerFired() {
	u.m.TimerAt = time.Time{} // it fired: not armed any more
	u.stopExpired()
	if !u.m.NextProbe.IsZero() && !u.now.Before(u.m.NextProbe) {
		u.probeAll()
	}
}

// armTimer arms the timer for the nearest deadline, when that changed: the
// next probe, a Stop after time, or the next minute a Stop after's "time
// left" changes.
func (u *update) armTimer() {
	next := u.m.NextProbe
	for _, t := range u.m.StopAfter {
		at := t.At
		if left := t.At.Sub(u.now); left > 0 {
			// The label shows whole minutes rounded up: it changes
			// at At - k minutes.
			k := (left+time.Minute-1)/time.Minute - 1
			at = t.At.Add(-k * time.Minute)
		}
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	if !next.Equal(u.m.TimerAt) {
		u.m.TimerAt = next
		u.do(ArmTimer{At: next})
	}
}
