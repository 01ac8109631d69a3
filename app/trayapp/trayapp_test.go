package trayapp

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/boretray/bore/app"
	"github.com/boretray/bore/app/desktop"
)

func TestShowQRWritesAPNGAndOpensIt(t *testing.T) {
	var opened []string
	q := qrShower{dir: t.TempDir() + "/cache", open: func(p string) error { opened = append(opened, p); return nil }}
	if err := q.ShowQR("bore.pub:41234", 41234); err != nil {
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
