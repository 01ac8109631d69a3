package trayapp

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/boretray/bore/app"
	"github.com/boretray/bore/app/desktop"
)

func TestShowQRWritesAPNGAndOpensIt(t *testing.T) {
	var opened []string
	q := qrShower{dir: t.TempDir() + "/cache", open: func(p string) error { opened = append(opened, p); return nil }}
	if err := q.ShowQR("http://bore.pub:41234", 41234); err != nil {
		t.Fatal(err)
	}
	if len(opened) != 1 || !strings.HasSuffix(opened[0], "bore-qr-41234.png") {
		t.Fatalf("opened = %v, want one bore-qr-41234.png", opened)
	}
	if b, err := os.ReadFile(opened[0]); err != nil || !strings.HasPrefix(string(b), "\x89PNG") {
		t.Errorf("QR file: %v, %q", err, b[:min(len(b), 8)])
	}
}

func TestDialogsReportCancelAsApp(t *testing.T) {
	if err := cancelled(fmt.Errorf("zenity: %w", desktop.ErrCancelled)); !errors.Is(err, app.ErrCancelled) {
		t.Errorf("cancelled dialog gave %v, want app.ErrCancelled", err)
	}
	if err := cancelled(errors.New("boom")); errors.Is(err, app.ErrCancelled) {
		t.Errorf("failed dialog reported as cancelled")
	}
}

func TestInstalledExe(t *testing.T) {
	dir := t.TempDir()
	bin := dir + "/bin/bore"
	if err := os.MkdirAll(dir+"/bin", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := dir + "/bore-link"
	if err := os.Symlink(bin, link); err != nil {
		t.Fatal(err)
	}
	real, _ := filepath.EvalSymlinks(bin)
	if got, err := installedExe(link); err != nil || got != real {
		t.Errorf("installedExe(link) = %q, %v; want %q", got, err, real)
	}
	if _, err := installedExe("/tmp/go-build123/b001/exe/bore"); err == nil || !strings.Contains(err.Error(), "temporary build") {
		t.Errorf("a go run build was accepted: %v", err)
	}
}
