//go:build !windows && !darwin

package tray

// dbusMenu reports whether panels read the menu over D-Bus (fyne serves it
// as a com.canonical.dbusmenu), with the troubles described at Shell. So it
// is on Linux and the BSDs.
const dbusMenu = true

// initialSpares is how many hidden spare items stand before each separator
// after the first draw; each full rebuild doubles it. libdbusmenu panels
// handle hidden items well, while a rebuild makes them warn and may leave
// their submenus empty, so a new tunnel row should find a spare waiting.
const initialSpares = 12
