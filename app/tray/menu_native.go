//go:build windows || darwin

package tray

// dbusMenu reports whether panels read the menu over D-Bus. On Windows and
// macOS fyne draws a native menu that the process owns: it shows every
// change as made, in order, and a rebuild is cheap.
const dbusMenu = false

// initialSpares is how many hidden spare items stand before each separator
// after the first draw: none here, a new tunnel row rebuilds the menu. fyne
// hides a Windows menu item by taking it out of the menu, and any change to
// it later puts it back: hidden spares showed as blank rows.
const initialSpares = 0
