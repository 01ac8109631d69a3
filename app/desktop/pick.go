package desktop

import (
	"context"
	"errors"
	"os"
	"strings"
)

// ErrNoPicker means no file picker program was found: on Linux install
// zenity, kdialog or yad.
var ErrNoPicker = errors.New("no file picker found: install zenity, kdialog or yad")

// PickFolder asks the user to choose a folder with the native picker (the
// same tool as the entry dialogs, looked up each time) and returns its
// path. It returns ErrCancelled or ErrNoPicker.
func (d *Dialogs) PickFolder(ctx context.Context, title string) (string, error) {
	return d.pick(ctx, true, title)
}

// PickFile asks the user to choose a file with the native picker and
// returns its path. It returns ErrCancelled or ErrNoPicker.
func (d *Dialogs) PickFile(ctx context.Context, title string) (string, error) {
	return d.pick(ctx, false, title)
}

func (d *Dialogs) pick(ctx context.Context, folder bool, title string) (string, error) {
	tool, path := d.find()
	start, _ := os.UserHomeDir()
	args := pickArgs(tool, folder, title, start)
	if tool == "" || args == nil {
		return "", ErrNoPicker
	}
	raw, err := runTool(ctx, tool, path, args, "file picker", 64<<10)
	if err != nil {
		return "", err
	}
	// One path on one line; pickers end it with a newline.
	out := strings.TrimRight(raw, "\r\n")
	if i := strings.IndexAny(out, "\r\n"); i >= 0 {
		out = out[:i]
	}
	if out == "" {
		return "", ErrCancelled
	}
	return out, nil
}

// pickArgs builds the tool's arguments (without the program name) for a
// folder (folder) or file picker opening in start; nil for an unknown
// tool. The choice comes back on stdout, one path.
func pickArgs(tool string, folder bool, title, start string) []string {
	if start != "" && !strings.HasSuffix(start, "/") && !strings.HasSuffix(start, `\`) {
		start += string(os.PathSeparator)
	}
	switch tool {
	case "zenity":
		a := []string{"--file-selection", "--title", title}
		if start != "" {
			a = append(a, "--filename", start)
		}
		if folder {
			a = append(a, "--directory")
		}
		return a
	case "yad":
		a := []string{"--file", "--title", title}
		if start != "" {
			a = append(a, "--filename", start)
		}
		if folder {
			a = append(a, "--directory")
		}
		return a
	case "kdialog":
		if start == "" {
			start = "."
		}
		if folder {
			return []string{"--title", title, "--getexistingdirectory", start}
		}
		return []string{"--title", title, "--getopenfilename", start}
	case "osascript":
		what := "file"
		if folder {
			what = "folder"
		}
		// Cancel makes osascript exit 1 ("User canceled").
		return []string{"-e", "POSIX path of (choose " + what + " with prompt " + appleString(title) + ")"}
	case "powershell":
		return []string{"-NoProfile", "-NonInteractive", "-STA", "-EncodedCommand", encodePowerShell(powerShellPicker(folder, title))}
	}
	return nil
}

// powerShellPicker is a Windows Forms folder or file picker that prints
// the chosen path as UTF-8 on stdout and exits 1 on Cancel.
func powerShellPicker(folder bool, title string) string {
	dialog := `$d = New-Object System.Windows.Forms.OpenFileDialog
$d.Title = ` + psString(title) + `
$d.CheckFileExists = $true; $d.Multiselect = $false
if ($d.ShowDialog() -ne 'OK') { exit 1 }
[Console]::Out.Write($d.FileName)`
	if folder {
		dialog = `$d = New-Object System.Windows.Forms.FolderBrowserDialog
$d.Description = ` + psString(title) + `
$d.ShowNewFolderButton = $false
if ($d.ShowDialog() -ne 'OK') { exit 1 }
[Console]::Out.Write($d.SelectedPath)`
	}
	return `Add-Type -AssemblyName System.Windows.Forms
[Console]::OutputEncoding = [System.Text.Encoding]::UTF8
` + dialog + `
exit 0
`
}
