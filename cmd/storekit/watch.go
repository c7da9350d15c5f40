package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cledar/storekit/kv"
)

// eventsFix is what turns on the keyspace notifications a watch needs.
const eventsFix = "-enable-keyspace-events, or CONFIG SET notify-keyspace-events KEA on the server"

// errNoEvents is a watch refused because the server sends no keyspace
// notifications.
var errNoEvents = errors.New("the server sends no keyspace events (notify-keyspace-events lacks classes a watch needs)")

// startWatch starts a watch of pattern on s. A server without keyspace
// notifications gives a short error that names the fix and wraps
// kv.ErrNotSupported, instead of the backend's long one.
func startWatch(ctx context.Context, s *opened, pattern string) (<-chan kv.Event, error) {
	w, ok := s.Store.(kv.Watcher)
	if !ok {
		return nil, fmt.Errorf("%s cannot watch (kv.Watcher): %w", s.name, kv.ErrNotSupported)
	}
	events, err := w.Watch(ctx, pattern)
	if err != nil {
		return nil, explainWatch(err, s.user)
	}
	return events, nil
}

// explainWatch returns err, a refused watch, shortly and with what would let
// it run: keyspace events the server does not send, or channels the ACL user
// (user, "" for the default user) may not subscribe to. Other errors are
// returned as they are.
func explainWatch(err error, user string) error {
	switch {
	case errors.Is(err, kv.ErrNotSupported):
		return withFix(fmt.Errorf("%w: %w", errNoEvents, kv.ErrNotSupported), eventsFix)
	case errors.Is(err, kv.ErrPermission) && strings.Contains(err.Error(), "channels"):
		if user == "" {
			user = "default"
		}
		return withFix(err, fmt.Sprintf("ACL SETUSER %s allchannels (an ACL matches the patterns a watch subscribes to literally)", user))
	}
	return err
}

// An ender says when an endless command stops: on Ctrl-C or SIGTERM (ctx),
// after -for, or after -n changes.
type ender struct {
	ctx   context.Context
	left  int // changes still to print; unlimited when -n was not given
	limit bool
}

// endAfter returns the context an endless command runs in, and its ender.
func endAfter(ctx context.Context, f *cmdFlags) (*ender, context.CancelFunc, error) {
	if f.stopAt < 0 || f.count < 0 {
		return nil, nil, usagef("-for and -n must not be negative")
	}
	cancel := context.CancelFunc(func() {})
	if f.stopAt > 0 {
		ctx, cancel = context.WithTimeout(ctx, f.stopAt)
	}
	return &ender{ctx: ctx, left: f.count, limit: f.count > 0}, cancel, nil
}

// counted counts one change printed and reports whether it was the last.
func (e *ender) counted() bool {
	e.left--
	return e.limit && e.left <= 0
}

// watch prints the changes to the keys matching a pattern.
func watch(ctx context.Context, a *app, s *opened, args []string, f *cmdFlags) error {
	end, cancel, err := endAfter(ctx, f)
	if err != nil {
		return err
	}
	defer cancel()
	events, err := startWatch(end.ctx, s, args[0])
	if err != nil {
		return err
	}
	first := true
	for e := range events {
		if err := a.printEvent(e, first, args[0]); err != nil {
			return err
		}
		if e.Op != kv.OpResync && end.counted() {
			return nil
		}
		first = false
	}
	// The channel closes when the watch's context ends, which is how the
	// command stops, or when the store is closed.
	if end.ctx.Err() == nil {
		return errors.New("the watch ended: the store was closed")
	}
	return nil
}

// printEvent prints one event of a watch of pattern.
func (a *app) printEvent(e kv.Event, first bool, pattern string) error {
	now := time.Now()
	if a.output == "json" {
		r := &record{Time: now.UTC().Format(time.RFC3339Nano), Op: e.Op.String()}
		if e.Op != kv.OpResync {
			r.withKey(e.Key)
		}
		if e.Err != nil {
			r.Error = e.Err.Error()
		}
		return writeJSON(a.stdout, r)
	}
	var err error
	switch {
	case e.Op == kv.OpResync && first && e.Err == nil:
		_, err = fmt.Fprintf(a.stderr, "watching %s; Ctrl-C stops\n", printable(pattern))
	case e.Op == kv.OpResync && e.Err != nil:
		_, err = fmt.Fprintf(a.stdout, "%s  resync   delivery not guaranteed: %v\n", now.Format(time.TimeOnly+".000"), e.Err)
	case e.Op == kv.OpResync:
		_, err = fmt.Fprintf(a.stdout, "%s  resync   events may have been missed: re-read what you hold\n", now.Format(time.TimeOnly+".000"))
	default:
		_, err = fmt.Fprintf(a.stdout, "%s  %-8s %s\n", now.Format(time.TimeOnly+".000"), e.Op, printable(e.Key))
	}
	return err
}
