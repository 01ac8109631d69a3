package trayapp

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestParseArgs(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	none := env(nil)
	tests := []struct {
		name        string
		args        []string
		getenv      func(string) string
		server, sec string
		err         string
	}{
		{"none", nil, none, "", "", ""},
		{"server", []string{"--server", "127.0.0.1:7836"}, none, "127.0.0.1:7836", "", ""},
		{"server_and_secret", []string{"--server=127.0.0.1", "--secret", "s3"}, none, "127.0.0.1", "s3", ""},
		{"secret_from_env", []string{"--server", "127.0.0.1"}, env(map[string]string{"BORE_SECRET": "e"}), "127.0.0.1", "e", ""},
		{"env_secret_alone_is_fine", nil, env(map[string]string{"BORE_SECRET": "e"}), "", "", ""},
		{"secret_alone", []string{"--secret", "x"}, none, "", "", "--secret needs --server"},
		{"bad_server", []string{"--server", "http://x"}, none, "", "", "without http://"},
		{"extra", []string{"--server", "a", "b"}, none, "", "", `unexpected argument "b"`},
		{"unknown", []string{"--port", "1"}, none, "", "", "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts Options
			err := ParseArgs(tt.args, tt.getenv, &bytes.Buffer{}, &opts)
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
			if opts.Server != tt.server || opts.Secret != tt.sec {
				t.Errorf("opts = %+v", opts)
			}
		})
	}
	var out bytes.Buffer
	if err := ParseArgs([]string{"--help"}, none, &out, &Options{}); !errors.Is(err, ErrHelp) || !strings.Contains(out.String(), "--server HOST[:PORT]") {
		t.Errorf("help: %v, %q", err, out.String())
	}
}
