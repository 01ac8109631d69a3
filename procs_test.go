package main

import (
	"runtime"
	"testing"
)

func TestSetProcs(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	serverProcs := 0 // left as it was
	if runtime.NumCPU() <= 2 {
		serverProcs = 1
	}
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	for _, tc := range []struct {
		env  string
		args []string
		want int // 0: left as it was
	}{
		{"", nil, 0},
		{"", []string{"tray"}, 0},
		{"", []string{"server"}, serverProcs},
		{"", []string{"local", "8000", "--to", "example.com"}, 1},
		{"", []string{"share", "."}, 1},
		{"4", []string{"local", "8000"}, 0}, // the environment wins
	} {
		t.Setenv("GOMAXPROCS", tc.env)
		runtime.GOMAXPROCS(prev + 1)
		setProcs(tc.args)
		want := tc.want
		if want == 0 {
			want = prev + 1
		}
		if got := runtime.GOMAXPROCS(0); got != want {
			t.Errorf("GOMAXPROCS=%q, args %q: GOMAXPROCS is %d, want %d", tc.env, tc.args, got, want)
		}
	}
}
