package tray

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/boretray/bore/app"
	"github.com/boretray/bore/assets"
)

// fakeTray is an in-memory systray: a tree of items built only through the
// calls Shell makes, as fyne.io/systray builds its menu.
type fakeTray struct {
	mu      sync.Mutex
	root    []*fakeItem
	resets  int
	created int
	icon    []byte
	tooltip string
	title   string
	// revives makes it behave as fyne's Windows menus do: a hidden item
	// is out of the menu, and any change to it puts it back.
	revives bool
}

type fakeItem struct {
	tray      *fakeTray
	parent    *fakeItem
	separator bool
	title     string
	disabled  bool
	checkable bool
	checked   bool
	children  []*fakeItem
	hidden    bool
	id        int
	clicked   chan struct{}
	removed   bool
}

func (f *fakeTray) SetIcon(img []byte)  { f.mu.Lock(); f.icon = img; f.mu.Unlock() }
func (f *fakeTray) SetTooltip(s string) { f.mu.Lock(); f.tooltip = s; f.mu.Unlock() }
func (f *fakeTray) SetTitle(s string)   { f.mu.Lock(); f.title = s; f.mu.Unlock() }

func (f *fakeTray) ResetMenu() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resets++
	for _, it := range f.root {
		it.drop()
	}
	f.root = nil
}

func (f *fakeTray) AddSeparator() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.root = append(f.root, &fakeItem{tray: f, separator: true})
}

func (f *fakeTray) AddMenuItem(title, _ string) menuItem {
	return f.add(nil, title, false, false)
}

func (f *fakeTray) AddMenuItemCheckbox(title, _ string, checked bool) menuItem {
	return f.add(nil, title, true, checked)
}

func (f *fakeTray) add(parent *fakeItem, title string, checkable, checked bool) *fakeItem {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.created++
	it := &fakeItem{tray: f, parent: parent, title: title, checkable: checkable, checked: checked,
		id: f.created, clicked: make(chan struct{})}
	if parent == nil {
		f.root = append(f.root, it)
	} else {
		parent.children = append(parent.children, it)
	}
	return it
}

// drop marks it and its children removed and closes their click channels,
// as systray does on Remove.
func (it *fakeItem) drop() {
	if it.removed {
		return
	}
	it.removed = true
	if it.clicked != nil {
		close(it.clicked)
	}
	for _, c := range it.children {
		c.drop()
	}
}

func (it *fakeItem) set(f func()) {
	it.tray.mu.Lock()
	defer it.tray.mu.Unlock()
	if it.removed {
		panic("change to a removed item " + it.title)
	}
	f()
}

// change applies f to it; where changes revive hidden items, it shows it.
func (it *fakeItem) change(f func()) {
	it.set(func() {
		f()
		if it.tray.revives {
			it.hidden = false
		}
	})
}

func (it *fakeItem) SetTitle(s string) { it.change(func() { it.title = s }) }
func (it *fakeItem) Enable()           { it.change(func() { it.disabled = false }) }
func (it *fakeItem) Disable()          { it.change(func() { it.disabled = true }) }
func (it *fakeItem) Check()            { it.change(func() { it.checked = true }) }
func (it *fakeItem) Uncheck()          { it.change(func() { it.checked = false }) }
func (it *fakeItem) Hide()             { it.set(func() { it.hidden = true }) }
func (it *fakeItem) Show()             { it.set(func() { it.hidden = false }) }

// String starts as systray's does, with the item's dbusmenu ID.
func (it *fakeItem) String() string { return fmt.Sprintf("MenuItem[%d, %q]", it.id, it.title) }

func (it *fakeItem) Remove() {
	it.tray.mu.Lock()
	defer it.tray.mu.Unlock()
	if it.parent == nil {
		it.tray.root = slices.DeleteFunc(it.tray.root, func(o *fakeItem) bool { return o == it })
	} else {
		it.parent.children = slices.DeleteFunc(it.parent.children, func(o *fakeItem) bool { return o == it })
	}
	it.drop()
}

