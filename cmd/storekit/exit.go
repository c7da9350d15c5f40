package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/cledar/storekit/kv"
)

// Exit codes; the package documentation and -h list them.
const (
	exitOK         = 0
	exitNotFound   = 1
	exitUsage      = 2
	exitBackend    = 3
	exitFailed     = 4
	exitIncomplete = 5
)

// exitCodes is the exit code table of -h.
const exitCodes = `Exit codes:
  0  success
  1  not found: the key or version does not exist
  2  usage: an unknown command or flag, a bad argument
  3  the store could not be used: unreachable, no answer in time,
     credentials or rights refused, no such database or table (PostgreSQL)
  4  any other failure: a value of another kind or not JSON, a capability the
     store or server lacks, a demo step that did not do what it should
  5  the demo skipped steps the store or server cannot run (it names the fix)
`

// A usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// A fixError is a failure with the one change that cures it.
type fixError struct {
	err error
	fix string
}

func (e *fixError) Error() string { return e.err.Error() }
func (e *fixError) Unwrap() error { return e.err }

// withFix attaches fix to err.
func withFix(err error, fix string) error { return &fixError{err: err, fix: fix} }

// exitCode returns the exit code of a command that returned err.
func exitCode(err error) int {
	var usage *usageError
	var incomplete *incompleteError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &usage):
		return exitUsage
	case errors.As(err, &incomplete):
		return exitIncomplete
	case errors.Is(err, kv.ErrNotFound):
		return exitNotFound
	case errors.Is(err, kv.ErrUnavailable), errors.Is(err, kv.ErrPermission), errors.Is(err, context.DeadlineExceeded),
		noStore(err):
		return exitBackend
	}
	return exitFailed
}

// A dialError is a store that could not be opened.
type dialError struct {
	server string // Redis or PostgreSQL
	addr   string // the address, or the URL without its password
	user   string
	url    bool  // the settings came from -url or $STOREKIT_URL
	err    error // the backend's Dial error, which never holds the password
}

func (e *dialError) Unwrap() error { return e.err }

// Error says why, shortly: the backend's own text is long, since it is
// written for logs.
func (e *dialError) Error() string {
	msg, _ := e.explain()
	return fmt.Sprintf("cannot use %s at %s: %s", e.server, e.addr, msg)
}

// explain returns why the store could not be opened and the fix, judged
// from the Dial error: the backends classify it (kv.ErrPermission,
// kv.ErrUnavailable) and keep the server's reply in its text.
func (e *dialError) explain() (msg, fix string) {
	text := e.err.Error()
	who := "the default user"
	if e.user != "" {
		who = fmt.Sprintf("user %q", e.user)
	}
	// Where the address, the user and the password are set.
	addrFlag, credentials := "-redis (default "+defaultAddr+")", "$"+envPassword+" (and -user, for an ACL user)"
	userFlag := "-user and $" + envPassword
	if e.url {
		addrFlag, credentials, userFlag = "-url (or $"+envURL+")", "the URL's user and password (or $"+envPassword+")", "the URL's user and password"
	}
	server := "redis-server"
	if e.server == "PostgreSQL" {
		// pgx reads a password the URL lacks from $PGPASSWORD or ~/.pgpass.
		server, credentials = "PostgreSQL", "the URL's user and password (or $PGPASSWORD, ~/.pgpass)"
	}
	var nerr net.Error
	switch {
	case strings.Contains(text, "WRONGPASS"):
		if e.user == "" {
			return "the server refused the password of " + who, "check " + credentials
		}
		return "the server refused " + who + " with the password given (no such user, a wrong password, or the user is off)",
			"check " + userFlag
	case strings.Contains(text, "NOAUTH"):
		return "the server requires a password", "set " + credentials
	case errors.Is(e.err, kv.ErrPermission):
		if loginRefused(e.err) {
			fix = "check " + credentials
		}
		return "the server refused " + who + ": " + afterSentinel(text, kv.ErrPermission), fix
	case errors.Is(e.err, context.DeadlineExceeded), errors.As(e.err, &nerr) && nerr.Timeout():
		return "no answer in time", "check " + addrFlag + " and that the server is up, or raise -timeout"
	case errors.Is(e.err, syscall.ECONNREFUSED):
		return "connection refused", "check " + addrFlag + ", or start " + server + " there"
	case errors.Is(e.err, context.Canceled):
		return "interrupted", ""
	case noDatabase(e.err) != "":
		return noDatabase(e.err), "check the database named in " + addrFlag
	}
	return afterSentinel(text, kv.ErrUnavailable), ""
}

// afterSentinel returns what text says after sentinel's text, or text.
func afterSentinel(text string, sentinel error) string {
	if _, rest, ok := strings.Cut(text, sentinel.Error()+": "); ok {
		return rest
	}
	return text
}

// fixOf returns the fix that err names, or "".
func fixOf(err error) string {
	var f *fixError
	if errors.As(err, &f) {
		return f.fix
	}
	var d *dialError
	if errors.As(err, &d) {
		_, fix := d.explain()
		return fix
	}
	return ""
}
