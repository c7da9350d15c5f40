package rediswatch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/cledar/storekit/internal/eventq"
	"github.com/cledar/storekit/kv"
)

// Timings of a watch's notification checks.
const (
	// NotifyCheckTimeout bounds one notify-keyspace-events check.
	NotifyCheckTimeout = 5 * time.Second
	// RecheckMin and RecheckMax bound the interval at which a watch whose
	// server lacks the needed classes checks again whether they are back.
	RecheckMin = 500 * time.Millisecond
	RecheckMax = 10 * time.Second
	// unreachableRetry and unreachableRetryMax bound the pauses before a
	// check that could not reach the server runs again within one Verify.
	unreachableRetry    = 50 * time.Millisecond
	unreachableRetryMax = 400 * time.Millisecond
)

// NotifyParam is the server setting that turns keyspace notifications on.
const NotifyParam = "notify-keyspace-events"

// NotifyAccess reads and writes one server's notify-keyspace-events
// setting, through whichever client a backend has.
type NotifyAccess struct {
	// Addr names the server in logs.
	Addr string
	// Get returns the reply to CONFIG GET notify-keyspace-events, as a map
	// from parameter to value.
	Get func(ctx context.Context) (map[string]string, error)
	// Set changes it (CONFIG SET notify-keyspace-events value).
	Set func(ctx context.Context, value string) error
	// Unreachable reports whether err, returned by Get for a call made with
	// ctx, means the server could not be asked (it is unavailable, or ctx
	// ended) rather than that it refused the command.
	Unreachable func(ctx context.Context, err error) bool
}

// EnsureNotify checks that a server sends the keyspace notifications a
// watch needs ([RequiredNotifyClasses]), turning the missing classes on with
// a.Set when enable is set. It returns nil when the watch can work, a
// *[NotifyConfigError] when classes are missing, and an *[UnreachableError]
// holding Get's error when the server could not be asked. A server that refuses CONFIG GET (a managed
// service or an ACL may forbid it) is assumed to send the notifications:
// EnsureNotify logs a warning, prefixed with backend, and returns nil.
func EnsureNotify(ctx context.Context, a NotifyAccess, enable bool, log *zap.Logger, backend string) error {
	const param = NotifyParam
	vals, err := a.Get(ctx)
	value, ok := vals[param]
	if err == nil && !ok {
		err = fmt.Errorf("CONFIG GET %s returned no value", param)
	}
	if err != nil {
		if a.Unreachable(ctx, err) {
			return &UnreachableError{Err: err}
		}
		log.Warn(backend+": cannot read notify-keyspace-events, so cannot check that keyspace notifications are on; "+
			"watching assumes the server sends the classes "+RequiredNotifyClasses,
			zap.String("addr", a.Addr), zap.Error(err))
		return nil
	}
	cerr := CheckNotifyConfig(value)
	if cerr == nil || !enable {
		return cerr
	}
	merged := MergeNotifyClasses(value)
	if err := a.Set(ctx, merged); err != nil {
		return fmt.Errorf("enable keyspace notifications with CONFIG SET %s %q: %w", param, merged, err)
	}
	log.Info(backend+": enabled keyspace notifications", zap.String("addr", a.Addr),
		zap.String("was", value), zap.String(param, merged))
	return nil
}

// An UnreachableError says that a server could not be asked for its
// notify-keyspace-events setting: it is down, or still unknown to the
// client's pool. It says nothing of the setting.
type UnreachableError struct{ Err error }

func (e *UnreachableError) Error() string { return e.Err.Error() }

// Unwrap returns the client's error.
func (e *UnreachableError) Unwrap() error { return e.Err }

// A Resyncer checks, whenever a watch's subscription to one server was made
// again (after a reconnect), that the server still sends the notifications
// the watch needs, and tells the consumer with OpResync events: with a nil
// Err once delivery is guaranteed, with Err set while it is not. While the
// check fails it asks to be run again, at growing intervals, through
// [Resyncer.Recheck]. A Resyncer is used by one goroutine.
type Resyncer struct {
	check   func(ctx context.Context) error
	q       *eventq.Queue
	log     *zap.Logger
	backend string
	recheck *time.Timer
	min     time.Duration
	max     time.Duration
	backoff time.Duration // the interval recheck was last armed with
	failing bool
}

// NewResyncer returns a Resyncer that pushes its events into q and logs
// through log with messages prefixed by backend. check returns nil when the
// server sends the needed notifications, or an error (already wrapped for
// the consumer) when it does not or could not be asked. Call Stop when done.
func NewResyncer(backend string, q *eventq.Queue, log *zap.Logger, check func(ctx context.Context) error) *Resyncer {
	r := &Resyncer{
		check: check, q: q, log: log, backend: backend,
		recheck: time.NewTimer(time.Hour),
		min:     RecheckMin,
		max:     RecheckMax,
	}
	r.recheck.Stop()
	return r
}

// Recheck delivers when the Resyncer asks for [Resyncer.Verify] to run
// again (with resub false) because the last check failed.
func (r *Resyncer) Recheck() <-chan time.Time { return r.recheck.C }

// Stop releases the Resyncer's timer.
func (r *Resyncer) Stop() { r.recheck.Stop() }

// checkOnce runs the check, bounded by NotifyCheckTimeout.
func (r *Resyncer) checkOnce(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, NotifyCheckTimeout)
	defer cancel()
	return r.check(cctx)
}

// Verify runs the check, each run bounded by [NotifyCheckTimeout], and
// runs it again a few times within a second while it cannot reach the
// server. resub says that
// the subscription was just made again, so events may have been lost.
//
// On success it sends an OpResync if this follows a resubscription or ends
// a failing spell. When the check finds the notifications off, it sends an
// OpResync with Err set if this follows a resubscription or starts a
// failing spell, and arms Recheck. When the check could not reach the server
// ([UnreachableError]) it knows nothing new: the subscription it follows is
// live, so it sends a plain OpResync after a resubscription, and arms
// Recheck to check again soon.
func (r *Resyncer) Verify(ctx context.Context, resub bool) {
	var unreachable *UnreachableError
	err := r.checkOnce(ctx)
	// A client often learns that its connection is gone from the call
	// that fails on it, and makes a new one for the next call.
	for pause := unreachableRetry; errors.As(err, &unreachable) && pause <= unreachableRetryMax; pause *= 2 {
		if !sleep(ctx, pause) {
			return
		}
		err = r.checkOnce(ctx)
	}
	switch {
	case err == nil:
		if r.failing {
			r.log.Info(r.backend + ": watch can guarantee delivery again")
		}
		if resub || r.failing {
			r.q.Push(kv.Event{Op: kv.OpResync})
		}
		r.failing, r.backoff = false, 0
		r.recheck.Stop()
		return
	case errors.As(err, &unreachable):
		r.log.Info(r.backend+": could not check the server's keyspace notification setting; checking again soon",
			zap.Error(err))
		if resub && !r.failing {
			r.q.Push(kv.Event{Op: kv.OpResync})
		}
	default:
		if resub || !r.failing {
			r.log.Warn(r.backend+": watch cannot guarantee delivery", zap.Error(err))
			r.q.Push(kv.Event{Op: kv.OpResync, Err: err})
		}
		r.failing = true
	}
	r.backoff = min(max(2*r.backoff, r.min), r.max)
	r.recheck.Reset(r.backoff)
}

// sleep waits for d, and reports false, at once, if ctx ends first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
