package desktop

import (
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// launchAgentLabel is the LaunchAgent's label and file name.
const launchAgentLabel = "io.github.boretray.bore"

// path is ~/Library/LaunchAgents/io.github.boretray.bore.plist.
func (a Autostart) path() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the home folder: %w", err)
	}
	return filepath.Join(home, "Library", "LaunchAgents", launchAgentLabel+".plist"), nil
}

// Enable writes the LaunchAgent, replacing an older one. It takes effect at
// the next login.
func (a Autostart) Enable() error {
	if !filepath.IsAbs(a.Exec) {
		return fmt.Errorf("cannot enable launch at login: %q is not an absolute path", a.Exec)
	}
	p, err := a.path()
	if err != nil {
		return fmt.Errorf("cannot enable launch at login: %w", err)
	}
	if err := writeFileAtomic(p, []byte(a.plist()), 0o644); err != nil {
		return fmt.Errorf("cannot enable launch at login: %w", err)
	}
	return nil
}

// Disable removes the LaunchAgent; a missing one is not an error.
func (a Autostart) Disable() error {
	p, err := a.path()
	if err != nil {
		return fmt.Errorf("cannot disable launch at login: %w", err)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("cannot disable launch at login: %w", err)
	}
	return nil
}

// Enabled reports whether the LaunchAgent exists.
func (a Autostart) Enabled() (bool, error) {
	p, err := a.path()
	if err != nil {
		return false, fmt.Errorf("cannot check launch at login: %w", err)
	}
	_, err = os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cannot check launch at login: %w", err)
	}
	return true, nil
}

// plist renders the LaunchAgent property list.
func (a Autostart) plist() string {
	var args strings.Builder
	for _, s := range append([]string{a.Exec}, a.Args...) {
		args.WriteString("\t\t<string>" + xmlEscape(s) + "</string>\n")
	}
	return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + launchAgentLabel + `</string>
	<key>ProgramArguments</key>
	<array>
` + args.String() + `	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>ProcessType</key>
	<string>Interactive</string>
</dict>
</plist>
`
}

// xmlEscape escapes s for XML character data.
func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
