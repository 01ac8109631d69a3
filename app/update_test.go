package app

import (
	"errors"
	"fmt"
	"net"
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/boretray/bore/app/settings"
	"github.com/boretray/bore/tunnel"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// withTunnels returns the base model showing tunnels, as after an engine
// report.
func withTunnels(tunnels ...tunnel.Status) Model {
	m := baseModel()
	m.Snapshot.Tunnels = tunnels
	return m
}

func click(in Intent) Event { return Clicked{Intent: in} }

func saved(m Model) Effect { return SaveSettings{Settings: m.Settings} }

func alert(title, body string) Effect { return Notify{Title: title, Body: body, Alert: true} }

func info(title, body string) Effect { return Notify{Title: title, Body: body} }

var webFav = settings.Favorite{Name: "web", LocalHost: "localhost", LocalPort: 3000, Server: "bore.pub", RemotePort: 41234}

func withFavorite(running bool) Model {
	m := baseModel()
	m.Settings.Favorites = []settings.Favorite{webFav}
	if running {
		m.Snapshot.Tunnels = []tunnel.Status{openTunnel(1, 3000, 41234)}
		m.FavoriteTunnels[FavoriteKey(webFav)] = 1
	}
	return m
}

func withTwoServers() Model {
	m := baseModel()
	m.Settings.Servers = append(m.Settings.Servers, settings.Server{Host: "tun.example.com", ControlPort: 7000, Secret: "hunter2"})
	m.Settings.Normalize()
	return m
}

func failedStatus(id tunnel.TunnelID, err error) tunnel.Status {
	st := connecting(id, 3000)
	st.State, st.Err = tunnel.StateFailed, err
	return st
}

type updateCase struct {
	name  string
	model Model
	event Event
	// check looks at the new model; nil checks nothing.
	check func(t *testing.T, m Model)
	// want are the effects expected, given the new model.
	want func(m Model) []Effect
}

func none(Model) []Effect { return nil }

// partialLoad is a settings file of which one favorite was unreadable.
var partialLoad = &settings.LoadError{Path: "/c/bore/config.json", Backup: "/c/bore/config.json.bad-1",
	Dropped: []string{"favorite 1 (local_port should be a number)"}}

func fx(e ...Effect) func(Model) []Effect { return func(Model) []Effect { return e } }

func runUpdateCases(t *testing.T, cases []updateCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.model.clone()
			m, got := Update(tt.model, tt.event, t0)
			if !reflect.DeepEqual(before, tt.model.clone()) {
				t.Error("Update changed the model it was given")
			}
			if want := tt.want(m); !reflect.DeepEqual(got, want) {
				t.Errorf("effects:\n got %s\nwant %s", fmtFx(got), fmtFx(want))
			}
			if tt.check != nil {
				tt.check(t, m)
			}
		})
	}
}

func fmtFx(fx []Effect) string {
	s := ""
	for _, f := range fx {
		s += fmt.Sprintf("\n\t%T%+v", f, f)
	}
	if s == "" {
		return "none"
	}
	return s
}

