package rediskv

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/cledar/storekit/kv"
)

// ReplySentinel maps the text of a Redis error reply (such as
// "WRONGTYPE Operation against a key ...", without the leading '-') to the kv
// sentinel it stands for, or nil for an operation error: the server was
// usable and rejected the request.
//
// The error code is the reply's first word; a leading "ERR " (added by some
// Redis-compatible servers) is looked through, and so is its absence where a
// client strips it (rueidis does): "max number of clients reached" alone
// counts as the ERR reply.
//
//	WRONGTYPE                                   kv.ErrWrongType
//	NOPERM NOAUTH WRONGPASS                     kv.ErrPermission (an ACL denial, or credentials refused)
//	OOM                                         kv.ErrFull (maxmemory reached; reads still work)
//	LOADING BUSY MASTERDOWN CLUSTERDOWN         kv.ErrUnavailable (retrying later may succeed)
//	TRYAGAIN READONLY NOREPLICAS
//	ERR max number of clients reached           kv.ErrUnavailable
//	anything else                               nil: an operation error
//
// A denial is never unavailability: the server is up, and retrying cannot
// help until the user's rights or the credentials change.
func ReplySentinel(msg string) error {
	const tooManyClients = "max number of clients reached"
	if strings.HasPrefix(msg, tooManyClients) {
		return kv.ErrUnavailable
	}
	code, rest, _ := strings.Cut(msg, " ")
	if code == "ERR" {
		if strings.HasPrefix(rest, tooManyClients) {
			return kv.ErrUnavailable
		}
		code, _, _ = strings.Cut(rest, " ")
	}
	switch code {
	case "WRONGTYPE":
		return kv.ErrWrongType
	case "NOPERM", "NOAUTH", "WRONGPASS":
		return kv.ErrPermission
	case "OOM":
		return kv.ErrFull
	case "LOADING", "BUSY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "READONLY", "NOREPLICAS":
		return kv.ErrUnavailable
	}
	return nil
}

// IsTransportError reports whether err, returned by a Redis client, says
// that the server could not be reached or used over the network: a dial
// failure, a dropped, reset or refused connection, a broken pipe, or a
// network timeout. A client's own timeouts surface as context errors while
// the caller's context is still live, so they count too: check the caller's
// context before calling it. Client-specific errors (a closed client, an
// exhausted pool) are the backend's to add.
func IsTransportError(err error) bool {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var nerr net.Error
	return errors.As(err, &nerr)
}

// ContextError returns the error of the caller's context when a failed call
// stands for it: ctx's own error, or context.DeadlineExceeded once ctx's
// deadline has passed, because a client sets its socket deadlines from ctx
// and its timeout may fire a moment before ctx reports it. It returns nil
// when ctx is still live.
func ContextError(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

// Library says how a client library reports what [Classify] needs to know.
type Library struct {
	// IsNil reports whether err is the library's error for a nil reply.
	IsNil func(err error) bool
	// Reply returns the text of an error reply (without the leading '-')
	// that err holds, and whether it holds one.
	Reply func(err error) (string, bool)
	// Unusable reports whether err is one of the library's own errors
	// that mean the server could not be used: a closed client, an
	// exhausted pool, a connection it gave up on. Transport errors are
	// recognised without it (see [IsTransportError]).
	Unusable func(err error) bool
}

// Classify returns what err, returned by a client of lib for a call made
// with ctx, stands for: kv.ErrNotFound for a nil reply, the sentinel of an
// error reply ([ReplySentinel]), the caller's context error once its
// deadline passed or it was cancelled, kv.ErrUnavailable when the server
// could not be used, or nil for an operation error (the server rejected the
// request).
func Classify(ctx context.Context, err error, lib Library) error {
	if lib.IsNil(err) {
		return kv.ErrNotFound
	}
	if text, ok := lib.Reply(err); ok {
		return ReplySentinel(text)
	}
	// The caller's deadline or cancellation, whatever form it took on the
	// way.
	if cerr := ContextError(ctx); cerr != nil {
		return cerr
	}
	if lib.Unusable(err) || IsTransportError(err) {
		return kv.ErrUnavailable
	}
	return nil
}

// ReplyText is a [Library]'s Reply for a client library whose error
// replies are errors of type E: the text of the first E in err's chain.
func ReplyText[E error](err error) (string, bool) {
	var e E
	if errors.As(err, &e) {
		return e.Error(), true
	}
	return "", false
}
