//go:build linux

package main

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
)

// errTally counts errors by message and keeps the total.
type errTally struct {
	mu    sync.Mutex
	n     int64
	kinds map[string]int64
}

func (e *errTally) add(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.kinds == nil {
		e.kinds = map[string]int64{}
	}
	e.n++
	msg := err.Error()
	// Ports and addresses differ per connection: keep the kind only.
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		msg = op.Op + ": " + op.Err.Error()
	}
	e.kinds[msg]++
}

func (e *errTally) total() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n
}

func (e *errTally) summary() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var b strings.Builder
	for k, n := range e.kinds {
		fmt.Fprintf(&b, "  %6d × %s\n", n, k)
	}
	return b.String()
}
