package redisproto

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/cledar/storekit/kv"
)

// Defaults of a server address, as the Python original's RedisServiceConfig
// has them.
const (
	DefaultHost = "localhost"
	DefaultPort = 6379
)

// Addr returns host:port with the defaults applied to an empty host and a
// zero port.
func Addr(host string, port int) string {
	if host == "" {
		host = DefaultHost
	}
	if port == 0 {
		port = DefaultPort
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// DescribeServer formats the connection settings of a backend's Config for
// logs and %v, such as `redis://localhost:6379/0 user="" password=REDACTED
// tls=false`. The password never appears: only whether there is one.
func DescribeServer(addr string, db int, username string, hasPassword, tls bool) string {
	pw := ""
	if hasPassword {
		pw = " password=REDACTED"
	}
	return fmt.Sprintf("redis://%s/%d user=%q%s tls=%v", addr, db, username, pw, tls)
}

// Redact returns s with every occurrence of secret replaced by REDACTED.
func Redact(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "REDACTED")
}

// InitError builds the error a backend's Dial returns when its client cannot
// be used: its text is "<backend>: could not initialize Redis client: " and
// the causes, with password removed; it wraps [kv.ErrUnavailable], ctx's
// error when ctx is done and err does not already hold it, and err.
func InitError(ctx context.Context, backend string, err error, password string) error {
	errs := []error{kv.ErrUnavailable}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		errs = append(errs, cerr)
	}
	errs = append(errs, err)
	var b strings.Builder
	b.WriteString(backend)
	b.WriteString(": could not initialize Redis client")
	for _, e := range errs {
		b.WriteString(": ")
		b.WriteString(e.Error())
	}
	return &redactedError{msg: Redact(b.String(), password), errs: errs}
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
