package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cledar/storekit/kv"
)

// wrap turns an error of pgx into one that wraps the kv sentinel that fits,
// and the native error.
func wrap(op, key string, err error) error {
	if err == nil {
		return nil
	}
	what := describe(op, key)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("postgres: %s: %w", what, err)
	}
	if sentinel := sentinelOf(err); sentinel != nil {
		return fmt.Errorf("postgres: %s: %w: %w", what, sentinel, err)
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

// sentinelOf returns the kv sentinel for err, or nil for an operation error.
func sentinelOf(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch code := pgErr.Code; {
		case strings.HasPrefix(code, "28"), code == "42501": // invalid authorization, insufficient privilege
			return kv.ErrPermission
		case code == "53100": // disk full
			return kv.ErrFull
		case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "57P"), code == "53300": // connection, shutdown, too many connections
			return kv.ErrUnavailable
		case code == "22003", code == "54000": // out of range, program limit (a key too long to index)
			return kv.ErrInvalid
		}
		return nil
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	if errors.As(err, &connErr) || errors.As(err, &netErr) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return kv.ErrUnavailable
	}
	return nil
}

// redacted is an error whose text has a password replaced.
type redacted struct {
	err      error
	password string
}

func (e *redacted) Error() string {
	return strings.ReplaceAll(e.err.Error(), e.password, "xxxxx")
}

func (e *redacted) Unwrap() error { return e.err }

// redact returns err with every occurrence of password hidden in its text.
func redact(err error, password string) error {
	if err == nil || password == "" {
		return err
	}
	return &redacted{err: err, password: password}
}

// passwordOf returns the password of a postgres:// URL or of a keyword/value
// connection string, as far as it can tell, to hide it from errors.
func passwordOf(connString string) string {
	if u, err := url.Parse(connString); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok {
			return pw
		}
	}
	for _, field := range strings.Fields(connString) {
		if v, ok := strings.CutPrefix(field, "password="); ok {
			return strings.Trim(v, "'")
		}
	}
	return ""
}
