package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cledar/storekit/backends/postgres"
	"github.com/cledar/storekit/kv"
)

// The table the commands use when -pg-schema and -pg-table are not given:
// the defaults of postgres.Options, so that the commands read the table of
// an application that left them unset.
const (
	defaultSchema = "public"
	defaultTable  = "storekit"
)

// errNoTable is a PostgreSQL database without the store's table.
var errNoTable = errors.New("no such table")

// A pgTarget is how a store reached PostgreSQL: the URL, with its password,
// which is never printed, and the options of postgres.Open.
type pgTarget struct {
	url  string
	opts postgres.Options
}

// names returns the schema and the table of the store.
func (t *pgTarget) names() (schema, table string) {
	schema, table = t.opts.Schema, t.opts.Table
	if schema == "" {
		schema = defaultSchema
	}
	if table == "" {
		table = defaultTable
	}
	return schema, table
}

// table names the store's table for people, as schema.table.
func (t *pgTarget) table() string {
	schema, table := t.names()
	return schema + "." + table
}

// isPostgresURL reports whether u is a PostgreSQL URL: postgres:// or
// postgresql://.
func isPostgresURL(u string) bool {
	scheme, _, ok := strings.Cut(u, "://")
	return ok && (strings.EqualFold(scheme, "postgres") || strings.EqualFold(scheme, "postgresql"))
}

// checkPostgres reports the settings the PostgreSQL backend cannot use, as
// usage errors: it needs a PostgreSQL URL, which holds the address, the
// database and the user, so the Redis flags make no sense with it.
func (c *connection) checkPostgres() error {
	switch {
	case c.url == "":
		return usagef("-backend postgres needs -url postgres://[user[:password]@]host[:port]/database")
	case !isPostgresURL(c.url):
		return usagef("-backend postgres needs a postgres:// or postgresql:// URL in -url (or $%s)", envURL)
	case c.addr.set || c.db != 0 || c.user != "" || c.enableEvents:
		return usagef("-redis, -db, -user and -enable-keyspace-events are for Redis: " +
			"the PostgreSQL URL holds the address, database and user, and watches need no setting")
	}
	return nil
}

// openPostgres opens the store on the PostgreSQL table c names. The table
// is created when missing with -pg-create, or for the demo; otherwise a
// missing table is an error that says so, rather than keys that seem not
// to exist and watches that hear nothing.
func openPostgres(ctx context.Context, c connection, status func(string)) (*opened, error) {
	t := &pgTarget{url: c.url, opts: postgres.Options{Schema: c.pgSchema, Table: c.pgTable, CreateSchema: c.pgCreate || c.creates}}
	addr := redactURL(c.url)
	status(fmt.Sprintf("connecting to PostgreSQL at %s", addr))
	s, err := postgres.Open(ctx, c.url, &t.opts)
	switch {
	case errors.Is(err, kv.ErrInvalid):
		return nil, usagef("-url: %v", err)
	case err != nil:
		return nil, &dialError{server: "PostgreSQL", addr: addr, user: userOf(c.url), url: true, err: err}
	}
	if !t.opts.CreateSchema {
		if err := t.checkTable(ctx, addr); err != nil {
			_ = s.Close()
			return nil, err
		}
	}
	return &opened{Store: s, kind: "postgres", name: fmt.Sprintf("PostgreSQL at %s, table %s", addr, t.table()),
		addr: addr, pg: t, close: s.Close}, nil
}

// checkTable fails with errNoTable unless the store's table exists in the
// database at addr (the URL without its password). It asks on a connection
// of its own, since the store keeps its pool to itself.
func (t *pgTarget) checkTable(ctx context.Context, addr string) error {
	conn, err := pgx.Connect(ctx, t.url)
	if err != nil {
		return fmt.Errorf("looking for the table %s: %w", t.table(), err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	schema, table := t.names()
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, pgx.Identifier{schema, table}.Sanitize()).Scan(&exists); err != nil {
		return fmt.Errorf("looking for the table %s: %w", t.table(), err)
	}
	if !exists {
		return withFix(fmt.Errorf("PostgreSQL at %s has no table %s: %w", addr, t.table(), errNoTable),
			"check -pg-schema and -pg-table (default "+defaultSchema+"."+defaultTable+"), or give -pg-create to create the table")
	}
	return nil
}

// redactURL returns the PostgreSQL URL u with its password, in the user
// information or in a password parameter, replaced by xxxxx. A URL that
// does not parse is shown by its scheme alone.
func redactURL(u string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		scheme, _, _ := strings.Cut(u, "://")
		return scheme + "://..."
	}
	if q := parsed.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		parsed.RawQuery = q.Encode()
	}
	return parsed.Redacted()
}

// userOf returns the user a PostgreSQL URL names, or "".
func userOf(u string) string {
	parsed, err := url.Parse(u)
	if err != nil || parsed.User == nil {
		return ""
	}
	return parsed.User.Username()
}

// pgError returns the PostgreSQL error err holds, or nil.
func pgError(err error) *pgconn.PgError {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr
	}
	return nil
}

// loginRefused reports whether err holds PostgreSQL's refusal of a login
// (SQLSTATE class 28: a wrong password, an unknown role, a role that may
// not log in), which the URL's credentials cure, rather than a refused right.
func loginRefused(err error) bool {
	pgErr := pgError(err)
	return pgErr != nil && strings.HasPrefix(pgErr.Code, "28")
}

// noDatabase returns the server's message when err says that the URL's
// database does not exist (SQLSTATE 3D000), or "".
func noDatabase(err error) string {
	if pgErr := pgError(err); pgErr != nil && pgErr.Code == "3D000" {
		return pgErr.Message
	}
	return ""
}

// noStore reports whether err says that the store's database, schema or
// table does not exist: the store could not be used, as when unreachable.
func noStore(err error) bool {
	if errors.Is(err, errNoTable) {
		return true
	}
	pgErr := pgError(err)
	return pgErr != nil && (pgErr.Code == "3D000" || pgErr.Code == "3F000" || pgErr.Code == "42P01")
}
