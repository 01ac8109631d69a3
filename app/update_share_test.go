package app

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/boretray/bore/tunnel"
)

const photos = "/home/u/Photos"

// sharing returns m with tunnel st sharing path.
func sharing(st tunnel.Status, path string) Model {
	m := withTunnels(st)
	m.Shares[st.ID] = path
	return m
}

// shareTunnel is a tunnel sharing a file server on 127.0.0.1:port.
func shareTunnel(id tunnel.TunnelID, port, remote uint16) tunnel.Status {
	st := openTunnel(id, port, remote)
	st.LocalHost = "127.0.0.1"
	return st
}

func TestUpdateShare(t *testing.T) {
	t.Parallel()
	noServer := baseModel()
	noServer.Settings.CurrentServer = ""
	pickFolder := Pick{Folder: true, Title: "Share a folder"}
	pickFile := Pick{Title: "Share a file"}
	startShare := StartTunnel{Config: tunnel.ClientConfig{Server: "bore.pub", ControlPort: 7835}, Share: photos}
	connectingShare := shareTunnel(1, 40001, 0)
	connectingShare.State = tunnel.StateConnecting
	link := "http://bore.pub:41234/"
	runUpdateCases(t, []updateCase{
		{name: "share_a_folder_asks_for_one", model: baseModel(),
			event: click(Intent{Kind: IntentShareFolder}), want: fx(pickFolder)},
		{name: "share_a_file_asks_for_one", model: baseModel(),
			event: click(Intent{Kind: IntentShareFile}), want: fx(pickFile)},
		{name: "no_server_no_picker", model: noServer,
			event: click(Intent{Kind: IntentShareFolder}), want: none},
		{name: "picked_starts_the_share", model: baseModel(),
			event: Picked{Pick: pickFolder, Path: photos}, want: fx(startShare)},
		{name: "cancelled_picker_does_nothing", model: baseModel(),
			event: Picked{Pick: pickFolder, Err: fmt.Errorf("%w: closed", ErrCancelled)}, want: none},
		{name: "empty_answer_does_nothing", model: baseModel(),
			event: Picked{Pick: pickFile}, want: none},
		{name: "no_picker_says_what_to_install", model: baseModel(),
			event: Failed{Effect: pickFolder, Err: ErrNoDialogs},
			want: fx(alert("Bore cannot show a file picker",
				"No file picker program was found: install zenity (or kdialog or yad); Bore finds it at once. "+
					"Or share from a terminal: bore share DIR --to SERVER."))},
		{name: "picker_failed", model: baseModel(),
			event: Picked{Pick: pickFile, Err: errors.New("zenity dialog failed: exit status 255")},
			want:  fx(alert("Could not choose a file to share", "zenity dialog failed: exit status 255"))},
		{name: "picked_after_the_server_went", model: noServer,
			event: Picked{Pick: pickFolder, Path: photos},
			want:  fx(alert("Cannot share Photos", noServerChosen))},
		{name: "started_remembers_the_share", model: withTunnels(connectingShare),
			event: TunnelStarted{Start: startShare, ID: 1}, want: none,
			check: func(t *testing.T, m Model) {
				if m.Shares[1] != photos {
					t.Errorf("Shares = %v", m.Shares)
				}
			}},
		{name: "share_failed_names_the_folder", model: baseModel(),
			event: Failed{Effect: startShare, Err: errors.New("cannot share /home/u/Photos: no such folder")},
			want:  fx(alert("Could not share Photos", "cannot share /home/u/Photos: no such folder"))},
		{name: "open_copies_the_link_even_without_copy_on_open", model: func() Model {
			m := sharing(connectingShare, photos)
			m.Settings.CopyOnOpen, m.Settings.Notifications = false, false
			return m
		}(),
			event: EngineReported{Snapshot: tunnel.Snapshot{Tunnels: []tunnel.Status{shareTunnel(1, 40001, 41234)}}},
			want: fx(CopyText{Text: link, Open: &OpenNote{
				Copied: "Sharing Photos (read-only) at " + link + " — link copied",
				Plain:  "Sharing Photos (read-only) at " + link, Alert: true}})},
		{name: "copied_link_is_announced_as_an_answer", model: func() Model {
			m := sharing(shareTunnel(1, 40001, 41234), photos)
			m.Settings.Notifications = false
			return m
		}(),
			event: Copied{Copy: CopyText{Text: link, Open: &OpenNote{Copied: "copied", Plain: "plain", Alert: true}}},
			want:  fx(alert("Share open", "copied"))},
		{name: "link_not_copied", model: sharing(shareTunnel(1, 40001, 41234), photos),
			event: Copied{Copy: CopyText{Text: link, Open: &OpenNote{Copied: "copied", Plain: "plain", Alert: true}}, Err: errors.New("no display")},
			want:  fx(alert("Share open", "plain (could not copy it: no display)"))},
		{name: "stop_forgets_the_share", model: sharing(shareTunnel(1, 40001, 41234), photos),
			event: click(Intent{Kind: IntentStopTunnel, Tunnel: 1}),
			want:  fx(StopTunnel{ID: 1}),
			check: func(t *testing.T, m Model) {
				if len(m.Shares) != 0 {
					t.Errorf("Shares = %v, want none", m.Shares)
				}
			}},
		{name: "vanished_share_releases_its_file_server", model: sharing(shareTunnel(1, 40001, 41234), photos),
			event: EngineReported{},
			want:  fx(StopTunnel{ID: 1})},
	})
}

