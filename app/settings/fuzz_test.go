package settings

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func FuzzLoad(f *testing.F) {
	seeds := []string{
		"",
		"{}",
		"null",
		"[]",
		`{"version":1}`,
		`{"version":2}`,
		`{"version":-1,"servers":null}`,
		`{"version":1,"current_server":"a:7000","servers":[{"host":"a","control_port":7000,"secret":"x"}],"favorites":[{"name":"w","local_port":80,"server":"a:7000"}],"copy_on_open":false}`,
		`{"servers":[{"host":""},{"host":"b","control_port":70000}]}`,
		`{"favorites":[{"local_port":0},{"local_port":1,"server":"nowhere"}]}`,
		`{"version":1e400}`,
		"{\"version\":1,\"servers\":[{\"host\":\"\\u0000\"}]}",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &Store{Path: filepath.Join(t.TempDir(), "config.json")}
		if err := os.WriteFile(s.Path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := s.Load()
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("Load error %v is %T, want *LoadError", err, err)
			}
			if !reflect.DeepEqual(got, Default()) {
				t.Fatalf("Load returned %+v with an error, want Default()", got)
			}
			return
		}
		// Whatever loads is normalized and survives a round trip.
		again := got
		again.Normalize()
		if !reflect.DeepEqual(again, got) {
			t.Fatalf("loaded settings are not normalized:\n%+v\n%+v", got, again)
		}
		if _, ok := got.Server(got.CurrentServer); !ok && got.CurrentServer != "" {
			t.Fatalf("current server %q is not in %+v", got.CurrentServer, got.Servers)
		}
		if err := s.Save(got); err != nil {
			t.Fatalf("Save: %v", err)
		}
		back, err := s.Load()
		if err != nil || !reflect.DeepEqual(back, got) {
			t.Fatalf("round trip: %+v, %v; want %+v", back, err, got)
		}
	})
}
