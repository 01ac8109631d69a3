package app

// This file is Update's preferences area.

func (u *update) togglePref(p Pref) {
	s := &u.m.Settings
	switch p {
	case PrefLaunchAtLogin:
		// Changed, and saved, once the autostart entry is written.
		u.do(SetAutostart{On: !s.LaunchAtLogin})
		return
	case PrefCopyOnOpen:
		s.CopyOnOpen = !s.CopyOnOpen
	case PrefNotifications:
		s.Notifications = !s.Notifications
	case PrefNotifyOnConnection:
		s.NotifyOnConnection = !s.NotifyOnConnection
	default:
		return
	}
	u.save()
}

func (u *update) autostartChanged(on bool) {
	u.m.Settings.LaunchAtLogin = on
	u.save()
}