func TestUpdateTunnels(t *testing.T) {
	t.Parallel()
	open1 := openTunnel(1, 3000, 41234)
	noCopy := withTunnels(connecting(1, 3000))
	noCopy.Settings.CopyOnOpen = false
	timed := withTunnels(open1, openTunnel(2, 8000, 41235))
	timed.StopAfter[1] = StopTimer{After: 15 * time.Minute, At: t0}
	timed.StopAfter[2] = StopTimer{After: time.Hour, At: t0.Add(time.Hour)}
	timed.TimerAt = t0
	reconnecting := open1
	reconnecting.State = tunnel.StateReconnecting
	runUpdateCases(t, []updateCase{
		{name: "copy_address", model: withTunnels(open1),
			event: click(Intent{Kind: IntentCopyAddress, Tunnel: 1}),
			want:  fx(CopyText{Text: "bore.pub:41234"})},
		{name: "copy_url", model: withTunnels(open1),
			event: click(Intent{Kind: IntentCopyURL, Tunnel: 1}),
			want:  fx(CopyText{Text: "http://bore.pub:41234"})},
		{name: "copy_without_address_is_ignored", model: withTunnels(connecting(1, 3000)),
			event: click(Intent{Kind: IntentCopyAddress, Tunnel: 1}), want: none},
		{name: "copy_failed", model: withTunnels(open1),
			event: Copied{Copy: CopyText{Text: "bore.pub:41234"}, Err: errors.New("no display")},
			want:  fx(alert("Could not copy the address", "bore.pub:41234: no display"))},
		{name: "show_qr", model: withTunnels(open1),
			event: click(Intent{Kind: IntentShowQR, Tunnel: 1}),
			want:  fx(ShowQR{Text: "http://bore.pub:41234", Port: 41234})},
		{name: "qr_failed", model: withTunnels(open1),
			event: Failed{Effect: ShowQR{Text: "http://bore.pub:41234"}, Err: errors.New("no viewer")},
			want:  fx(alert("Could not show the QR code", "http://bore.pub:41234: no viewer"))},
		{name: "stop_after_arms_the_timer", model: withTunnels(open1),
			event: click(Intent{Kind: IntentStopAfter, Tunnel: 1, Duration: 15 * time.Minute}),
			check: func(t *testing.T, m Model) {
				if got, want := m.StopAfter[1], (StopTimer{After: 15 * time.Minute, At: t0.Add(15 * time.Minute)}); got != want {
					t.Errorf("StopAfter = %+v, want %+v", got, want)
				}
			},
			want: fx(ArmTimer{At: t0.Add(time.Minute)})},
		{name: "stop_after_never_disarms", model: timed,
			event: click(Intent{Kind: IntentStopAfter, Tunnel: 1, Duration: 0}),
			want:  fx(ArmTimer{At: t0.Add(time.Minute)})},
		{name: "timer_stops_the_expired_tunnel", model: timed, event: TimerFired{},
			check: func(t *testing.T, m Model) {
				if _, ok := m.Snapshot.Find(1); ok {
					t.Error("stopped tunnel still shown")
				}
			},
			want: fx(StopTunnel{ID: 1},
				info("Tunnel stopped", "localhost:3000 stopped after 15 min, as asked."),
				ArmTimer{At: t0.Add(time.Minute)})},
		{name: "stop", model: withTunnels(open1),
			event: click(Intent{Kind: IntentStopTunnel, Tunnel: 1}), want: fx(StopTunnel{ID: 1})},
		{name: "stop_unknown_is_ignored", model: withTunnels(open1),
			event: click(Intent{Kind: IntentStopTunnel, Tunnel: 9}), want: none},
		{name: "share_port", model: func() Model {
			m := withTwoServers()
			m.Settings.CurrentServer = "tun.example.com:7000"
			m.Ports = []Port{{Port: 3000, Addr: "127.0.0.1"}}
			return m
		}(), event: click(Intent{Kind: IntentSharePort, Host: "localhost", Port: 3000}),
			want: fx(StartTunnel{Config: tunnel.ClientConfig{Server: "tun.example.com", ControlPort: 7000,
				LocalHost: "localhost", LocalPort: 3000, Secret: "hunter2"}})},
		{name: "share_port_not_listed_is_ignored", model: baseModel(),
			event: click(Intent{Kind: IntentSharePort, Port: 1234}), want: none},
		{name: "start_failed", model: baseModel(),
			event: Failed{Effect: StartTunnel{Config: tunnel.ClientConfig{LocalHost: "localhost", LocalPort: 3000}}, Err: errors.New("boom")},
			want:  fx(alert("Could not share localhost:3000", "boom"))},
		{name: "other_port_asks", model: baseModel(), event: click(Intent{Kind: IntentOtherPort}),
			want: fx(Ask{Purpose: AskPort, Title: "Share a port", Prompt: "Port to share (or host:port):"})},
		{name: "other_port_answered", model: baseModel(),
			event: Answered{Ask: Ask{Purpose: AskPort}, Text: "192.168.1.5:8080"},
			want: fx(StartTunnel{Config: tunnel.ClientConfig{Server: "bore.pub", ControlPort: 7835,
				LocalHost: "192.168.1.5", LocalPort: 8080}})},
		{name: "other_port_bad", model: baseModel(),
			event: Answered{Ask: Ask{Purpose: AskPort}, Text: "70000"},
			want:  fx(alert("Cannot share that port", `"70000": port must be a number from 1 to 65535`))},
		{name: "other_port_cancelled", model: baseModel(),
			event: Answered{Ask: Ask{Purpose: AskPort}, Err: fmt.Errorf("zenity: %w", ErrCancelled)}, want: none},
		{name: "no_dialog_tool", model: baseModel(),
			event: Failed{Effect: Ask{Purpose: AskPort}, Err: ErrNoDialogs},
			want: fx(alert("Bore cannot ask for a port", "No dialog program was found: install zenity (or kdialog or yad); Bore finds it at once. "+
				"You can edit the settings file instead: choose “Open config folder”."))},
		{name: "opened_copies", model: withTunnels(connecting(1, 3000)),
			event: EngineReported{Snapshot: tunnel.Snapshot{Tunnels: []tunnel.Status{open1}}},
			want: fx(CopyText{Text: "bore.pub:41234", Open: &OpenNote{
				Copied: "localhost:3000 is public at bore.pub:41234 — address copied",
				Plain:  "localhost:3000 is public at bore.pub:41234"}})},
		{name: "opened_without_copy", model: noCopy,
			event: EngineReported{Snapshot: tunnel.Snapshot{Tunnels: []tunnel.Status{open1}}},
			want:  fx(info("Tunnel open", "localhost:3000 is public at bore.pub:41234"))},
		{name: "copied_on_open", model: withTunnels(open1),
			event: Copied{Copy: CopyText{Text: "bore.pub:41234", Open: &OpenNote{Copied: "c", Plain: "p"}}},
			want:  fx(info("Tunnel open", "c"))},
		{name: "copy_on_open_failed", model: withTunnels(open1),
			event: Copied{Copy: CopyText{Text: "bore.pub:41234", Open: &OpenNote{Copied: "c", Plain: "p"}}, Err: errors.New("no display")},
			want:  fx(info("Tunnel open", "p (could not copy it: no display)"))},
		{name: "reconnected_same_address", model: withTunnels(reconnecting),
			event: EngineReported{Snapshot: tunnel.Snapshot{Tunnels: []tunnel.Status{open1}}},
			want:  fx(info("Tunnel reconnected", "localhost:3000 reconnected — same address bore.pub:41234"))},
		{name: "reconnected_address_changed", model: withTunnels(reconnecting),
			event: EngineReported{Snapshot: tunnel.Snapshot{Tunnels: []tunnel.Status{openTunnel(1, 3000, 41999)}}},
			want: fx(CopyText{Text: "bore.pub:41999", Open: &OpenNote{
				Copied: "localhost:3000 reconnected, address changed — new one copied: bore.pub:41999",
				Plain:  "localhost:3000 reconnected, address changed to bore.pub:41999"}})},
		{name: "local_error_told_once", model: withTunnels(open1),
			event: EngineReported{Snapshot: tunnel.Snapshot{Tunnels: []tunnel.Status{withLocalError(open1, 1)}}},
			want: fx(alert("A visitor was turned away", "A visitor arrived at bore.pub:41234, but nothing is listening. "+
				"Start the service on localhost:3000; later visitors will get through."))},
		{name: "local_error_not_told_again", model: withTunnels(withLocalError(open1, 1)),
			event: EngineReported{Snapshot: tunnel.Snapshot{Tunnels: []tunnel.Status{withLocalError(open1, 5)}}},
			want:  none},
		{name: "visitors_notified_when_asked", model: func() Model {
			m := withTunnels(open1)
			m.Settings.NotifyOnConnection = true
			return m
		}(), event: EngineReported{Snapshot: tunnel.Snapshot{Tunnels: []tunnel.Status{visited(open1, 3)}}},
			want: fx(info("New connection", "3 visitors connected to bore.pub:41234 (localhost:3000)."))},
		{name: "visitors_quiet_by_default", model: withTunnels(open1),
			event: EngineReported{Snapshot: tunnel.Snapshot{Tunnels: []tunnel.Status{visited(open1, 1)}}},
			want:  none},
		{name: "failed_is_alerted_in_tray_words", model: withTunnels(connecting(1, 3000)),
			event: EngineReported{Snapshot: tunnel.Snapshot{Tunnels: []tunnel.Status{failedStatus(1, tunnel.ErrAuthRequired)}}},
			want: fx(alert("Could not share localhost:3000 through bore.pub", "the server requires a secret: add one in the server's settings"),
				Probe{Server: settings.Server{Host: "bore.pub"}})},
		{name: "failed_again_is_quiet", model: withTunnels(failedStatus(1, tunnel.ErrAuthRequired)),
			event: EngineReported{Snapshot: tunnel.Snapshot{Tunnels: []tunnel.Status{failedStatus(1, tunnel.ErrAuthRequired)}}},
			want:  none},
		{name: "vanished_tunnel_is_forgotten", model: timed,
			event: EngineReported{Snapshot: tunnel.Snapshot{Tunnels: []tunnel.Status{openTunnel(2, 8000, 41235)}}},
			check: func(t *testing.T, m Model) {
				if _, ok := m.StopAfter[1]; ok {
					t.Error("Stop after kept for a vanished tunnel")
				}
			},
			want: fx(ArmTimer{At: t0.Add(time.Minute)})},
	})
}

