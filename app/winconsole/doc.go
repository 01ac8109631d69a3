// Package winconsole lets Bore's Windows binary, which is built as a GUI
// program so that starting the tray opens no console window, still print to
// the terminal it was started from ("bore local", "bore server",
// "bore --version").
//
// A GUI-subsystem program gets no console. Attach joins the console of the
// parent process, if there is one, and points os.Stdin, os.Stdout and
// os.Stderr at it, unless they were already redirected to a file or pipe.
// Started from Explorer or a shortcut there is no parent console and Attach
// does nothing. On other operating systems Attach does nothing.
package winconsole
