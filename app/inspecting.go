package app

import (
	"fmt"
	"net"
	"net/url"
	"strconv"

	"github.com/boretray/bore/tunnel"
)

// This file is Update's inspector area: turning a tunnel's traffic
// inspector on and off, opening its page, and the favorites' saved
// "Inspect traffic" option.

// toggleInspect turns the inspector of tunnel id on, opening its page
// when open is set, or off.
func (u *update) toggleInspect(id tunnel.TunnelID, open bool) {
	st, ok := u.m.Snapshot.Find(id)
	if !ok {
		return
	}
	if _, on := u.m.Inspecting[id]; on {
		delete(u.m.Inspecting, id)
		u.do(StopInspector{Tunnel: id})
		return
	}
	u.startInspector(st, open)
}

// startInspector turns the inspector of st on.
func (u *update) startInspector(st tunnel.Status, open bool) {
	u.m.Inspecting[st.ID] = ""
	title := u.m.localName(st)
	if a := st.PublicAddr(); a != "" {
		title += " → " + a
	}
	u.do(StartInspector{Tunnel: st.ID, Target: localAddr(st), Title: title, Open: open})
}

func (u *update) inspectorStarted(e InspectorStarted) {
	id := e.Start.Tunnel
	if _, on := u.m.Inspecting[id]; !on {
		// Turned off, or the tunnel stopped, while it started.
		u.do(StopInspector{Tunnel: id})
		return
	}
	u.m.Inspecting[id] = e.URL
	if e.Start.Open {
		u.do(OpenURL{URL: e.URL})
	}
}

func (u *update) openInspector(id tunnel.TunnelID) {
	if url := u.m.Inspecting[id]; url != "" {
		u.do(OpenURL{URL: url})
	}
}

func (u *update) inspectorFailed(s StartInspector, err error) {
	delete(u.m.Inspecting, s.Tunnel)
	u.alert("Could not inspect "+s.Title, err.Error())
}

func (u *update) openURLFailed(o OpenURL, err error) {
	u.alert("Could not open the inspector in a browser",
		fmt.Sprintf("%v. Open %s in your browser yourself.", err, o.URL))
}

// toggleFavoriteInspect flips a favorite's saved "Inspect traffic" option
// and, when the favorite runs, turns its inspector on or off to match.
func (u *update) toggleFavoriteInspect(key string) {
	for i, f := range u.m.Settings.Favorites {
		if FavoriteKey(f) != key {
			continue
		}
		favs := append(u.m.Settings.Favorites[:0:0], u.m.Settings.Favorites...)
		favs[i].Inspect = !f.Inspect
		u.m.Settings.Favorites = favs
		u.save()
		if id, running := u.m.FavoriteTunnels[key]; running {
			if _, on := u.m.Inspecting[id]; on != favs[i].Inspect {
				u.toggleInspect(id, true)
			}
		}
		return
	}
}

// inspectorPort is the loopback port an inspector's page is served on, or
// 0 when url names none.
func inspectorPort(page string) uint16 {
	pu, err := url.Parse(page)
	if err != nil {
		return 0
	}
	_, port, err := net.SplitHostPort(pu.Host)
	if err != nil {
		return 0
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return 0
	}
	return uint16(n)
}
