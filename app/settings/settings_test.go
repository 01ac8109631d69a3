package settings

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/adrg/xdg"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestServerKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		srv  Server
		want string
	}{
		{"host_only", Server{Host: "bore.pub"}, "bore.pub"},
		{"default_port_hidden", Server{Host: "bore.pub", ControlPort: 7835}, "bore.pub"},
		{"custom_port", Server{Host: "example.com", ControlPort: 7000}, "example.com:7000"},
		{"ipv6_port", Server{Host: "::1", ControlPort: 7000}, "[::1]:7000"},
		{"ipv6_default", Server{Host: "::1"}, "::1"},
		{"secret_never_shown", Server{Host: "h", ControlPort: 1, Secret: "hunter2"}, "h:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.srv.Key(); got != tt.want {
				t.Errorf("%+v.Key() = %q, want %q", tt.srv, got, tt.want)
			}
			if got := tt.srv.String(); got != tt.want {
				t.Errorf("%+v.String() = %q, want %q", tt.srv, got, tt.want)
			}
		})
	}
}

func TestDefault(t *testing.T) {
	t.Parallel()
	d := Default()
	if d.Version != SchemaVersion || d.CurrentServer != DefaultServer || !d.CopyOnOpen || !d.Notifications || d.NotifyOnConnection || d.LaunchAtLogin || d.StartFavoritesAtLaunch {
		t.Errorf("Default() = %+v, want bore.pub current, copy and notifications on, the rest off", d)
	}
	if len(d.Servers) != 1 || d.Servers[0].Key() != DefaultServer {
		t.Errorf("Default().Servers = %+v, want only %s", d.Servers, DefaultServer)
	}
	if _, ok := d.Server(DefaultServer); !ok {
		t.Errorf("Default().Server(%q) not found", DefaultServer)
	}
	n := Default()
	n.Normalize()
	if !reflect.DeepEqual(n, d) {
		t.Errorf("Normalize changed Default():\n got %+v\nwant %+v", n, d)
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   Settings
		want Settings
	}{
		{
			name: "empty_gets_bore_pub",
			in:   Settings{},
			want: Settings{Version: 1, CurrentServer: "bore.pub", Servers: []Server{{Host: "bore.pub"}}, Favorites: []Favorite{}},
		},
		{
			name: "drops_invalid_and_duplicate_servers",
			in: Settings{CurrentServer: "b:7000", Servers: []Server{
				{Host: ""}, {Host: " a "}, {Host: "a", ControlPort: 7835, Secret: "dup"}, {Host: "b", ControlPort: 7000}, {Host: "bad host"},
			}},
			want: Settings{Version: 1, CurrentServer: "b:7000", Servers: []Server{{Host: "a"}, {Host: "b", ControlPort: 7000}}, Favorites: []Favorite{}},
		},
		{
			name: "unknown_current_server_falls_back_to_first",
			in:   Settings{CurrentServer: "gone", Servers: []Server{{Host: "x"}}},
			want: Settings{Version: 1, CurrentServer: "x", Servers: []Server{{Host: "x"}}, Favorites: []Favorite{}},
		},
		{
			name: "none_chosen_stays_none",
			in:   Settings{Servers: []Server{{Host: "x"}, {Host: "y"}}},
			want: Settings{Version: 1, Servers: []Server{{Host: "x"}, {Host: "y"}}, Favorites: []Favorite{}},
		},
		{
			name: "favorites_cleaned",
			in: Settings{CurrentServer: "x", Servers: []Server{{Host: "x"}}, Favorites: []Favorite{
				{Name: "web", LocalPort: 3000, Server: "x"},
				{Name: "zero", LocalPort: 0, Server: "x"},
				{Name: "dup", LocalHost: "localhost", LocalPort: 3000, Server: "x"},
				{Name: "unknown server", LocalPort: 4000, Server: "nowhere"},
				{LocalPort: 5000},
				{Name: "other host", LocalHost: "10.0.0.2", LocalPort: 3000, Server: "x", RemotePort: 9000},
			}},
			want: Settings{Version: 1, CurrentServer: "x", Servers: []Server{{Host: "x"}}, Favorites: []Favorite{
				{Name: "web", LocalPort: 3000, Server: "x"},
				{Name: "5000", LocalPort: 5000, Server: "x"},
				{Name: "other host", LocalHost: "10.0.0.2", LocalPort: 3000, Server: "x", RemotePort: 9000},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.in
			got.Normalize()
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Normalize(%+v)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
			again := got
			again.Normalize()
			if !reflect.DeepEqual(again, got) {
				t.Errorf("Normalize is not idempotent: %+v then %+v", got, again)
			}
		})
	}
}

func TestDefaultPath(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	xdg.Reload()
	t.Cleanup(xdg.Reload)
	got, err := DefaultPath()
	if err != nil {
		t.Fatalf("DefaultPath() error: %v", err)
	}
	if want := filepath.Join(dir, "bore", "config.json"); got != want {
		t.Errorf("DefaultPath() = %q, want %q", got, want)
	}
}