func TestUpdateFavorites(t *testing.T) {
	t.Parallel()
	key := FavoriteKey(webFav)
	unsaved := withTunnels(openTunnel(1, 3000, 41234))
	unsaved.Ports = []Port{{Port: 3000, Process: "node"}}
	runUpdateCases(t, []updateCase{
		{name: "save", model: unsaved, event: click(Intent{Kind: IntentSaveFavorite, Tunnel: 1}),
			check: func(t *testing.T, m Model) {
				want := settings.Favorite{Name: "node :3000", LocalHost: "localhost", LocalPort: 3000, Server: "bore.pub", RemotePort: 41234}
				if len(m.Settings.Favorites) != 1 || m.Settings.Favorites[0] != want {
					t.Errorf("favorites = %+v", m.Settings.Favorites)
				}
				if m.FavoriteTunnels[FavoriteKey(want)] != 1 {
					t.Error("saved favorite not marked running")
				}
			},
			want: func(m Model) []Effect {
				return []Effect{saved(m), info("Favorite saved", "node :3000 → bore.pub:41234")}
			}},
		{name: "toggle_running_stops", model: withFavorite(true),
			event: click(Intent{Kind: IntentToggleFavorite, Favorite: key}), want: fx(StopTunnel{ID: 1})},
		{name: "toggle_stopped_starts", model: withFavorite(false),
			event: click(Intent{Kind: IntentToggleFavorite, Favorite: key}),
			want: fx(StartTunnel{Favorite: key, Config: tunnel.ClientConfig{Server: "bore.pub", ControlPort: 7835,
				LocalHost: "localhost", LocalPort: 3000, RemotePort: 41234}})},
		{name: "started_is_remembered", model: withFavorite(false),
			event: TunnelStarted{Start: StartTunnel{Favorite: key}, ID: 5},
			check: func(t *testing.T, m Model) {
				if m.FavoriteTunnels[key] != 5 {
					t.Errorf("FavoriteTunnels = %v", m.FavoriteTunnels)
				}
			}, want: none},
		{name: "server_key_is_not_a_favorite_key", model: withFavorite(false),
			event: click(Intent{Kind: IntentToggleFavorite, Server: key}), want: none},
		{name: "remove", model: withFavorite(false),
			event: click(Intent{Kind: IntentRemoveFavorite, Favorite: key}),
			check: func(t *testing.T, m Model) {
				if len(m.Settings.Favorites) != 0 {
					t.Errorf("favorites = %+v", m.Settings.Favorites)
				}
			},
			want: func(m Model) []Effect { return []Effect{saved(m)} }},
		{name: "start_at_launch", model: func() Model {
			m := withFavorite(false)
			m.Settings.StartFavoritesAtLaunch = true
			return m
		}(), event: Started{},
			want: fx(Probe{Server: settings.Server{Host: "bore.pub"}},
				StartTunnel{Favorite: key, Config: tunnel.ClientConfig{Server: "bore.pub", ControlPort: 7835,
					LocalHost: "localhost", LocalPort: 3000, RemotePort: 41234}},
				ArmTimer{At: t0.Add(DefaultProbeInterval)})},
	})
}

