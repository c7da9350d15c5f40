package rediskv

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/cledar/storekit/kv"
)

// Redact returns s with every occurrence of secret replaced by REDACTED.
func Redact(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "REDACTED")
}

// InitError builds the error a backend's Dial returns when its client cannot
// be used: its text is "<backend>: could not initialize Redis client: ", the
// sentinel, what to do about it when that is known (see [InitHint]) and the
// causes, with password removed. It wraps sentinel (the backend's
// classification of err), ctx's error when ctx is done and err
// does not already hold it, and err. user is the ACL user the client logs
// in as, "" for the default user. A sentinel other than [kv.ErrPermission]
// and [kv.ErrNotSupported] counts as kv.ErrUnavailable.
func InitError(ctx context.Context, backend string, sentinel, err error, user, password string) error {
	if sentinel != kv.ErrPermission && sentinel != kv.ErrNotSupported {
		sentinel = kv.ErrUnavailable
	}
	errs := []error{sentinel}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		errs = append(errs, cerr)
	}
	errs = append(errs, err)
	var b strings.Builder
	b.WriteString(backend)
	b.WriteString(": could not initialize Redis client: ")
	b.WriteString(sentinel.Error())
	if hint := InitHint(err.Error(), user); hint != "" {
		b.WriteString(": ")
		b.WriteString(hint)
	}
	for _, e := range errs[1:] {
		b.WriteString(": ")
		b.WriteString(firstLine(e.Error()))
	}
	return &redactedError{msg: Redact(b.String(), password), errs: errs}
}

// firstLine returns s up to its first newline: rueidis appends advice to a
// refused handshake on a line of its own that does not fit every cause.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// InitHint returns what to do about a client that could not be used because
// the server refused it, judged from the text of the error (which starts with
// the server's error reply, such as "NOPERM ..."), or "" when there is no
// advice. user is the ACL user the client logs in as, "" for the default user.
//
//	WRONGPASS    check the user name and password
//	NOAUTH       the server needs a password
//	NOPERM       the user may not run the command named in the reply: grant
//	             it; for CLIENT TRACKING and CLIENT CACHING, or turn
//	             client-side caching off
func InitHint(msg, user string) string {
	code, _, _ := strings.Cut(msg, " ")
	switch code {
	case "WRONGPASS":
		return "the server refused the user name and password: check Username and Password"
	case "NOAUTH":
		return "the server requires a password: set Password"
	case "NOPERM":
	default:
		return ""
	}
	if user == "" {
		user = "default"
	}
	cmd := deniedCommand(msg)
	if cmd == "" {
		return fmt.Sprintf("the ACL user %q may not run a command the store needs: grant it with ACL SETUSER %s", user, user)
	}
	hint := fmt.Sprintf("the ACL user %q may not run %s, which the store needs: grant it with ACL SETUSER %s +%s",
		user, strings.ToUpper(strings.ReplaceAll(cmd, "|", " ")), user, cmd)
	if strings.HasPrefix(cmd, "client|tracking") || strings.HasPrefix(cmd, "client|caching") {
		hint += " (client-side caching needs +client|tracking and +client|caching), or set DisableCache"
	}
	return hint
}

// deniedCommand returns the command named by a NOPERM reply, such as
// "ping" or "client|tracking" in "NOPERM this user has no permissions to run
// the 'client|tracking' command", or "".
func deniedCommand(msg string) string {
	_, rest, ok := strings.Cut(msg, "'")
	if !ok {
		return ""
	}
	cmd, _, ok := strings.Cut(rest, "'")
	if !ok || cmd == "" || strings.ContainsAny(cmd, " \t\n") {
		return ""
	}
	return strings.ToLower(cmd)
}

// redactedError is an error whose text had a secret removed; it still
// unwraps to the errors it was built from.
type redactedError struct {
	msg  string
	errs []error
}

func (e *redactedError) Error() string   { return e.msg }
func (e *redactedError) Unwrap() []error { return e.errs }

// ClientInfoDB returns the database number in the reply to CLIENT INFO (a
// line of space-separated field=value pairs, such as "id=3 addr=... db=2
// ..."), and false if the reply has no valid db field.
func ClientInfoDB(info string) (int, bool) {
	for _, field := range strings.Fields(info) {
		if v, ok := strings.CutPrefix(field, "db="); ok {
			db, err := strconv.Atoi(v)
			if err != nil || db < 0 {
				return 0, false
			}
			return db, true
		}
	}
	return 0, false
}

// A Dialing logs the steps of a backend's Dial (or Open) of one client and
// words its failure.
type Dialing struct {
	log      *zap.Logger
	backend  string
	addr     string
	db       int
	user     string
	password string
}

// NewDialing returns the Dialing of a client of backend for addr, database
// db, logging in as user with password.
func NewDialing(log *zap.Logger, backend, addr string, db int, user, password string) *Dialing {
	return &Dialing{log: log, backend: backend, addr: addr, db: db, user: user, password: password}
}

// Made logs that the client was made, with fields.
func (d *Dialing) Made(fields ...zap.Field) {
	d.log.Info(d.backend+": Redis client initialized",
		append([]zap.Field{zap.String("addr", d.addr), zap.Int("db", d.db)}, fields...)...)
}

// Pinged logs that the server answered.
func (d *Dialing) Pinged() {
	d.log.Info(d.backend+": Redis client pinged successfully", zap.String("addr", d.addr))
}

// Failed logs err, which made the client unusable, without the password,
// and returns the Dial's error (see [InitError]); sentinel is the backend's
// classification of err.
func (d *Dialing) Failed(ctx context.Context, sentinel, err error) error {
	d.log.Warn(d.backend+": could not initialize Redis client", zap.String("addr", d.addr), zap.Int("db", d.db),
		zap.String("error", Redact(err.Error(), d.password)))
	return InitError(ctx, d.backend, sentinel, err, d.user, d.password)
}
