package app

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"

	"github.com/boretray/bore/app/settings"
	"github.com/boretray/bore/tunnel"
)

// This file is Update's servers area: choosing, adding and removing
// servers, and probing whether they can be reached.

func (u *update) serverClicked(in Intent) {
	switch in.Kind {
	case IntentSelectServer:
		if _, ok := u.m.Settings.Server(in.Server); ok && u.m.Settings.CurrentServer != in.Server {
			u.m.Settings.CurrentServer = in.Server
			u.save()
		}
	case IntentAddServer:
		u.do(Ask{Purpose: AskServer, Title: "Add server", Prompt: "Server (host, or host:control-port):"})
	case IntentRemoveServer:
		u.removeServer(in.Server)
	}
}

func (u *update) removeServer(key string) {
	if len(u.m.Settings.Servers) < 2 {
		return
	}
	if _, ok := u.m.Settings.Server(key); !ok {
		return
	}
	wasCurrent := u.m.Settings.CurrentServer == key
	favs := len(u.m.Settings.Favorites)
	u.m.Settings.Servers = slices.DeleteFunc(slices.Clone(u.m.Settings.Servers),
		func(s settings.Server) bool { return s.Key() == key })
	if wasCurrent {
		// Never pick another server behind the user's back: the next
		// Share would go somewhere they did not choose.
		u.m.Settings.CurrentServer = ""
	}
	u.m.Settings.Normalize()
	delete(u.m.Reach, key)
	u.save()
	body := "Removed " + key
	if n := favs - len(u.m.Settings.Favorites); n > 0 {
		body += fmt.Sprintf(" and %s that used it", plural(n, "favorite"))
	}
	body += "."
	if wasCurrent {
		body += " No server is chosen now: pick one in the Server menu before sharing."
	}
	// Removing asks nothing, so it always says what it did.
	u.alert("Server removed", body)
}

// serverAnswered takes the answers of "Add server": first the server, then
// its secret.
func (u *update) serverAnswered(e Answered) {
	if e.Err != nil {
		u.askFailed("a server", e.Err)
		return
	}
	if e.Ask.Purpose == AskServer {
		host, port, err := ParseServerEntry(e.Text)
		if err != nil {
			u.alert("Cannot add that server", err.Error())
			return
		}
		u.do(Ask{Purpose: AskSecret, Title: "Add server", Password: true,
			Prompt: "Secret for " + hostPort(settings.Server{Host: host, ControlPort: port}) + " (leave empty if it has none):",
			Server: settings.Server{Host: host, ControlPort: port}})
		return
	}
	srv := e.Ask.Server
	srv.Secret = e.Text
	u.addServer(srv)
}

// AddServer adds the server typed as entry ("host" or "host:port"), with
// secret, to s, replacing a saved one with the same key, and chooses it; it
// returns the new settings and the server's key. An empty secret keeps the
// one saved for that server, so running the same command again loses
// nothing. It is what Add server… does, for "bore tray --server".
func AddServer(s settings.Settings, entry, secret string) (settings.Settings, string, error) {
	host, port, err := ParseServerEntry(entry)
	if err != nil {
		return s, "", err
	}
	srv := settings.Server{Host: host, ControlPort: port, Secret: secret}
	if old, ok := s.Server(srv.Key()); ok && secret == "" {
		srv.Secret = old.Secret
	}
	s.Servers = slices.DeleteFunc(slices.Clone(s.Servers), func(o settings.Server) bool { return o.Key() == srv.Key() })
	s.Servers = append(s.Servers, srv)
	s.Normalize()
	if _, ok := s.Server(srv.Key()); !ok {
		return s, "", fmt.Errorf("%s is not a valid host name", srv.Key())
	}
	s.CurrentServer = srv.Key()
	return s, srv.Key(), nil
}

func (u *update) addServer(srv settings.Server) {
	s := &u.m.Settings
	s.Servers = slices.DeleteFunc(slices.Clone(s.Servers), func(o settings.Server) bool { return o.Key() == srv.Key() })
	s.Servers = append(s.Servers, srv)
	s.Normalize()
	if _, ok := s.Server(srv.Key()); !ok {
		u.alert("Cannot add that server", srv.Key()+" is not a valid host name.")
		return
	}
	s.CurrentServer = srv.Key()
	u.save()
	delete(u.m.Reach, srv.Key())
	// Say at once whether it can be used, not at the first Share.
	delete(u.m.Probing, srv.Key())
	u.m.Probing[srv.Key()] = true
	u.do(Probe{Server: srv, Announce: true})
}

// hostPort names a server with its control port always, 7835 included.
func hostPort(srv settings.Server) string {
	return net.JoinHostPort(srv.Host, strconv.Itoa(int(srv.Port())))
}

// probeKey probes the saved server whose key is key, if there is one.
func (u *update) probeKey(key string) {
	if srv, ok := u.m.Settings.Server(key); ok {
		u.probe(srv)
	}
}

// probeAll probes every saved server and schedules the next round.
func (u *update) probeAll() {
	for _, srv := range u.m.Settings.Servers {
		u.probe(srv)
	}
	u.m.NextProbe = u.now.Add(u.m.ProbeInterval)
}

// probe probes srv unless a probe of it is under way.
func (u *update) probe(srv settings.Server) {
	key := srv.Key()
	if u.m.Probing[key] {
		return
	}
	u.m.Probing[key] = true
	u.do(Probe{Server: srv})
}

func (u *update) probed(e Probed) {
	delete(u.m.Probing, e.Server)
	if _, ok := u.m.Settings.Server(e.Server); !ok {
		return
	}
	r := Reach{RTT: e.RTT}
	if e.Err != nil {
		r.Err, r.Refused = describe(e.Err), refusal(e.Err)
	}
	u.m.Reach[e.Server] = r
	if !e.Announce {
		return
	}
	switch {
	case e.Err == nil:
		u.notify("Server added", fmt.Sprintf("%s answers (%s) and is chosen for the next Share.", e.Server, formatRTT(e.RTT)))
	case r.Refused:
		title := e.Server + " refuses tunnels"
		if errors.Is(e.Err, tunnel.ErrInvalidSecret) {
			title = e.Server + " refused the secret"
		}
		u.alert(title,
			fmt.Sprintf("It answers, but %s. Tunnels through it will fail: remove it and add it again with the right secret.", r.Err))
	default:
		u.alert("Can't reach "+e.Server,
			fmt.Sprintf("%s. It is saved anyway; check the host and port, and that the server runs.", capitalize(r.Err)))
	}
}

// refusal reports errors that mean the server answered but will not take
// tunnels with this secret.
func refusal(err error) bool {
	var se *tunnel.ServerError
	return errors.As(err, &se) || errors.Is(err, tunnel.ErrAuthRequired) || errors.Is(err, tunnel.ErrNoAuthExpected)
}

// capitalize upper-cases the first letter of an ASCII sentence.
func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