func TestUpdateServers(t *testing.T) {
	t.Parallel()
	runUpdateCases(t, []updateCase{
		{name: "start_probes_and_schedules", model: baseModel(), event: Started{},
			check: func(t *testing.T, m Model) {
				if !m.Probing["bore.pub"] || !m.NextProbe.Equal(t0.Add(DefaultProbeInterval)) {
					t.Errorf("probing %v, next probe %v", m.Probing, m.NextProbe)
				}
			},
			want: fx(Probe{Server: settings.Server{Host: "bore.pub"}}, ArmTimer{At: t0.Add(DefaultProbeInterval)})},
		{name: "load_error_is_told", model: baseModel(), event: Started{LoadErr: errors.New("corrupt")},
			want: fx(alert("Bore started with default settings", "corrupt"),
				Probe{Server: settings.Server{Host: "bore.pub"}}, ArmTimer{At: t0.Add(DefaultProbeInterval)})},
		// Only some parts were unreadable: said as such, with the
		// settings' own two-line message.
		{name: "partial_load_is_told", model: baseModel(), event: Started{LoadErr: partialLoad},
			want: fx(alert("Bore left out part of its settings", partialLoad.Error()),
				Probe{Server: settings.Server{Host: "bore.pub"}}, ArmTimer{At: t0.Add(DefaultProbeInterval)})},
		{name: "probe_due", model: func() Model {
			m := baseModel()
			m.NextProbe, m.TimerAt = t0, t0
			return m
		}(), event: TimerFired{},
			want: fx(Probe{Server: settings.Server{Host: "bore.pub"}}, ArmTimer{At: t0.Add(DefaultProbeInterval)})},
		{name: "no_probe_twice", model: func() Model {
			m := baseModel()
			m.Probing["bore.pub"] = true
			m.NextProbe, m.TimerAt = t0, t0
			return m
		}(), event: TimerFired{}, want: fx(ArmTimer{At: t0.Add(DefaultProbeInterval)})},
		{name: "probed", model: func() Model {
			m := baseModel()
			m.Probing["bore.pub"] = true
			return m
		}(), event: Probed{Server: "bore.pub", RTT: 42 * time.Millisecond},
			check: func(t *testing.T, m Model) {
				if m.Reach["bore.pub"] != (Reach{RTT: 42 * time.Millisecond}) || m.Probing["bore.pub"] {
					t.Errorf("reach %v probing %v", m.Reach, m.Probing)
				}
			}, want: none},
		{name: "select", model: withTwoServers(),
			event: click(Intent{Kind: IntentSelectServer, Server: "tun.example.com:7000"}),
			check: func(t *testing.T, m Model) {
				if m.Settings.CurrentServer != "tun.example.com:7000" {
					t.Errorf("current = %q", m.Settings.CurrentServer)
				}
			},
			want: func(m Model) []Effect { return []Effect{saved(m)} }},
		{name: "favorite_key_is_not_a_server_key", model: withTwoServers(),
			event: click(Intent{Kind: IntentSelectServer, Favorite: "tun.example.com:7000"}), want: none},
		{name: "add_asks", model: baseModel(), event: click(Intent{Kind: IntentAddServer}),
			want: fx(Ask{Purpose: AskServer, Title: "Add server", Prompt: "Server (host, or host:control-port):"})},
		{name: "add_asks_secret", model: baseModel(),
			event: Answered{Ask: Ask{Purpose: AskServer}, Text: "tun.example.com:7000"},
			want: fx(Ask{Purpose: AskSecret, Title: "Add server", Password: true,
				Prompt: "Secret for tun.example.com:7000 (leave empty if it has none):",
				Server: settings.Server{Host: "tun.example.com", ControlPort: 7000}})},
		{name: "secret_prompt_names_the_default_port", model: baseModel(),
			event: Answered{Ask: Ask{Purpose: AskServer}, Text: "127.0.0.1"},
			want: fx(Ask{Purpose: AskSecret, Title: "Add server", Password: true,
				Prompt: "Secret for 127.0.0.1:7835 (leave empty if it has none):",
				Server: settings.Server{Host: "127.0.0.1"}})},
		{name: "add_bad_server", model: baseModel(),
			event: Answered{Ask: Ask{Purpose: AskServer}, Text: "http://x"},
			want:  fx(alert("Cannot add that server", `"http://x": enter just the host name, without http://`))},
		{name: "add_with_secret", model: baseModel(),
			event: Answered{Ask: Ask{Purpose: AskSecret, Server: settings.Server{Host: "tun.example.com", ControlPort: 7000}}, Text: "hunter2"},
			check: func(t *testing.T, m Model) {
				if srv, ok := m.Settings.Server("tun.example.com:7000"); !ok || srv.Secret != "hunter2" || m.Settings.CurrentServer != srv.Key() {
					t.Errorf("settings = %+v", m.Settings)
				}
			},
			want: func(m Model) []Effect {
				return []Effect{saved(m), Probe{Server: settings.Server{Host: "tun.example.com", ControlPort: 7000, Secret: "hunter2"}, Announce: true}}
			}},
		{name: "add_cancelled", model: baseModel(),
			event: Answered{Ask: Ask{Purpose: AskSecret}, Err: ErrCancelled}, want: none},
		{name: "remove", model: withTwoServers(),
			event: click(Intent{Kind: IntentRemoveServer, Server: "tun.example.com:7000"}),
			check: func(t *testing.T, m Model) {
				if m.Settings.CurrentServer != "bore.pub" {
					t.Errorf("current = %q", m.Settings.CurrentServer)
				}
			},
			want: func(m Model) []Effect {
				return []Effect{saved(m), alert("Server removed", "Removed tun.example.com:7000.")}
			}},
		{name: "remove_current_chooses_none", model: func() Model {
			m := withTwoServers()
			m.Settings.CurrentServer = "tun.example.com:7000"
			m.Settings.Favorites = []settings.Favorite{{Name: "ssh", LocalPort: 22, Server: "tun.example.com:7000"}}
			return m
		}(),
			event: click(Intent{Kind: IntentRemoveServer, Server: "tun.example.com:7000"}),
			check: func(t *testing.T, m Model) {
				if m.Settings.CurrentServer != "" {
					t.Errorf("current = %q, want none chosen", m.Settings.CurrentServer)
				}
			},
			want: func(m Model) []Effect {
				return []Effect{saved(m), alert("Server removed", "Removed tun.example.com:7000 and 1 favorite that used it. "+
					"No server is chosen now: pick one in the Server menu before sharing.")}
			}},
		{name: "no_share_without_server", model: func() Model {
			m := withTwoServers()
			m.Settings.CurrentServer = ""
			m.Ports = []Port{{Port: 3000}}
			return m
		}(), event: click(Intent{Kind: IntentSharePort, Host: "localhost", Port: 3000}), want: none},
		{name: "other_port_without_server", model: func() Model {
			m := withTwoServers()
			m.Settings.CurrentServer = ""
			return m
		}(), event: Answered{Ask: Ask{Purpose: AskPort}, Text: "3000"},
			want: fx(alert("Cannot share localhost:3000", "No server is chosen: pick one in the Server menu first."))},
		{name: "last_cannot_be_removed", model: baseModel(),
			event: click(Intent{Kind: IntentRemoveServer, Server: "bore.pub"}), want: none},
	})
}

