package desktop

import (
	"strings"
)

// Autostart manages launch at login: an XDG autostart .desktop file on
// Linux ($XDG_CONFIG_HOME/autostart/bore.desktop), a LaunchAgent on macOS
// (~/Library/LaunchAgents/io.github.boretray.bore.plist) and a value named
// Name under HKCU\Software\Microsoft\Windows\CurrentVersion\Run on Windows.
type Autostart struct {
	Name string   // display name, "Bore"; the file name is its lower-case form
	Exec string   // absolute path of the binary
	Args []string // arguments to start it with
	// Icon is the app icon as PNG; on Linux it is installed under
	// $XDG_DATA_HOME/icons and named by the entry's Icon= line.
	Icon []byte
}

// name returns a.Name or "Bore".
func (a Autostart) name() string {
	if a.Name == "" {
		return "Bore"
	}
	return a.Name
}

// slug is the lower-case, file-name-safe form of the name ("bore").
func (a Autostart) slug() string {
	var b strings.Builder
	for _, r := range strings.ToLower(a.name()) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' || r == '_' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "bore"
	}
	return b.String()
}
