package app

import (
	"fmt"
	"slices"
	"time"

	"github.com/boretray/bore/app/settings"
	"github.com/boretray/bore/tunnel"
)

// This file is Update's tunnels area: sharing a port, the tunnel submenu's
// actions, Stop after, and what the user hears when the engine reports a
// change.

func (u *update) tunnelClicked(in Intent) {
	switch in.Kind {
	case IntentCopyAddress, IntentCopyURL:
		st, ok := u.m.Snapshot.Find(in.Tunnel)
		if !ok || st.PublicAddr() == "" {
			return
		}
		text := st.PublicAddr()
		if in.Kind == IntentCopyURL {
			text = publicURL(st)
		}
		u.do(CopyText{Text: text})
	case IntentShowQR:
		if st, ok := u.m.Snapshot.Find(in.Tunnel); ok && st.PublicAddr() != "" {
			u.do(ShowQR{Text: publicURL(st), Port: st.RemotePort})
		}
	case IntentStopAfter:
		u.setStopAfter(in.Tunnel, in.Duration)
	case IntentSaveFavorite:
		u.saveFavorite(in.Tunnel)
	case IntentStopTunnel:
		u.stopTunnel(in.Tunnel)
	case IntentSharePort:
		if srv, ok := u.m.currentServer(); ok {
			u.startTunnel(srv, in.Host, in.Port, 0, "")
		}
	case IntentOtherPort:
		u.do(Ask{Purpose: AskPort, Title: "Share a port", Prompt: "Port to share (or host:port):"})
	}
}

func (u *update) portAnswered(e Answered) {
	if e.Err != nil {
		u.askFailed("a port", e.Err)
		return
	}
	host, port, err := ParsePortEntry(e.Text)
	if err != nil {
		u.alert("Cannot share that port", err.Error())
		return
	}
	srv, ok := u.m.currentServer()
	if !ok {
		u.alert("Cannot share "+net2(host, port), noServerChosen)
		return
	}
	u.startTunnel(srv, host, port, 0, "")
}

// noServerChosen says what to do when Share has no server to go through.
const noServerChosen = "No server is chosen: pick one in the Server menu first."

// currentServer is the server Share goes through, if the user chose one.
func (m Model) currentServer() (settings.Server, bool) {
	if m.Settings.CurrentServer == "" {
		return settings.Server{}, false
	}
	return m.Settings.Server(m.Settings.CurrentServer)
}

// startTunnel asks the engine for a tunnel through srv; favorite is the key
// of the favorite it runs, or "".
func (u *update) startTunnel(srv settings.Server, host string, port, remote uint16, favorite string) {
	u.do(StartTunnel{Config: tunnelConfig(srv, host, port, remote), Favorite: favorite})
}

// tunnelConfig is the engine's configuration of a tunnel from host:port
// through srv.
func tunnelConfig(srv settings.Server, host string, port, remote uint16) tunnel.ClientConfig {
	return tunnel.ClientConfig{
		Server:      srv.Host,
		ControlPort: srv.Port(),
		LocalHost:   localHost(host),
		LocalPort:   port,
		RemotePort:  remote,
		Secret:      srv.Secret,
	}
}

func (u *update) tunnelStarted(e TunnelStarted) {
	if e.Start.Favorite != "" {
		u.m.FavoriteTunnels[e.Start.Favorite] = e.ID
	}
	if e.Start.Share != "" {
		u.m.Shares[e.ID] = e.Start.Share
	}
	if e.Start.Inspect {
		st, ok := u.m.Snapshot.Find(e.ID)
		if !ok {
			// Not in a report yet: what the menu will show.
			st = tunnel.Status{ID: e.ID, Server: e.Start.Config.Server, ControlPort: e.Start.Config.ControlPort,
				LocalHost: e.Start.Config.LocalHost, LocalPort: e.Start.Config.LocalPort}
		}
		u.startInspector(st, e.Start.OpenInspector)
	}
}

func (u *update) startFailed(s StartTunnel, err error) {
	what := net2(s.Config.LocalHost, s.Config.LocalPort)
	if s.Share != "" {
		what = shareName(s.Share)
	}
	u.alert("Could not share "+what, err.Error())
}

func net2(host string, port uint16) string {
	return localAddr(tunnel.Status{LocalHost: host, LocalPort: port})
}

