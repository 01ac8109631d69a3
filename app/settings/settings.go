// Package settings holds the tray app's settings and favorite tunnels and
// stores them as a JSON file in the user's XDG config directory.
package settings

import (
	"cmp"
	"errors"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/adrg/xdg"

	"github.com/boretray/bore/tunnel"
)

// SchemaVersion is the version of the settings file this build writes. A file
// with a higher version comes from a newer Bore and is not loaded.
const SchemaVersion = 1

// DefaultServer is the public bore server used when none is configured.
const DefaultServer = "bore.pub"

// Server is a saved bore server.
type Server struct {
	Host        string `json:"host"`                   // host name or IP
	ControlPort uint16 `json:"control_port,omitempty"` // 0 = 7835
	Secret      string `json:"secret,omitempty"`       // never logged or shown
}

// Key identifies the server: "host", or "host:port" when ControlPort is set
// and is not 7835. IPv6 hosts with a port are bracketed ("[::1]:7000").
func (s Server) Key() string {
	if s.ControlPort == 0 || s.ControlPort == tunnel.DefaultControlPort {
		return s.Host
	}
	return net.JoinHostPort(s.Host, strconv.Itoa(int(s.ControlPort)))
}

// String returns the same as Key; it never includes the secret.
func (s Server) String() string { return s.Key() }

// Port returns the control port to dial: ControlPort, or 7835 when it is 0.
func (s Server) Port() uint16 {
	if s.ControlPort == 0 {
		return tunnel.DefaultControlPort
	}
	return s.ControlPort
}

// Favorite is a saved tunnel.
type Favorite struct {
	Name       string `json:"name"`
	LocalHost  string `json:"local_host,omitempty"` // "" = localhost
	LocalPort  uint16 `json:"local_port"`
	Server     string `json:"server"`                // a Server.Key()
	RemotePort uint16 `json:"remote_port,omitempty"` // 0 = any
	// Inspect starts the favorite with its traffic inspector on.
	Inspect bool `json:"inspect,omitempty"`
}

// Settings is everything the tray app remembers between runs.
type Settings struct {
	Version                int        `json:"version"`
	CurrentServer          string     `json:"current_server"` // a Server.Key()
	Servers                []Server   `json:"servers"`
	Favorites              []Favorite `json:"favorites"`
	StartFavoritesAtLaunch bool       `json:"start_favorites_at_launch"`
	LaunchAtLogin          bool       `json:"launch_at_login"`
	CopyOnOpen             bool       `json:"copy_on_open"`         // default true
	Notifications          bool       `json:"notifications"`        // default true
	NotifyOnConnection     bool       `json:"notify_on_connection"` // default false
}

// Default returns the settings of a first run: bore.pub as the only and
// current server, copy-on-open and notifications on.
func Default() Settings {
	return Settings{
		Version:       SchemaVersion,
		CurrentServer: DefaultServer,
		Servers:       []Server{{Host: DefaultServer}},
		Favorites:     []Favorite{},
		CopyOnOpen:    true,
		Notifications: true,
	}
}

// Normalize fills defaults and drops what cannot be used: servers without a
// host, duplicate servers (same Key, first wins), favorites with local port 0
// or an unknown server, and duplicate favorites (same local host, port and
// server). It makes sure CurrentServer names a saved server or is "" (none
// chosen yet: the user picks one before sharing), adding bore.pub, chosen,
// when the list is empty.
func (s *Settings) Normalize() {
	s.Version = SchemaVersion

	servers := make([]Server, 0, len(s.Servers)+1)
	seen := make(map[string]bool, len(s.Servers))
	for _, srv := range s.Servers {
		srv.Host = strings.TrimSpace(srv.Host)
		srv.Host = strings.TrimSuffix(strings.TrimPrefix(srv.Host, "["), "]")
		if srv.Host == "" || strings.ContainsAny(srv.Host, " \t\r\n/") {
			continue
		}
		if srv.ControlPort == tunnel.DefaultControlPort {
			srv.ControlPort = 0
		}
		k := srv.Key()
		if seen[k] {
			continue
		}
		seen[k] = true
		servers = append(servers, srv)
	}
	if len(servers) == 0 {
		servers = append(servers, Server{Host: DefaultServer})
		seen[DefaultServer] = true
		if s.CurrentServer == "" {
			s.CurrentServer = DefaultServer
		}
	}
	s.Servers = servers
	if s.CurrentServer != "" && !seen[s.CurrentServer] {
		s.CurrentServer = servers[0].Key()
	}

	favs := make([]Favorite, 0, len(s.Favorites))
	type favKey struct {
		host   string
		port   uint16
		server string
	}
	seenFav := make(map[favKey]bool, len(s.Favorites))
	for _, f := range s.Favorites {
		f.Name = strings.TrimSpace(f.Name)
		f.LocalHost = strings.TrimSpace(f.LocalHost)
		if f.LocalPort == 0 {
			continue
		}
		if f.Server == "" {
			f.Server = cmp.Or(s.CurrentServer, servers[0].Key())
		}
		if !seen[f.Server] {
			continue
		}
		k := favKey{f.LocalHost, f.LocalPort, f.Server}
		if f.LocalHost == "localhost" {
			k.host = ""
		}
		if seenFav[k] {
			continue
		}
		seenFav[k] = true
		if f.Name == "" {
			f.Name = strconv.Itoa(int(f.LocalPort))
		}
		favs = append(favs, f)
	}
	s.Favorites = favs
}

// Server returns the saved server whose Key is key.
func (s Settings) Server(key string) (Server, bool) {
	for _, srv := range s.Servers {
		if srv.Key() == key {
			return srv, true
		}
	}
	return Server{}, false
}

// DefaultPath returns where the settings live: bore/config.json in the XDG
// config directory ($XDG_CONFIG_HOME, ~/.config on Linux, ~/Library/Application
// Support on macOS, %LOCALAPPDATA% on Windows). It does not create anything.
func DefaultPath() (string, error) {
	if xdg.ConfigHome == "" {
		return "", errors.New("cannot find the config directory: set HOME or XDG_CONFIG_HOME")
	}
	return filepath.Join(xdg.ConfigHome, "bore", "config.json"), nil
}
