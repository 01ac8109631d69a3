package app

import (
	"errors"

	"github.com/boretray/bore/tunnel"
)

// This file is Update's "Share a folder…" and "Share a file…" area: the
// picker, and what the user hears when a share opens.

func (u *update) shareClicked(folder bool) {
	if _, ok := u.m.currentServer(); !ok {
		return
	}
	title := "Share a file"
	if folder {
		title = "Share a folder"
	}
	u.do(Pick{Folder: folder, Title: title})
}

func (u *update) picked(e Picked) {
	what := "a file"
	if e.Pick.Folder {
		what = "a folder"
	}
	switch {
	case errors.Is(e.Err, ErrCancelled):
		return
	case errors.Is(e.Err, ErrNoDialogs):
		u.alert("Bore cannot show a file picker",
			"No file picker program was found: install zenity (or kdialog or yad); Bore finds it at once. "+
				"Or share from a terminal: bore share DIR --to SERVER.")
		return
	case e.Err != nil:
		u.alert("Could not choose "+what+" to share", e.Err.Error())
		return
	case e.Path == "":
		return
	}
	srv, ok := u.m.currentServer()
	if !ok {
		u.alert("Cannot share "+shareName(e.Path), noServerChosen)
		return
	}
	u.do(StartTunnel{Config: tunnel.ClientConfig{
		Server:      srv.Host,
		ControlPort: srv.Port(),
		Secret:      srv.Secret,
	}, Share: e.Path})
}

// announceShare copies a share's link when it opens (or its address
// changes) and says so, even with informational notifications off: the
// link is the answer to what the user asked for.
func (u *update) announceShare(st tunnel.Status, changed bool) {
	name, link := shareName(u.m.Shares[st.ID]), publicURL(st)+"/"
	copied := "Sharing " + name + " (read-only) at " + link + " — link copied"
	plain := "Sharing " + name + " (read-only) at " + link
	if changed {
		copied = "The address of " + name + " changed — new link copied: " + link
		plain = "The address of " + name + " changed to " + link
	}
	u.do(CopyText{Text: link, Open: &OpenNote{Copied: copied, Plain: plain, Alert: true}})
}