func (u *update) stopTunnel(id tunnel.TunnelID) {
	if _, on := u.m.Inspecting[id]; on {
		u.do(StopInspector{Tunnel: id})
	}
	u.do(StopTunnel{ID: id})
	u.forget(id)
	u.m.Snapshot.Tunnels = slices.DeleteFunc(slices.Clone(u.m.Snapshot.Tunnels),
		func(t tunnel.Status) bool { return t.ID == id })
}

// forget drops what the model remembers about a tunnel.
func (u *update) forget(id tunnel.TunnelID) {
	delete(u.m.StopAfter, id)
	delete(u.m.Inspecting, id)
	delete(u.m.Shares, id)
	for k, tid := range u.m.FavoriteTunnels {
		if tid == id {
			delete(u.m.FavoriteTunnels, k)
		}
	}
}

func (u *update) setStopAfter(id tunnel.TunnelID, d time.Duration) {
	if _, ok := u.m.Snapshot.Find(id); !ok {
		return
	}
	if d <= 0 {
		delete(u.m.StopAfter, id)
		return
	}
	u.m.StopAfter[id] = StopTimer{After: d, At: u.now.Add(d)}
}

// stopExpired stops, in ID order, the tunnels whose Stop after time has come.
func (u *update) stopExpired() {
	var due []tunnel.TunnelID
	for id, t := range u.m.StopAfter {
		if !t.At.After(u.now) {
			due = append(due, id)
		}
	}
	slices.Sort(due)
	for _, id := range due {
		st, ok := u.m.Snapshot.Find(id)
		d := u.m.StopAfter[id].After
		name := u.m.localName(st)
		u.stopTunnel(id)
		if ok {
			u.notify("Tunnel stopped", fmt.Sprintf("%s stopped after %s, as asked.", name, labelFor(d)))
		}
	}
}

func labelFor(d time.Duration) string {
	for _, ch := range stopAfterChoices() {
		if ch.d == d {
			return ch.label
		}
	}
	return d.String()
}

// engineReported takes the engine's new report and tells the user what
// changed: a tunnel opened, came back (same address or not), failed, could
// not reach its local service, or got a visitor; and, once per server
// rather than once per tunnel, that a server was lost and came back.
func (u *update) engineReported(s tunnel.Snapshot) {
	prev := u.m.Snapshot
	u.m.Snapshot = s
	for _, st := range s.Tunnels {
		old, had := prev.Find(st.ID)
		u.announce(old, had, st)
	}
	for _, old := range prev.Tunnels {
		if _, ok := s.Find(old.ID); !ok {
			if _, on := u.m.Inspecting[old.ID]; on {
				u.do(StopInspector{Tunnel: old.ID})
			}
			if _, shared := u.m.Shares[old.ID]; shared {
				u.do(StopTunnel{ID: old.ID}) // its file server stops with it
			}
			u.forget(old.ID)
		}
	}
	u.endOutages()
}

func (u *update) announce(old tunnel.Status, had bool, st tunnel.Status) {
	local := u.m.localName(st)
	_, shared := u.m.Shares[st.ID]
	wasOpen := had && old.State == tunnel.StateOpen
	key := serverKey(st)
	switch {
	case st.State == tunnel.StateOpen && had && old.State == tunnel.StateReconnecting && old.RemotePort != 0:
		if old.RemotePort == st.RemotePort {
			if o, ok := u.m.Outages[key]; ok {
				// Told once for the whole server when the outage ends.
				o.Back++
				o.Last = st
				u.m.Outages[key] = o
				break
			}
			u.notify("Tunnel reconnected", fmt.Sprintf("%s reconnected — same address %s", local, st.PublicAddr()))
			break
		}
		if shared {
			u.announceShare(st, true)
			break
		}
		u.announceOpen(st, "%s reconnected, address changed — new one copied: %s",
			"%s reconnected, address changed to %s")
	case st.State == tunnel.StateOpen && !wasOpen && shared:
		u.announceShare(st, false)
	case st.State == tunnel.StateOpen && !wasOpen:
		u.announceOpen(st, "%s is public at %s — address copied", "%s is public at %s")
	case st.State == tunnel.StateReconnecting && (!had || old.State != tunnel.StateReconnecting):
		u.serverLost(st, wasOpen)
	case st.State == tunnel.StateFailed && (!had || old.State != tunnel.StateFailed):
		u.alert("Could not share "+local+" through "+key, failReason(st))
		u.probeKey(key)
	}
	if st.Misbehaving && (!had || !old.Misbehaving) {
		u.alert(key+" is misbehaving", capitalize(misbehavingReason(st))+".")
	}
	if st.LocalError != "" && (!had || old.LocalError == "") {
		u.alert("A visitor was turned away",
			fmt.Sprintf("A visitor arrived at %s, but %s. Start the service on %s; later visitors will get through.",
				st.PublicAddr(), st.LocalError, local))
	}
	if had && st.Total > old.Total && u.m.Settings.NotifyOnConnection {
		n := st.Total - old.Total
		body := fmt.Sprintf("A visitor connected to %s (%s).", st.PublicAddr(), local)
		if n > 1 {
			body = fmt.Sprintf("%d visitors connected to %s (%s).", n, st.PublicAddr(), local)
		}
		u.notify("New connection", body)
	}
}