func (it *fakeItem) AddSeparator() {
	it.set(func() { it.children = append(it.children, &fakeItem{tray: it.tray, parent: it, separator: true}) })
}

func (it *fakeItem) AddSubMenuItem(title, _ string) menuItem {
	return it.tray.add(it, title, false, false)
}

func (it *fakeItem) AddSubMenuItemCheckbox(title, _ string, checked bool) menuItem {
	return it.tray.add(it, title, true, checked)
}

func (it *fakeItem) Clicked() <-chan struct{} { return it.clicked }

// menu describes the fake's menu as a panel shows it, one line per shown
// item, indented by depth.
func (f *fakeTray) menu() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	var walk func(items []*fakeItem, depth int)
	walk = func(items []*fakeItem, depth int) {
		for _, it := range items {
			if it.hidden {
				continue
			}
			b.WriteString(strings.Repeat("  ", depth))
			if it.separator {
				b.WriteString("---\n")
				continue
			}
			fmt.Fprintf(&b, "%s%s\n", it.title, flags(!it.disabled, it.checkable, it.checked))
			walk(it.children, depth+1)
		}
	}
	walk(f.root, 0)
	return b.String()
}

// want describes entries the way menu describes the fake.
func want(entries []app.MenuEntry) string {
	var b strings.Builder
	var walk func(entries []app.MenuEntry, depth int)
	walk = func(entries []app.MenuEntry, depth int) {
		for _, e := range entries {
			b.WriteString(strings.Repeat("  ", depth))
			if e.Separator {
				b.WriteString("---\n")
				continue
			}
			fmt.Fprintf(&b, "%s%s\n", e.Label, flags(e.Enabled, e.Checkable, e.Checked))
			walk(e.Children, depth+1)
		}
	}
	walk(entries, 0)
	return b.String()
}

func flags(enabled, checkable, checked bool) string {
	s := ""
	if !enabled {
		s += " (disabled)"
	}
	if checkable {
		s += map[bool]string{true: " [x]", false: " [ ]"}[checked]
	}
	return s
}

// find returns the fake item with the given title path ("A/a1").
func (f *fakeTray) find(path string) *fakeItem {
	f.mu.Lock()
	defer f.mu.Unlock()
	items := f.root
	var found *fakeItem
	for _, title := range strings.Split(path, "/") {
		found = nil
		for _, it := range items {
			if it.title == title && !it.hidden {
				found = it
				break
			}
		}
		if found == nil {
			return nil
		}
		items = found.children
	}
	return found
}

func it(id string) app.MenuEntry {
	return app.MenuEntry{ID: id, Label: id, Enabled: true, Intent: app.Intent{Kind: app.IntentAbout, Host: id}}
}

func sep(id string) app.MenuEntry { return app.MenuEntry{ID: id, Separator: true} }

func sub(id string, children ...app.MenuEntry) app.MenuEntry {
	return app.MenuEntry{ID: id, Label: id, Enabled: true, Children: children}
}

func chk(id string, checked bool) app.MenuEntry {
	e := it(id)
	e.Checkable, e.Checked = true, checked
	return e
}

// newTestShell returns a Shell drawing through f as it draws where panels
// read the menu over D-Bus (Linux), or with native set as where the menu is
// native (Windows, macOS), f then behaving as fyne's Windows menus do.
// Tests pick one or both, whatever system they run on.
func newTestShell(f *fakeTray, icons func(assets.Kind) []byte, native bool) *Shell {
	s := newShell(f, icons)
	s.spares, s.dbus = 12, true // as on Linux
	if native {
		s.spares, s.dbus = 0, false
		f.revives = true
	}
	return s
}