func TestRenderShare(t *testing.T) {
	m := baseModel()
	for _, id := range []string{"share/folder", "share/file"} {
		if e, ok := Render(m).Find(id); !ok || !e.Enabled {
			t.Errorf("%s = %+v, want an enabled entry", id, e)
		}
	}
	if e, _ := Render(m).Find("share/folder"); e.Label != "Share a folder…" {
		t.Errorf("label = %q", e.Label)
	}
	m.Settings.CurrentServer = ""
	for _, id := range []string{"share/folder", "share/file"} {
		if e, ok := Render(m).Find(id); !ok || e.Enabled {
			t.Errorf("%s = %+v, want it disabled with no server chosen", id, e)
		}
	}

	m = sharing(shareTunnel(1, 40001, 41234), photos)
	m.Ports = []Port{{Port: 40001, Addr: "127.0.0.1", Process: "bore"}}
	v := Render(m)
	line, ok := v.Find("tunnel/1")
	if !ok || line.Label != "Sharing Photos → bore.pub:41234" {
		t.Errorf("tunnel line = %q, want \"Sharing Photos → bore.pub:41234\"", line.Label)
	}
	var labels []string
	for _, c := range line.Children {
		labels = append(labels, c.Label)
	}
	got := strings.Join(labels, " | ")
	if strings.Contains(got, "favorite") || !strings.HasSuffix(got, "| Stop") || !strings.Contains(got, "Inspect traffic") {
		t.Errorf("share submenu = %s, want Inspect traffic and Stop, no favorite", got)
	}
	if _, ok := v.Find("share/port/40001"); ok {
		t.Error("the share's own file server is offered under Share a port")
	}
	if !strings.Contains(v.Tooltip, "Sharing Photos → bore.pub:41234") {
		t.Errorf("tooltip = %q", v.Tooltip)
	}
}

func TestShareName(t *testing.T) {
	for in, want := range map[string]string{
		"/home/u/Photos":       "Photos",
		"/home/u/Photos/":      "Photos",
		`C:\Users\u\Pictures`:  "Pictures",
		"/home/u/notes.txt":    "notes.txt",
		"/":                    "/",
		"relative/dir":         "dir",
		`C:\Users\u\My Files\`: "My Files",
	} {
		if got := shareName(in); got != want {
			t.Errorf("shareName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUpdateMisbehaving(t *testing.T) {
	t.Parallel()
	open1 := openTunnel(1, 3000, 41234)
	retrying := open1
	retrying.State, retrying.Err = tunnel.StateReconnecting, tunnel.ErrParse
	bad := retrying
	bad.Misbehaving = true
	out := outage(withTunnels(retrying), "bore.pub")
	why := misbehavingReason(bad)
	runUpdateCases(t, []updateCase{
		{name: "misbehaving_is_said_once", model: out,
			event: EngineReported{Snapshot: tunnel.Snapshot{Tunnels: []tunnel.Status{bad}}},
			want:  fx(alert("bore.pub is misbehaving", capitalize(why)+"."))},
		{name: "still_misbehaving_says_nothing_more", model: outage(withTunnels(bad), "bore.pub"),
			event: EngineReported{Snapshot: tunnel.Snapshot{Tunnels: []tunnel.Status{bad}}}, want: none},
	})
	if !strings.Contains(why, "misbehaving") || !strings.Contains(why, "may not be a bore server") ||
		!strings.Contains(why, "only now and then") {
		t.Errorf("reason = %q", why)
	}
	m := withTunnels(bad)
	line, _ := Render(m).Find("tunnel/1")
	if line.Label != "localhost:3000 → bore.pub (server misbehaving, retrying slowly…)" {
		t.Errorf("tunnel line = %q", line.Label)
	}
	r, ok := Render(m).Find("tunnel/1/reason")
	if !ok || r.Label != "⚠ "+why {
		t.Errorf("reason line = %+v", r)
	}
}

// outage returns m with server key already lost, as after its first
// reconnecting report.
func outage(m Model, key string) Model {
	m = m.clone()
	m.Outages[key] = Outage{Since: t0}
	return m
}
