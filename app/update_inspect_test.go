package app

import (
	"errors"
	"reflect"
	"testing"

	"github.com/boretray/bore/app/settings"
	"github.com/boretray/bore/tunnel"
)

const pageURL = "http://127.0.0.1:45678/?token=abc"

// inspecting returns m with tunnel id's inspector on at page.
func inspecting(m Model, id tunnel.TunnelID, page string) Model {
	m = m.clone()
	m.Inspecting[id] = page
	return m
}

func TestUpdateInspect(t *testing.T) {
	t.Parallel()
	open1 := openTunnel(1, 3000, 41234)
	start1 := StartInspector{Tunnel: 1, Target: "localhost:3000", Title: "localhost:3000 → bore.pub:41234", Open: true}
	inspectedFav := withFavorite(true)
	inspectedFav.Settings.Favorites[0].Inspect = true
	favCfg := tunnel.ClientConfig{Server: "bore.pub", ControlPort: 7835, LocalHost: "localhost", LocalPort: 3000, RemotePort: 41234}
	runUpdateCases(t, []updateCase{
		{name: "turn_on_starts_the_inspector", model: withTunnels(open1),
			event: click(Intent{Kind: IntentToggleInspect, Tunnel: 1}),
			want:  fx(start1),
			check: func(t *testing.T, m Model) {
				if page, on := m.Inspecting[1]; !on || page != "" {
					t.Errorf("Inspecting = %v, want tunnel 1 starting", m.Inspecting)
				}
			}},
		{name: "started_opens_the_page", model: inspecting(withTunnels(open1), 1, ""),
			event: InspectorStarted{Start: start1, URL: pageURL},
			want:  fx(OpenURL{URL: pageURL}),
			check: func(t *testing.T, m Model) {
				if m.Inspecting[1] != pageURL {
					t.Errorf("Inspecting = %v, want the page", m.Inspecting)
				}
			}},
		{name: "started_without_open", model: inspecting(withTunnels(open1), 1, ""),
			event: InspectorStarted{Start: StartInspector{Tunnel: 1}, URL: pageURL}, want: none},
		{name: "started_after_turned_off_stops_it", model: withTunnels(open1),
			event: InspectorStarted{Start: start1, URL: pageURL},
			want:  fx(StopInspector{Tunnel: 1})},
		{name: "turn_off", model: inspecting(withTunnels(open1), 1, pageURL),
			event: click(Intent{Kind: IntentToggleInspect, Tunnel: 1}),
			want:  fx(StopInspector{Tunnel: 1}),
			check: func(t *testing.T, m Model) {
				if len(m.Inspecting) != 0 {
					t.Errorf("Inspecting = %v, want none", m.Inspecting)
				}
			}},
		{name: "open_inspector", model: inspecting(withTunnels(open1), 1, pageURL),
			event: click(Intent{Kind: IntentOpenInspector, Tunnel: 1}),
			want:  fx(OpenURL{URL: pageURL})},
		{name: "open_inspector_while_starting_is_ignored", model: inspecting(withTunnels(open1), 1, ""),
			event: click(Intent{Kind: IntentOpenInspector, Tunnel: 1}), want: none},
		{name: "open_inspector_when_off_is_ignored", model: withTunnels(open1),
			event: click(Intent{Kind: IntentOpenInspector, Tunnel: 1}), want: none},
		{name: "inspector_failed", model: inspecting(withTunnels(open1), 1, ""),
			event: Failed{Effect: start1, Err: errors.New("inspector: cannot listen on 127.0.0.1:0: too many open files")},
			want: fx(alert("Could not inspect localhost:3000 → bore.pub:41234",
				"inspector: cannot listen on 127.0.0.1:0: too many open files")),
			check: func(t *testing.T, m Model) {
				if len(m.Inspecting) != 0 {
					t.Errorf("Inspecting = %v, want none", m.Inspecting)
				}
			}},
		{name: "browser_failed", model: inspecting(withTunnels(open1), 1, pageURL),
			event: Failed{Effect: OpenURL{URL: pageURL}, Err: errors.New("xdg-open was not found")},
			want: fx(alert("Could not open the inspector in a browser",
				"xdg-open was not found. Open "+pageURL+" in your browser yourself."))},
		{name: "stop_stops_the_inspector_first", model: inspecting(withTunnels(open1), 1, pageURL),
			event: click(Intent{Kind: IntentStopTunnel, Tunnel: 1}),
			want:  fx(StopInspector{Tunnel: 1}, StopTunnel{ID: 1}),
			check: func(t *testing.T, m Model) {
				if len(m.Inspecting) != 0 {
					t.Errorf("Inspecting = %v, want none", m.Inspecting)
				}
			}},
		{name: "favorite_clicked_starts_inspected_and_opens", model: func() Model {
			m := withFavorite(false)
			m.Settings.Favorites[0].Inspect = true
			return m
		}(),
			event: click(Intent{Kind: IntentToggleFavorite, Favorite: FavoriteKey(webFav)}),
			want:  fx(StartTunnel{Config: favCfg, Favorite: FavoriteKey(webFav), Inspect: true, OpenInspector: true})},
		{name: "tunnel_started_inspected", model: withTunnels(connecting(1, 3000)),
			event: TunnelStarted{Start: StartTunnel{Config: favCfg, Inspect: true, OpenInspector: true}, ID: 1},
			want:  fx(StartInspector{Tunnel: 1, Target: "localhost:3000", Title: "localhost:3000", Open: true})},
		{name: "tunnel_started_inspected_before_any_report", model: baseModel(),
			event: TunnelStarted{Start: StartTunnel{Config: favCfg, Inspect: true}, ID: 7},
			want:  fx(StartInspector{Tunnel: 7, Target: "localhost:3000", Title: "localhost:3000"})},
		{name: "favorite_option_on_while_running_inspects_now", model: withFavorite(true),
			event: click(Intent{Kind: IntentToggleFavoriteInspect, Favorite: FavoriteKey(webFav)}),
			want: func(m Model) []Effect {
				return []Effect{saved(m), start1}
			},
			check: func(t *testing.T, m Model) {
				if !m.Settings.Favorites[0].Inspect {
					t.Error("the favorite's Inspect option was not set")
				}
			}},
		{name: "favorite_option_off_while_inspected_stops_it", model: inspecting(inspectedFav, 1, pageURL),
			event: click(Intent{Kind: IntentToggleFavoriteInspect, Favorite: FavoriteKey(webFav)}),
			want: func(m Model) []Effect {
				return []Effect{saved(m), StopInspector{Tunnel: 1}}
			}},
		{name: "favorite_option_on_while_stopped_only_saves", model: withFavorite(false),
			event: click(Intent{Kind: IntentToggleFavoriteInspect, Favorite: FavoriteKey(webFav)}),
			want:  func(m Model) []Effect { return []Effect{saved(m)} }},
		{name: "save_inspected_tunnel_saves_the_option", model: inspecting(withTunnels(open1), 1, pageURL),
			event: click(Intent{Kind: IntentSaveFavorite, Tunnel: 1}),
			check: func(t *testing.T, m Model) {
				if len(m.Settings.Favorites) != 1 || !m.Settings.Favorites[0].Inspect {
					t.Errorf("favorites = %+v, want one with Inspect", m.Settings.Favorites)
				}
			},
			want: func(m Model) []Effect {
				return []Effect{saved(m), info("Favorite saved", favoriteLabel(m.Settings.Favorites[0]))}
			}},
	})
}

