package app

// IconKind selects the tray icon.
type IconKind int

// The three tray icons.
const (
	// IconIdle: no tunnel is open.
	IconIdle IconKind = iota
	// IconActive: at least one tunnel is open and none is in trouble.
	IconActive
	// IconTrouble: a tunnel is reconnecting or has failed.
	IconTrouble
)

// String returns the icon kind's name.
func (k IconKind) String() string {
	switch k {
	case IconActive:
		return "active"
	case IconTrouble:
		return "trouble"
	}
	return "idle"
}

// View is everything the tray shows, as plain data: the shell draws it and
// makes no decisions of its own.
type View struct {
	Icon    IconKind
	Tooltip string
	Title   string
	Menu    []MenuEntry
}

// MenuEntry is one menu item, a separator, or a submenu (when Children is
// not empty).
type MenuEntry struct {
	// ID is stable across renders for the same logical item, unique within
	// the whole menu; the shell keys its items by it.
	ID string
	// Label is the text shown.
	Label string
	// Enabled entries can be clicked.
	Enabled bool
	// Checkable entries show a check box; Checked is its state.
	Checkable bool
	Checked   bool
	// Children make the entry a submenu.
	Children []MenuEntry
	// Intent is sent to the Controller when the entry is clicked.
	Intent Intent
	// Separator makes the entry a separator line; only ID is used then.
	Separator bool
}

// Find returns the entry with the given ID anywhere in the tree.
func (v View) Find(id string) (MenuEntry, bool) {
	return findEntry(v.Menu, id)
}

func findEntry(entries []MenuEntry, id string) (MenuEntry, bool) {
	for _, e := range entries {
		if e.ID == id {
			return e, true
		}
		if c, ok := findEntry(e.Children, id); ok {
			return c, true
		}
	}
	return MenuEntry{}, false
}