func TestUpdatePreferencesAndApp(t *testing.T) {
	t.Parallel()
	runUpdateCases(t, []updateCase{
		{name: "launch_at_login_asks_first", model: baseModel(),
			event: click(Intent{Kind: IntentTogglePref, Pref: PrefLaunchAtLogin}),
			check: func(t *testing.T, m Model) {
				if m.Settings.LaunchAtLogin {
					t.Error("checked before the autostart entry was written")
				}
			}, want: fx(SetAutostart{On: true})},
		{name: "launch_at_login_done", model: baseModel(), event: AutostartChanged{On: true},
			check: func(t *testing.T, m Model) {
				if !m.Settings.LaunchAtLogin {
					t.Error("not checked")
				}
			}, want: func(m Model) []Effect { return []Effect{saved(m)} }},
		{name: "launch_at_login_failed", model: baseModel(),
			event: Failed{Effect: SetAutostart{On: true}, Err: errors.New("permission denied")},
			want:  fx(alert("Could not change Launch at login", "permission denied"))},
		{name: "copy_on_open", model: baseModel(),
			event: click(Intent{Kind: IntentTogglePref, Pref: PrefCopyOnOpen}),
			check: func(t *testing.T, m Model) {
				if m.Settings.CopyOnOpen {
					t.Error("not toggled")
				}
			}, want: func(m Model) []Effect { return []Effect{saved(m)} }},
		{name: "save_failed", model: baseModel(),
			event: Failed{Effect: SaveSettings{}, Err: errors.New("disk full")},
			want:  fx(alert("Bore could not save your settings", "disk full. The change applies until Bore quits."))},
		{name: "notifications_off_keeps_alerts", model: func() Model {
			m := withTunnels(connecting(1, 3000))
			m.Settings.Notifications, m.Settings.CopyOnOpen = false, false
			return m
		}(), event: EngineReported{Snapshot: tunnel.Snapshot{Tunnels: []tunnel.Status{failedStatus(1, tunnel.ErrPortInUse)}}},
			want: fx(alert("Could not share localhost:3000 through bore.pub", "that port is already taken on the server"),
				Probe{Server: settings.Server{Host: "bore.pub"}})},
		// The settings are written first, so a first run has a file to open.
		{name: "open_config", model: baseModel(), event: click(Intent{Kind: IntentOpenConfig}),
			want: fx(SaveSettings{Settings: baseModel().Settings, BeforeOpen: true}, OpenPath{Path: "/home/u/.config/bore"})},
		{name: "open_config_file_left_alone", model: baseModel(),
			event: Failed{Effect: SaveSettings{BeforeOpen: true}, Err: fmt.Errorf("%w: damaged", settings.ErrNotSaved)},
			want:  none},
		{name: "open_config_cannot_create", model: baseModel(),
			event: Failed{Effect: SaveSettings{BeforeOpen: true}, Err: errors.New("read-only file system")},
			want:  fx(alert("Could not create the settings file", "read-only file system."))},
		{name: "open_config_failed", model: baseModel(),
			event: Failed{Effect: OpenPath{Path: "/c"}, Err: errors.New("no xdg-open")},
			want:  fx(alert("Could not open the config folder", "no xdg-open. The settings are in /c."))},
		{name: "about", model: baseModel(), event: click(Intent{Kind: IntentAbout}),
			want: fx(alert("Bore 1.2.3", "Share a local TCP port on a public server. Wire-compatible with bore."))},
		{name: "quit", model: baseModel(), event: click(Intent{Kind: IntentQuit}), want: fx(Quit{})},
		{name: "ports", model: baseModel(), event: PortsChanged{Ports: []Port{{Port: 22}}},
			check: func(t *testing.T, m Model) {
				if len(m.Ports) != 1 {
					t.Errorf("ports = %v", m.Ports)
				}
			}, want: none},
	})
}

