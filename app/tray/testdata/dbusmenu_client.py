#!/usr/bin/env python3
"""Reads a tray's menu through libdbusmenu, as xfce4-panel, MATE, Cinnamon
and GNOME's AppIndicator extension do: libdbusmenu-glib's model and the GTK
menu libdbusmenu-gtk3 builds from it (the widgets a panel pops up).

Usage: dbusmenu_client.py BUS_NAME MENU_PATH   (needs an X display)

The client keeps its model across LayoutUpdated and ItemsPropertiesUpdated
signals exactly as a panel does. Both the model and the GTK menu must show
the wanted tree. Each line on stdin is a JSON object
{"step": N, "want": [entries]}; once the client's tree matches "want" and
stays so for a short while, or after a deadline, it answers on stdout with
{"step": N, "ok": bool, "why": str, "got": [entries]}. An entry is
{"label", "enabled", "toggle": "" | "checkmark", "checked", "separator",
"children"}. libdbusmenu's own warnings go to stderr, where the test reads
them.
"""

import json
import sys
import time

import gi

gi.require_version("Dbusmenu", "0.4")
gi.require_version("DbusmenuGtk3", "0.4")
gi.require_version("Gtk", "3.0")
from gi.repository import Dbusmenu, DbusmenuGtk3, GLib, Gtk  # noqa: E402

MODEL_KEYS = ("separator", "label", "enabled", "toggle", "checked", "submenu")
GTK_KEYS = ("separator", "label", "enabled", "checked", "submenu")
SETTLE = 0.3  # seconds the tree must stay right
DEADLINE = 25.0  # seconds to wait for the right tree


def entry(mi):
    """Returns the client's view of one item, as the panel would draw it."""
    e = {}
    if mi.property_get("type") == "separator":
        e["separator"] = True
        return e
    e["label"] = mi.property_get("label") or ""
    e["enabled"] = (mi.property_get_bool("enabled")
                    if mi.property_exist("enabled") else True)
    e["toggle"] = mi.property_get("toggle-type") or ""
    e["checked"] = (e["toggle"] != ""
                    and mi.property_get_int("toggle-state") == 1)
    kids = [entry(c) for c in mi.get_children() if visible(c)]
    e["children"] = kids
    # A GTK client makes a submenu only for an item whose children-display
    # is "submenu": children without it are never shown.
    e["submenu"] = mi.property_get("children-display") == "submenu"
    return e


def gtk_tree(menu):
    """Returns the GTK menu's items as a user would see them."""
    out = []
    for w in menu.get_children():
        if not w.get_visible():
            continue
        if isinstance(w, Gtk.SeparatorMenuItem):
            out.append({"separator": True})
            continue
        e = {"label": w.get_label() or "", "enabled": w.get_sensitive()}
        # libdbusmenu-gtk makes every item a check menu item and hides the
        # box of those that are not toggles: only the state is compared.
        e["checked"] = isinstance(w, Gtk.CheckMenuItem) and w.get_active()
        sub = w.get_submenu()
        e["children"] = gtk_tree(sub) if sub is not None else []
        e["submenu"] = sub is not None
        out.append(e)
    return out


def visible(mi):
    return mi.property_get_bool("visible") if mi.property_exist("visible") else True


def tree(client):
    root = client.get_root()
    if root is None:
        return None
    return [entry(c) for c in root.get_children() if visible(c)]


def normal(want):
    out = []
    for w in want:
        if w.get("separator"):
            out.append({"separator": True})
            continue
        kids = normal(w.get("children") or [])
        out.append({
            "label": w.get("label", ""),
            "enabled": bool(w.get("enabled")),
            "toggle": "checkmark" if w.get("checkable") else "",
            "checked": bool(w.get("checkable") and w.get("checked")),
            "children": kids,
            "submenu": len(kids) > 0,
        })
    return out


def diff(got, want, path, keys):
    """Says where got differs from want, or returns ""."""
    if got is None:
        return "the client has no root item"
    if len(got) != len(want):
        return "%s has %d children, want %d: %s" % (
            path, len(got), len(want), [g.get("label", "---") for g in got])
    for i, (g, w) in enumerate(zip(got, want)):
        where = "%s[%d] %r" % (path, i, w.get("label", "---"))
        for k in keys:
            if g.get(k) != w.get(k):
                return "%s: %s is %r, want %r" % (where, k, g.get(k), w.get(k))
        d = diff(g.get("children", []), w.get("children", []), where, keys)
        if d:
            return d
    return ""


class Checker:
    def __init__(self, name, path):
        self.menu = DbusmenuGtk3.Menu.new(name, path)
        self.client = self.menu.get_client()
        self.pending = None  # (step, want, started, matched_since)
        self.lines = []
        GLib.io_add_watch(sys.stdin.fileno(), GLib.IO_IN | GLib.IO_HUP, self.read)
        GLib.timeout_add(20, self.poll)

    def read(self, fd, cond):
        line = sys.stdin.readline()
        if not line:
            loop.quit()
            return False
        cmd = json.loads(line)
        self.lines.append(cmd)
        return True

    def poll(self):
        now = time.monotonic()
        if self.pending is None and self.lines:
            cmd = self.lines.pop(0)
            self.pending = [cmd["step"], normal(cmd["want"]), now, None]
        if self.pending is None:
            return True
        step, want, started, since = self.pending
        got = tree(self.client)
        why = diff(got, want, "libdbusmenu-glib's menu", MODEL_KEYS)
        if not why:
            got = gtk_tree(self.menu)
            why = diff(got, want, "the GTK menu", GTK_KEYS)
        if why:
            self.pending[3] = None
            if now - started > DEADLINE:
                self.answer(step, False, why, got)
            return True
        if since is None:
            self.pending[3] = now
        elif now - since >= SETTLE:
            self.answer(step, True, "", got)
        return True

    def answer(self, step, ok, why, got):
        self.pending = None
        sys.stdout.write(json.dumps({"step": step, "ok": ok, "why": why, "got": got}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    Gtk.init(None)
    loop = GLib.MainLoop()
    Checker(sys.argv[1], sys.argv[2])
    loop.run()
