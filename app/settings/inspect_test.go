package settings

import (
	"errors"
	"strings"
	"testing"
)

// A favorite's inspect option is saved and read back; files written before
// the option existed load as before, with inspection off.
func TestFavoriteInspectRoundTrip(t *testing.T) {
	s := newStore(t)
	st := Default()
	st.Favorites = []Favorite{
		{Name: "web", LocalPort: 3000, Server: DefaultServer, Inspect: true},
		{Name: "db", LocalPort: 5432, Server: DefaultServer},
	}
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Favorites) != 2 || !got.Favorites[0].Inspect || got.Favorites[1].Inspect {
		t.Errorf("favorites = %+v, want web inspected and db not", got.Favorites)
	}

	old := newStore(t)
	writeFile(t, old.Path, `{"version": 1, "current_server": "bore.pub", "servers": [{"host": "bore.pub"}],
  "favorites": [{"name": "web", "local_port": 3000, "server": "bore.pub"}]}`)
	got, err = old.Load()
	if err != nil {
		t.Fatalf("an older file without inspect: %v", err)
	}
	if len(got.Favorites) != 1 || got.Favorites[0].Inspect {
		t.Errorf("favorites = %+v, want web, not inspected", got.Favorites)
	}
}

// A mistyped inspect value costs only the option: the favorite is kept,
// not inspected, and the message names what was left out.
func TestFavoriteBadInspectDropsOnlyTheOption(t *testing.T) {
	s := newStore(t)
	writeFile(t, s.Path, `{"version": 1, "current_server": "bore.pub", "servers": [{"host": "bore.pub"}],
  "favorites": [
    {"name": "web", "local_port": 3000, "server": "bore.pub", "inspect": "yes"},
    {"name": "db", "local_port": 5432, "server": "bore.pub", "inspect": true},
    {"name": "bad", "local_port": "x", "server": "bore.pub", "inspect": 7}
  ]}`)
	got, err := s.Load()
	var le *LoadError
	if !errors.As(err, &le) || le.Err != nil {
		t.Fatalf("Load() error = %v, want a *LoadError for left-out parts", err)
	}
	if len(got.Favorites) != 2 || got.Favorites[0].Name != "web" || got.Favorites[0].Inspect ||
		got.Favorites[1].Name != "db" || !got.Favorites[1].Inspect {
		t.Errorf("favorites = %+v, want web (not inspected) and db (inspected)", got.Favorites)
	}
	msg := err.Error()
	for _, want := range []string{"favorite 1's inspect (should be true or false)", "favorite 3 ("} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "yes") {
		t.Errorf("message quotes the file's content:\n%s", msg)
	}
	// What was kept was written back: the next start reads it cleanly.
	again, err := (&Store{Path: s.Path}).Load()
	if err != nil || len(again.Favorites) != 2 {
		t.Errorf("reloading: %+v, %v", again.Favorites, err)
	}
}