func withLocalError(st tunnel.Status, total int64) tunnel.Status {
	st.LocalError, st.Total = "nothing is listening", total
	return st
}

func visited(st tunnel.Status, total int64) tunnel.Status {
	st.Total, st.Active = total, 1
	return st
}

// withLoopback returns a model whose current server is a loopback one on
// control port 7999, running tunnels.
func withLoopback(tunnels ...tunnel.Status) Model {
	m := baseModel()
	m.Settings.Servers = append(m.Settings.Servers, settings.Server{Host: "127.0.0.1", ControlPort: 7999})
	m.Settings.CurrentServer = "127.0.0.1:7999"
	m.Settings.Normalize()
	m.Snapshot.Tunnels = tunnels
	return m
}

func loopTunnel(id tunnel.TunnelID, local, remote uint16, state tunnel.State) tunnel.Status {
	return tunnel.Status{ID: id, Server: "127.0.0.1", ControlPort: 7999, LocalHost: "localhost",
		LocalPort: local, RemotePort: remote, State: state, Since: t0}
}

func TestUpdateServerReachability(t *testing.T) {
	t.Parallel()
	loop := settings.Server{Host: "127.0.0.1", ControlPort: 7999}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	lost := func(st tunnel.Status) tunnel.Status {
		st.State, st.Err = tunnel.StateReconnecting, refused
		return st
	}
	snap := func(ts ...tunnel.Status) Event { return EngineReported{Snapshot: tunnel.Snapshot{Tunnels: ts}} }
	a, b, c := loopTunnel(1, 3000, 41000, tunnel.StateOpen), loopTunnel(2, 4000, 41001, tunnel.StateOpen), loopTunnel(3, 5000, 41002, tunnel.StateOpen)
	down := withLoopback(lost(a), b, c)
	down.Outages["127.0.0.1:7999"] = Outage{Since: t0}
	allDown := withLoopback(lost(a), lost(b), lost(c))
	allDown.Outages["127.0.0.1:7999"] = Outage{Since: t0}
	runUpdateCases(t, []updateCase{
		{name: "added_and_reachable", model: withLoopback(),
			event: Probed{Server: "127.0.0.1:7999", RTT: time.Millisecond, Announce: true},
			want:  fx(info("Server added", "127.0.0.1:7999 answers (1 ms) and is chosen for the next Share."))},
		{name: "added_but_unreachable", model: withLoopback(),
			event: Probed{Server: "127.0.0.1:7999", Err: refused, Announce: true},
			check: func(t *testing.T, m Model) {
				if r := m.Reach["127.0.0.1:7999"]; r.Err == "" || r.Refused {
					t.Errorf("reach = %+v", r)
				}
			},
			want: fx(alert("Can't reach 127.0.0.1:7999",
				"Server unreachable: connection refused. It is saved anyway; check the host and port, and that the server runs."))},
		{name: "added_but_secret_refused", model: withLoopback(),
			event: Probed{Server: "127.0.0.1:7999", Err: tunnel.ErrInvalidSecret, Announce: true},
			check: func(t *testing.T, m Model) {
				if r := m.Reach["127.0.0.1:7999"]; !r.Refused {
					t.Errorf("reach = %+v", r)
				}
			},
			want: fx(alert("127.0.0.1:7999 refused the secret",
				"It answers, but the server refused the secret: check the secret for this server. "+
					"Tunnels through it will fail: remove it and add it again with the right secret."))},
		{name: "background_probe_is_quiet", model: withLoopback(),
			event: Probed{Server: "127.0.0.1:7999", Err: refused}, want: none},
		{name: "share_to_unreachable_tells_after_first_failure",
			model: withLoopback(loopTunnel(1, 3000, 0, tunnel.StateConnecting)),
			event: snap(lost(loopTunnel(1, 3000, 0, tunnel.StateConnecting))),
			check: func(t *testing.T, m Model) {
				if _, ok := m.Outages["127.0.0.1:7999"]; !ok {
					t.Error("no outage recorded")
				}
			},
			want: fx(alert("Can't reach 127.0.0.1:7999 — still trying",
				"Server unreachable: connection refused. localhost:3000 will be shared as soon as the server answers."),
				Probe{Server: loop})},
		{name: "second_failure_is_quiet",
			model: func() Model {
				m := withLoopback(lost(loopTunnel(1, 3000, 0, tunnel.StateConnecting)))
				m.Outages["127.0.0.1:7999"] = Outage{Since: t0}
				return m
			}(),
			event: snap(lost(loopTunnel(1, 3000, 0, tunnel.StateConnecting)), lost(loopTunnel(2, 4000, 0, tunnel.StateConnecting))),
			want:  none},
		{name: "lost_server_told_once", model: withLoopback(a, b, c),
			event: snap(lost(a), lost(b), c),
			want: fx(alert("Lost 127.0.0.1:7999 — reconnecting",
				"Server unreachable: connection refused. Bore keeps trying for 3 tunnels through it and asks for the same addresses."),
				Probe{Server: loop})},
		{name: "time_left_ticks_each_minute", model: func() Model {
			m := withTunnels(openTunnel(1, 3000, 41234))
			m.StopAfter[1] = StopTimer{After: 15 * time.Minute, At: t0.Add(14*time.Minute + 30*time.Second)}
			m.TimerAt = t0
			return m
		}(), event: TimerFired{},
			check: func(t *testing.T, m Model) {
				if !m.Now.Equal(t0) {
					t.Errorf("Now = %v", m.Now)
				}
			},
			want: fx(ArmTimer{At: t0.Add(30 * time.Second)})},
		{name: "more_tunnels_lost_later_are_quiet", model: down,
			event: snap(lost(a), lost(b), lost(c)), want: none},
		{name: "back_one_by_one_then_told_once", model: allDown,
			event: snap(a, b, c),
			check: func(t *testing.T, m Model) {
				if len(m.Outages) != 0 {
					t.Errorf("outages = %v", m.Outages)
				}
			},
			want: fx(Probe{Server: loop}, info("127.0.0.1:7999 is back", "3 tunnels back on the same addresses."))},
		{name: "partly_back_is_quiet", model: allDown,
			event: snap(a, lost(b), lost(c)),
			check: func(t *testing.T, m Model) {
				if o := m.Outages["127.0.0.1:7999"]; o.Back != 1 {
					t.Errorf("outage = %+v", o)
				}
			},
			want: none},
	})
}