// serverLost notes that st cannot reach its server. The first tunnel to
// lose a server starts an outage: the user hears of it once, and the server
// is probed again so the Server menu tells the truth.
func (u *update) serverLost(st tunnel.Status, wasOpen bool) {
	key := serverKey(st)
	if _, ok := u.m.Outages[key]; ok {
		return
	}
	u.m.Outages[key] = Outage{Since: u.now}
	defer u.probeKey(key)
	why := capitalize(reason(st))
	if why == "" {
		why = "No answer"
	}
	if !wasOpen && st.RemotePort == 0 {
		u.alert("Can't reach "+key+" — still trying",
			fmt.Sprintf("%s. %s will be shared as soon as the server answers.", why, localAddr(st)))
		return
	}
	// Count every live tunnel through the server: the others lose it in
	// the next moments, and they are told nothing more.
	n := 0
	for _, t := range u.m.Snapshot.Tunnels {
		if serverKey(t) == key && t.State != tunnel.StateFailed && t.State != tunnel.StateStopped {
			n++
		}
	}
	u.alert("Lost "+key+" — reconnecting",
		fmt.Sprintf("%s. Bore keeps trying for %s through it and asks for the same addresses.", why, plural(n, "tunnel")))
}

// endOutages ends the outages no tunnel is waiting on any more, with one
// notification per server for the tunnels that came back, and probes the
// server again.
func (u *update) endOutages() {
	var ended []string
	for key := range u.m.Outages {
		waiting := slices.ContainsFunc(u.m.Snapshot.Tunnels, func(t tunnel.Status) bool {
			return serverKey(t) == key && t.State == tunnel.StateReconnecting
		})
		if !waiting {
			ended = append(ended, key)
		}
	}
	slices.Sort(ended)
	for _, key := range ended {
		o := u.m.Outages[key]
		delete(u.m.Outages, key)
		u.probeKey(key)
		switch {
		case o.Back == 1:
			u.notify("Tunnel reconnected", fmt.Sprintf("%s reconnected — same address %s", localAddr(o.Last), o.Last.PublicAddr()))
		case o.Back > 1:
			u.notify(key+" is back", plural(o.Back, "tunnel")+" back on the same addresses.")
		}
	}
}

// announceOpen copies the address when the user wants it and says so;
// copied and plain are formats taking the local and public addresses.
func (u *update) announceOpen(st tunnel.Status, copied, plain string) {
	local, addr := u.m.localName(st), st.PublicAddr()
	if !u.m.Settings.CopyOnOpen {
		u.notify("Tunnel open", fmt.Sprintf(plain, local, addr))
		return
	}
	u.do(CopyText{Text: addr, Open: &OpenNote{
		Copied: fmt.Sprintf(copied, local, addr),
		Plain:  fmt.Sprintf(plain, local, addr),
	}})
}

func (u *update) copied(e Copied) {
	switch {
	case e.Copy.Open != nil && e.Copy.Open.Alert:
		body := e.Copy.Open.Copied
		if e.Err != nil {
			body = e.Copy.Open.Plain + fmt.Sprintf(" (could not copy it: %v)", e.Err)
		}
		u.alert("Share open", body)
	case e.Copy.Open != nil && e.Err == nil:
		u.notify("Tunnel open", e.Copy.Open.Copied)
	case e.Copy.Open != nil:
		u.notify("Tunnel open", e.Copy.Open.Plain+fmt.Sprintf(" (could not copy it: %v)", e.Err))
	case e.Err != nil:
		u.alert("Could not copy the address", fmt.Sprintf("%s: %v", e.Copy.Text, e.Err))
	}
}
