//go:build linux

// Package proctest runs programs, bore above all, as child processes for
// the tunnel's benchmark and soak test, and measures them.
//
// [Start] runs a program and records its output, [Proc.WaitFor] waits for
// a line of that output, and [Proc.Stop] and [Proc.Kill] end it.
// [StartServer] and [StartClient] run "bore server" and "bore local" on
// 127.0.0.1 and wait until they are ready. [Usage] reads what a process
// holds from /proc, so it works on Linux only. [FreePort] and
// [RaiseFileLimit] prepare the ground for many connections.
package proctest