func TestAddServerFromCommandLine(t *testing.T) {
	t.Parallel()
	s := settings.Default()
	s.Servers = append(s.Servers, settings.Server{Host: "127.0.0.1", ControlPort: 7836, Secret: "kept"})
	got, key, err := AddServer(s, "127.0.0.1:7836", "")
	if err != nil || key != "127.0.0.1:7836" || got.CurrentServer != key {
		t.Fatalf("AddServer = %q, %v, current %q", key, err, got.CurrentServer)
	}
	if srv, _ := got.Server(key); srv.Secret != "kept" || len(got.Servers) != 2 {
		t.Errorf("servers = %+v: the saved secret must stay", got.Servers)
	}
	got, key, err = AddServer(settings.Default(), "127.0.0.1", "s3")
	if srv, _ := got.Server(key); err != nil || key != "127.0.0.1" || srv.Secret != "s3" || got.CurrentServer != "127.0.0.1" {
		t.Errorf("AddServer(127.0.0.1) = %q, %v, %+v", key, err, got)
	}
	if _, _, err := AddServer(settings.Default(), "http://x", ""); err == nil {
		t.Error("a URL was taken as a server")
	}
	if !reflect.DeepEqual(s.Servers[1].Secret, "kept") {
		t.Error("AddServer changed its argument")
	}
}

func TestUpdateStartedAnnouncesAddedServer(t *testing.T) {
	t.Parallel()
	m := withLoopback()
	loop := settings.Server{Host: "127.0.0.1", ControlPort: 7999}
	runUpdateCases(t, []updateCase{
		{name: "added_server_is_announced", model: m, event: Started{Added: "127.0.0.1:7999"},
			want: fx(Probe{Server: loop, Announce: true}, Probe{Server: settings.Server{Host: "bore.pub"}},
				ArmTimer{At: t0.Add(DefaultProbeInterval)})},
	})
}
