package app

import (
	"time"

	"github.com/boretray/bore/tunnel"
)

// IntentKind names what a menu click asks for.
type IntentKind int

// The intents a menu can emit. Each says which fields of Intent it uses.
const (
	// IntentNone is the zero Intent: the entry does nothing when clicked.
	IntentNone IntentKind = iota
	// IntentCopyAddress copies Tunnel's public address.
	IntentCopyAddress
	// IntentCopyURL copies Tunnel's public address as an http:// URL.
	IntentCopyURL
	// IntentShowQR opens a QR code of Tunnel's public address.
	IntentShowQR
	// IntentStopAfter stops Tunnel after Duration; 0 cancels the timer.
	IntentStopAfter
	// IntentSaveFavorite saves Tunnel as a favorite.
	IntentSaveFavorite
	// IntentStopTunnel stops (or dismisses, when failed) Tunnel.
	IntentStopTunnel
	// IntentSharePort starts a tunnel from Host:Port to the current server.
	IntentSharePort
	// IntentOtherPort asks for a port (and optional host) to share.
	IntentOtherPort
	// IntentToggleFavorite starts the favorite whose key is Favorite, or
	// stops it.
	IntentToggleFavorite
	// IntentToggleStartFavorites flips "Start favorites at launch".
	IntentToggleStartFavorites
	// IntentRemoveFavorite deletes the favorite whose key is Favorite.
	IntentRemoveFavorite
	// IntentSelectServer makes the server whose key is Server the current
	// one.
	IntentSelectServer
	// IntentAddServer asks for a new server.
	IntentAddServer
	// IntentRemoveServer deletes the server whose key is Server.
	IntentRemoveServer
	// IntentTogglePref flips the preference Pref.
	IntentTogglePref
	// IntentOpenConfig opens the folder holding the settings file.
	IntentOpenConfig
	// IntentAbout shows the version.
	IntentAbout
	// IntentQuit stops every tunnel and ends the app.
	IntentQuit
	// IntentToggleInspect turns Tunnel's traffic inspector on (and opens
	// its page) or off.
	IntentToggleInspect
	// IntentOpenInspector opens the page of Tunnel's inspector.
	IntentOpenInspector
	// IntentToggleFavoriteInspect flips the saved "Inspect traffic"
	// option of the favorite whose key is Favorite.
	IntentToggleFavoriteInspect
	// IntentShareFolder asks for a folder and shares it, read-only,
	// through the current server.
	IntentShareFolder
	// IntentShareFile asks for a file and shares it, read-only, through
	// the current server.
	IntentShareFile
)

// Pref names a boolean preference of the Preferences menu.
type Pref int

// The preferences shown as checkboxes.
const (
	PrefNone Pref = iota
	// PrefLaunchAtLogin starts the app when the user logs in.
	PrefLaunchAtLogin
	// PrefCopyOnOpen copies a tunnel's address when it opens.
	PrefCopyOnOpen
	// PrefNotifications shows notifications other than errors.
	PrefNotifications
	// PrefNotifyOnConnection notifies when a visitor connects.
	PrefNotifyOnConnection
)

// Intent is what a click on a menu entry asks for. It is a plain comparable
// value; only the fields its Kind documents are set.
type Intent struct {
	Kind   IntentKind
	Tunnel tunnel.TunnelID
	Host   string
	Port   uint16
	// Favorite is a favorite's key (FavoriteKey).
	Favorite string
	// Server is a server's key (settings.Server.Key).
	Server   string
	Duration time.Duration
	Pref     Pref
}