// A favorite saved with "Inspect traffic" and started at launch starts
// inspected, without opening a page nobody asked for at login.
func TestFavoriteAtLaunchStartsInspectedWithoutAPage(t *testing.T) {
	m := withFavorite(false)
	m.Settings.Favorites[0].Inspect = true
	m.Settings.StartFavoritesAtLaunch = true
	_, effects := Update(m, Started{}, t0)
	want := StartTunnel{Config: tunnel.ClientConfig{Server: "bore.pub", ControlPort: 7835, LocalHost: "localhost", LocalPort: 3000, RemotePort: 41234},
		Favorite: FavoriteKey(webFav), Inspect: true}
	for _, e := range effects {
		if reflect.DeepEqual(e, Effect(want)) {
			return
		}
	}
	t.Errorf("effects:%s\nwant among them %+v", fmtFx(effects), want)
}

// The old model given to Update keeps its favorites: the option is
// flipped on a copy.
func TestFavoriteInspectLeavesTheOldModel(t *testing.T) {
	m := withFavorite(false)
	Update(m, click(Intent{Kind: IntentToggleFavoriteInspect, Favorite: FavoriteKey(webFav)}), t0)
	if m.Settings.Favorites[0].Inspect {
		t.Error("Update changed the favorites of the model it was given")
	}
}

