package app

import (
	"slices"
	"strconv"

	"github.com/boretray/bore/app/settings"
	"github.com/boretray/bore/tunnel"
)

// This file is Update's favorites area: saving a tunnel as a favorite,
// starting and stopping favorites, removing them.

func (u *update) favoriteClicked(in Intent) {
	switch in.Kind {
	case IntentToggleFavorite:
		u.toggleFavorite(in.Favorite)
	case IntentToggleStartFavorites:
		u.m.Settings.StartFavoritesAtLaunch = !u.m.Settings.StartFavoritesAtLaunch
		u.save()
	case IntentRemoveFavorite:
		u.removeFavorite(in.Favorite)
	}
}

// serverKeyOf finds the saved server a tunnel runs through.
func (m Model) serverKeyOf(st tunnel.Status) (string, bool) {
	for _, srv := range m.Settings.Servers {
		if srv.Host == st.Server && srv.Port() == controlPort(st.ControlPort) {
			return srv.Key(), true
		}
	}
	return "", false
}

// processName is the name of the program listening on port, or "".
func (m Model) processName(port uint16) string {
	for _, p := range m.Ports {
		if p.Port == port && p.Process != "" {
			return p.Process
		}
	}
	return ""
}

func (m Model) favorite(key string) (settings.Favorite, bool) {
	for _, f := range m.Settings.Favorites {
		if FavoriteKey(f) == key {
			return f, true
		}
	}
	return settings.Favorite{}, false
}

func (u *update) saveFavorite(id tunnel.TunnelID) {
	st, ok := u.m.Snapshot.Find(id)
	if !ok {
		return
	}
	if _, saved := u.m.matchingFavorite(st); saved {
		return
	}
	key, ok := u.m.serverKeyOf(st)
	if !ok {
		u.alert("Could not save the favorite", "Its server is no longer in the Server menu; add it again first.")
		return
	}
	name := ""
	if p := u.m.processName(st.LocalPort); p != "" {
		// "python3 :18080": a bare process name tells two favorites apart
		// no better than nothing.
		name = p + " :" + strconv.Itoa(int(st.LocalPort))
	}
	f := settings.Favorite{
		Name:       name,
		LocalHost:  st.LocalHost,
		LocalPort:  st.LocalPort,
		Server:     key,
		RemotePort: st.RemotePort,
	}
	_, f.Inspect = u.m.Inspecting[id]
	u.m.Settings.Favorites = append(slices.Clone(u.m.Settings.Favorites), f)
	u.m.Settings.Normalize()
	u.m.FavoriteTunnels[FavoriteKey(f)] = id
	u.save()
	u.notify("Favorite saved", favoriteLabel(f))
}

// startFavorite starts f; a favorite saved with "Inspect traffic" starts
// inspected, with its page opened when open is set (started by a click,
// not at launch).
func (u *update) startFavorite(f settings.Favorite, open bool) {
	srv, ok := u.m.Settings.Server(f.Server)
	if !ok {
		u.alert("Could not start "+favoriteLabel(f), "Its server is no longer saved; add it again in the Server menu.")
		return
	}
	u.do(StartTunnel{Config: tunnelConfig(srv, f.LocalHost, f.LocalPort, f.RemotePort),
		Favorite: FavoriteKey(f), Inspect: f.Inspect, OpenInspector: f.Inspect && open})
}

func (u *update) toggleFavorite(key string) {
	f, ok := u.m.favorite(key)
	if !ok {
		return
	}
	if id, running := u.m.FavoriteTunnels[key]; running {
		if _, ok := u.m.Snapshot.Find(id); ok {
			u.stopTunnel(id)
			return
		}
		delete(u.m.FavoriteTunnels, key)
	}
	u.startFavorite(f, true)
}

func (u *update) removeFavorite(key string) {
	before := len(u.m.Settings.Favorites)
	u.m.Settings.Favorites = slices.DeleteFunc(slices.Clone(u.m.Settings.Favorites),
		func(f settings.Favorite) bool { return FavoriteKey(f) == key })
	if len(u.m.Settings.Favorites) == before {
		return
	}
	delete(u.m.FavoriteTunnels, key)
	u.save()
}