// settle waits until the fake shows menu: a new submenu gets its children
// only a moment after it appears.
func settle(t *testing.T, f *fakeTray, name string, menu []app.MenuEntry) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, want := f.menu(), want(menu)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: menu\n%s\nwant\n%s", name, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A submenu that appears after the menu was first drawn shows first
// without children and gets them a moment later: libdbusmenu panels drop
// the children of a submenu item realized after them. A submenu whose last
// child goes away keeps its (hidden) children, so it is never emptied.
func TestShellNewSubmenuChildrenComeLater(t *testing.T) {
	defer goleak.VerifyNone(t)
	f := &fakeTray{}
	s := newTestShell(f, func(assets.Kind) []byte { return nil }, false)
	defer s.Close()

	first := []app.MenuEntry{it("status"), sub("A", it("a1")), sep("sep"), it("quit")}
	s.Render(app.View{Menu: first})
	settle(t, f, "first", first)

	grown := []app.MenuEntry{it("status"), sub("A", it("a1"), sub("S", it("s1"), it("s2"))), sep("sep"), it("quit")}
	s.Render(app.View{Menu: grown})
	if got := f.menu(); !strings.Contains(got, "  S\n") || strings.Contains(got, "s1") {
		t.Errorf("right after it appeared the submenu shows\n%s\nwant it without children yet", got)
	}
	settle(t, f, "grown", grown)
	sItem := f.find("A/S")

	emptied := []app.MenuEntry{it("status"), sub("A", it("a1")), sep("sep"), it("quit")}
	s.Render(app.View{Menu: emptied})
	settle(t, f, "emptied", emptied)
	f.mu.Lock()
	removed, resets := sItem.removed, f.resets
	f.mu.Unlock()
	if removed {
		t.Error("the submenu item was removed, want it hidden for reuse")
	}
	if resets != 0 {
		t.Errorf("rebuilt the menu %d times, want items hidden and reused", resets)
	}
}

// shownAtOnce checks that f shows menu right after Render, as a native menu
// must: the shell leaves nothing to do later.
func shownAtOnce(t *testing.T, s *Shell, f *fakeTray, name string, menu []app.MenuEntry) {
	t.Helper()
	if got, want := f.menu(), want(menu); got != want {
		t.Errorf("%s: right after Render the menu is\n%s\nwant\n%s", name, got, want)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.touched) > 0 || len(s.grown) > 0 || len(s.waiting) > 0 {
		t.Errorf("%s: %d items to send again, %d to regrow, %d submenus waiting for children, want none in a native menu",
			name, len(s.touched), len(s.grown), len(s.waiting))
	}
}

// Tunnel rows come and go above the first separator. Where panels read the
// menu over D-Bus, a new row takes a hidden spare; in a native menu there
// are none (on Windows hidden items came back as blank rows), so a row
// beyond the most shown so far rebuilds the menu, once, and a row that
// went away leaves its item for the next one.
func TestShellNewTunnelRows(t *testing.T) {
	for _, native := range []bool{false, true} {
		name := map[bool]string{false: "dbusmenu", true: "native"}[native]
		t.Run(name, func(t *testing.T) {
			defer goleak.VerifyNone(t)
			f := &fakeTray{}
			s := newTestShell(f, func(assets.Kind) []byte { return nil }, native)
			defer s.Close()

			tunnel := func(id string) app.MenuEntry { return sub(id, it(id+"/copy"), it(id+"/stop")) }
			menu := func(tunnels []app.MenuEntry, ports ...app.MenuEntry) []app.MenuEntry {
				m := append([]app.MenuEntry{it("status")}, tunnels...)
				return append(m, sep("sep/tunnels"), sub("share", append(ports, it("other"))...),
					sub("prefs", chk("login", false)), sep("sep/app"), it("quit"))
			}
			steps := []struct {
				name string
				menu []app.MenuEntry
				// resets is how many times the step rebuilds the menu,
				// with spares and without.
				resets, nativeResets int
			}{
				{"first_draw", menu(nil, it("8080"), it("9000")), 0, 0},
				{"tunnel_starts", menu([]app.MenuEntry{tunnel("t1")}, it("8080"), it("9000")), 0, 1},
				{"second_tunnel", menu([]app.MenuEntry{tunnel("t1"), tunnel("t2")}, it("8080"), it("9000")), 0, 1},
				{"first_stops", menu([]app.MenuEntry{tunnel("t2")}, it("8080"), it("9000")), 0, 0},
				{"port_goes", menu([]app.MenuEntry{tunnel("t2")}, it("9000")), 0, 0},
				{"all_stop", menu(nil, it("9000")), 0, 0},
				{"two_again", menu([]app.MenuEntry{tunnel("t3"), tunnel("t4")}, it("8080"), it("9000")), 0, 0},
				{"third_tunnel", menu([]app.MenuEntry{tunnel("t3"), tunnel("t4"), tunnel("t5")}, it("9000")), 0, 1},
			}
			for _, st := range steps {
				f.mu.Lock()
				resets := f.resets
				f.mu.Unlock()
				s.Render(app.View{Menu: st.menu})
				if native {
					shownAtOnce(t, s, f, st.name, st.menu)
				}
				settle(t, f, st.name, st.menu)
				f.mu.Lock()
				dr := f.resets - resets
				f.mu.Unlock()
				if wantResets := map[bool]int{false: st.resets, true: st.nativeResets}[native]; dr != wantResets {
					t.Errorf("%s: rebuilt the menu %d times, want %d", st.name, dr, wantResets)
				}
			}
			if native {
				// Nothing was made but what the menus showed: no spares.
				f.mu.Lock()
				var blank int
				var walk func(items []*fakeItem)
				walk = func(items []*fakeItem) {
					for _, it := range items {
						if !it.separator && it.title == "" {
							blank++
						}
						walk(it.children)
					}
				}
				walk(f.root)
				f.mu.Unlock()
				if blank > 0 {
					t.Errorf("the menu holds %d untitled items, want no spares", blank)
				}
			}
		})
	}
}