func TestRenderInspect(t *testing.T) {
	m := withTunnels(openTunnel(1, 3000, 41234))
	sub := func(m Model) []MenuEntry {
		e, ok := Render(m).Find("tunnel/1")
		if !ok {
			t.Fatal("no tunnel line")
		}
		return e.Children
	}
	e, ok := findEntry(sub(m), "tunnel/1/inspect")
	if !ok || !e.Checkable || e.Checked || !e.Enabled || e.Label != "Inspect traffic" {
		t.Errorf("inspect entry = %+v, want an unchecked \"Inspect traffic\"", e)
	}
	if _, ok := findEntry(sub(m), "tunnel/1/inspector"); ok {
		t.Error("\"Open inspector\" shown while the inspector is off")
	}
	starting := inspecting(m, 1, "")
	if e, _ := findEntry(sub(starting), "tunnel/1/inspect"); !e.Checked {
		t.Error("inspect entry unchecked while the inspector starts")
	}
	if e, ok := findEntry(sub(starting), "tunnel/1/inspector"); !ok || e.Enabled {
		t.Errorf("open entry = %+v, want it shown and disabled while the inspector starts", e)
	}
	on := inspecting(m, 1, pageURL)
	if e, ok := findEntry(sub(on), "tunnel/1/inspector"); !ok || !e.Enabled || e.Label != "Open inspector" ||
		e.Intent != (Intent{Kind: IntentOpenInspector, Tunnel: 1}) {
		t.Errorf("open entry = %+v", e)
	}
	// The inspector's own port is not offered under Share a port.
	on.Ports = []Port{{Port: 45678, Addr: "127.0.0.1", Process: "bore"}, {Port: 5432, Addr: "127.0.0.1"}}
	if _, ok := Render(on).Find("share/port/45678"); ok {
		t.Error("the inspector's port is offered under Share a port")
	}
	if _, ok := Render(on).Find("share/port/5432"); !ok {
		t.Error("a listening service is missing under Share a port")
	}
}

func TestRenderFavoriteInspectOption(t *testing.T) {
	m := baseModel()
	if e, ok := Render(m).Find("fav/inspect"); !ok || e.Enabled || len(e.Children) != 0 {
		t.Errorf("fav/inspect = %+v, want a disabled entry with no favorites", e)
	}
	m = withFavorite(false)
	m.Settings.Favorites = append(m.Settings.Favorites, settings.Favorite{Name: "db", LocalPort: 5432, Server: "bore.pub", Inspect: true})
	e, ok := Render(m).Find("fav/inspect")
	if !ok || len(e.Children) != 2 {
		t.Fatalf("fav/inspect = %+v, want a submenu of two", e)
	}
	if c := e.Children[0]; !c.Checkable || c.Checked || c.Intent != (Intent{Kind: IntentToggleFavoriteInspect, Favorite: FavoriteKey(webFav)}) {
		t.Errorf("web's option = %+v", c)
	}
	if c := e.Children[1]; !c.Checked {
		t.Errorf("db's option = %+v, want checked", c)
	}
}
