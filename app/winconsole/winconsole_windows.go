//go:build windows

package winconsole

import (
	"os"
	"syscall"
)

// attachParentProcess is ATTACH_PARENT_PROCESS ((DWORD)-1) from wincon.h.
const attachParentProcess = ^uint32(0)

// fileTypeUnknown is FILE_TYPE_UNKNOWN from winbase.h: what GetFileType says
// for a handle that is not a file, pipe or console.
const fileTypeUnknown = 0

// Attach joins the parent process's console, when it has one, and re-opens
// the standard streams that are not already redirected onto CONIN$ and
// CONOUT$. Call it first thing in main, before anything prints.
//
// The prompt of the parent shell does not wait for a GUI program, so output
// can interleave with it; "start /wait bore ..." or piping the output avoids
// that.
func Attach() {
	kernel32 := syscall.NewLazyDLL("kernel32.dll")
	attach := kernel32.NewProc("AttachConsole")
	if attach.Find() != nil {
		return
	}
	if r, _, _ := attach.Call(uintptr(attachParentProcess)); r == 0 {
		return // no parent console (started from Explorer) or already attached
	}
	reopen(syscall.STD_INPUT_HANDLE, "CONIN$", syscall.GENERIC_READ, &os.Stdin, "/dev/stdin")
	reopen(syscall.STD_OUTPUT_HANDLE, "CONOUT$", syscall.GENERIC_WRITE, &os.Stdout, "/dev/stdout")
	reopen(syscall.STD_ERROR_HANDLE, "CONOUT$", syscall.GENERIC_WRITE, &os.Stderr, "/dev/stderr")
}

// reopen points *f at the console device name unless the standard handle
// std is already usable (a file or pipe the parent redirected it to).
func reopen(std int, name string, access uint32, f **os.File, fileName string) {
	if h, err := syscall.GetStdHandle(std); err == nil && h != 0 && h != syscall.InvalidHandle {
		if t, _ := syscall.GetFileType(h); t != fileTypeUnknown {
			return
		}
	}
	p, err := syscall.UTF16PtrFromString(name)
	if err != nil {
		return
	}
	h, err := syscall.CreateFile(p, access|syscall.GENERIC_READ,
		syscall.FILE_SHARE_READ|syscall.FILE_SHARE_WRITE, nil, syscall.OPEN_EXISTING, 0, 0)
	if err != nil {
		return
	}
	setStdHandle(std, h)
	*f = os.NewFile(uintptr(h), fileName)
}

// setStdHandle records h as the process's standard handle, so child
// processes and code that calls GetStdHandle see the console too.
func setStdHandle(std int, h syscall.Handle) {
	proc := syscall.NewLazyDLL("kernel32.dll").NewProc("SetStdHandle")
	if proc.Find() == nil {
		proc.Call(uintptr(std), uintptr(h))
	}
}