func TestShellDiffsTheMenu(t *testing.T) {
	t.Run("dbusmenu", func(t *testing.T) { testShellDiffsTheMenu(t, false) })
	t.Run("native", func(t *testing.T) { testShellDiffsTheMenu(t, true) })
}

// testShellDiffsTheMenu draws a series of menus, each changing the last a
// little, and checks what the shell did to the items.
func testShellDiffsTheMenu(t *testing.T, native bool) {
	defer goleak.VerifyNone(t)
	f := &fakeTray{}
	s := newTestShell(f, func(k assets.Kind) []byte { return []byte(k.String()) }, native)
	defer s.Close()

	status := it("status")
	top := func(a app.MenuEntry, b app.MenuEntry) []app.MenuEntry {
		return []app.MenuEntry{status, sep("sep1"), a, b, sep("sep2"), it("quit")}
	}
	type step struct {
		name string
		menu []app.MenuEntry
		// keep are items (title paths, "before>after" when the title
		// changes) that must be the same objects as before the step:
		// updated in place, not recreated.
		keep []string
		// created is how many items the step may create at most (hidden
		// items are reused first); -1 is any.
		created int
		// resets is how many times the step may rebuild the whole menu.
		resets int
	}
	disabledA2 := it("a2")
	disabledA2.Enabled = false
	relabeled := status
	relabeled.Label = "status now"
	steps := []step{
		{name: "first_draw", menu: top(sub("A", it("a1"), it("a2"), it("a3")), chk("B", false)), created: -1},
		{name: "in_place", menu: append([]app.MenuEntry{relabeled}, top(sub("A", it("a1"), disabledA2, it("a3")), chk("B", true))[1:]...),
			keep: []string{"status>status now", "A", "A/a1", "A/a2", "A/a3", "B", "quit"}},
		{name: "insert", menu: top(sub("A", it("a1"), it("aX"), it("a2"), it("a3")), chk("B", true)),
			keep: []string{"A", "A/a1", "B"}, created: -1},
		{name: "remove", menu: top(sub("A", it("a1"), it("a3")), chk("B", true)),
			keep: []string{"A", "A/a1", "B"}, created: -1},
		{name: "reorder", menu: top(sub("A", it("a3"), it("a1")), chk("B", true)),
			keep: []string{"A", "B"}, created: -1},
		{name: "submenu_grows", menu: top(sub("A", it("a3"), it("a1"), it("a4"), sub("S", it("s1"))), chk("B", true)),
			keep: []string{"A", "A/a3", "A/a1", "B"}, created: -1},
		{name: "nested_submenu_grows", menu: top(sub("A", it("a3"), it("a1"), it("a4"), sub("S", it("s1"), it("s2"))), chk("B", true)),
			keep: []string{"A", "A/a3", "A/S", "A/S/s1", "B"}, created: -1},
		{name: "submenu_shrinks", menu: top(sub("A", it("a3"), sub("S", it("s1"))), chk("B", true)),
			keep: []string{"A", "A/a3", "B"}, created: -1},
		{name: "kind_changes", menu: top(sub("A", chk("a3", true), sub("S", it("s1"))), chk("B", true)),
			keep: []string{"A", "B"}, created: -1},
		{name: "kind_changes_before_a_separator", menu: top(sub("A", chk("a3", true), sub("S", it("s1"))), it("B")),
			created: -1, resets: 1},
		{name: "separator_in_submenu", menu: top(sub("A", it("a3"), sep("sepA"), it("a6")), it("B")),
			keep: []string{"A"}, created: -1},
		{name: "change_behind_a_separator_in_a_submenu", menu: top(sub("A", it("a7"), sep("sepA"), it("a6")), it("B")),
			created: -1, resets: 1},
		{name: "insert_before_a_separator", menu: append([]app.MenuEntry{status, it("T1")}, top(sub("A", it("a7"), sep("sepA"), it("a6")), it("B"))[1:]...),
			created: -1, resets: 1},
		{name: "remove_before_a_separator", menu: top(sub("A", it("a7"), sep("sepA"), it("a6")), it("B")),
			created: -1, resets: 1},
		{name: "separator_removed", menu: []app.MenuEntry{status, sub("A", it("a7")), it("B"), it("quit")},
			created: -1, resets: 1},
		{name: "separator_added_at_the_end", menu: []app.MenuEntry{status, sub("A", it("a7")), it("B"), it("quit"), sep("sep3")}, created: -1,
			keep: []string{"status", "A", "A/a7", "B", "quit"}},
	}
	for _, st := range steps {
		before := map[string]*fakeItem{}
		for _, p := range st.keep {
			old, _, _ := strings.Cut(p, ">")
			before[p] = f.find(old)
		}
		f.mu.Lock()
		created, resets := f.created, f.resets
		f.mu.Unlock()
		s.Render(app.View{Icon: assets.Active, Tooltip: "tip", Title: "Bore", Menu: st.menu})
		if native {
			// A native menu is drawn whole at once, nothing follows.
			shownAtOnce(t, s, f, st.name, st.menu)
		}
		settle(t, f, st.name, st.menu)
		f.mu.Lock()
		dc, dr := f.created-created, f.resets-resets
		f.mu.Unlock()
		if st.created >= 0 && dc > st.created {
			t.Errorf("%s: created %d items, want at most %d", st.name, dc, st.created)
		}
		if dr > st.resets {
			t.Errorf("%s: rebuilt the menu %d times, want %d", st.name, dr, st.resets)
		}
		for _, p := range st.keep {
			_, cur, renamed := strings.Cut(p, ">")
			if !renamed {
				cur = p
			}
			if now := f.find(cur); now == nil || before[p] == nil || now != before[p] {
				t.Errorf("%s: %s was recreated, want it updated in place", st.name, p)
			}
		}
	}
	if string(f.icon) != "active" || f.tooltip != "tip" || f.title != "Bore" {
		t.Errorf("icon %q tooltip %q title %q", f.icon, f.tooltip, f.title)
	}

	// A click on a live item reaches Intents with the entry's intent.
	f.find("A/a7").clicked <- struct{}{}
	select {
	case in := <-s.Intents():
		if in.Host != "a7" {
			t.Errorf("click gave %+v, want a7's intent", in)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("click not delivered")
	}
}
