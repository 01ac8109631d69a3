// Package assets holds Bore's icons, embedded into the binary: the tray icon
// for each state in the format each OS's tray wants, and the application
// icon at the usual sizes.
//
// The images are drawn by gen/main.go (run "go generate ./assets") and the
// results are committed, so building Bore needs no generator.
package assets

//go:generate go run gen/main.go -out icons

import (
	"embed"
	"fmt"
)

// files holds every generated icon plus the hand-written SVG.
//
//go:embed icons
var files embed.FS

// Kind is the state a tray icon shows.
type Kind int

const (
	// Idle means no tunnel is open.
	Idle Kind = iota
	// Active means at least one tunnel is open.
	Active
	// Trouble means a tunnel is reconnecting or has failed.
	Trouble
)

// String returns the name used in the icon file names: "idle", "active" or
// "trouble".
func (k Kind) String() string {
	switch k {
	case Idle:
		return "idle"
	case Active:
		return "active"
	case Trouble:
		return "trouble"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// AppIconSizes returns the sizes, in pixels, at which AppIcon has an image,
// smallest first.
func AppIconSizes() []int { return []int{16, 24, 32, 48, 64, 128, 256, 512} }

// Icon returns the tray icon for kind in the format goos needs ("windows":
// ICO, "darwin": template PNG, else PNG). An unknown kind gets the Trouble
// icon, so a bug shows up as a warning rather than a blank tray.
func Icon(kind Kind, goos string) []byte {
	if kind < Idle || kind > Trouble {
		kind = Trouble
	}
	name := "icons/tray-" + kind.String()
	switch goos {
	case "windows":
		name += ".ico"
	case "darwin":
		name += "-template.png"
	default:
		name += ".png"
	}
	return mustRead(name)
}

// AppIcon returns the application icon as PNG at the given size, in pixels.
// A size without its own image gets the nearest one of AppIconSizes
// (the larger one on a tie).
func AppIcon(size int) []byte {
	sizes := AppIconSizes()
	best := sizes[0]
	for _, s := range sizes {
		if abs(s-size) <= abs(best-size) {
			best = s
		}
	}
	return mustRead(fmt.Sprintf("icons/app-%d.png", best))
}

// AppIconSVG returns the scalable application icon.
func AppIconSVG() []byte { return mustRead("icons/bore.svg") }

// AppIconICO returns the application icon as a multi-size Windows ICO.
func AppIconICO() []byte { return mustRead("icons/bore.ico") }

// AppIconICNS returns the application icon as a macOS ICNS icon family.
func AppIconICNS() []byte { return mustRead("icons/bore.icns") }

// mustRead reads an embedded file; the names are fixed at compile time and
// covered by the tests, so a miss is a programming error.
func mustRead(name string) []byte {
	b, err := files.ReadFile(name)
	if err != nil {
		panic("assets: missing embedded icon " + name)
	}
	return b
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
