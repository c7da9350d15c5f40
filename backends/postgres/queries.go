package postgres

import (
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"
)

// live is the condition that a row of the table aliased t is not expired.
const live = `(t.expires_at IS NULL OR t.expires_at > now())`

// maxPayload is the longest NOTIFY payload the trigger sends: PostgreSQL
// takes fewer than 8000 bytes. A longer one is replaced by "r:", a resync.
const maxPayload = 7999

// queries holds the quoted names of a store's objects, and the statements
// of the calls that run most, built once.
type queries struct {
	schema       string // quoted schema
	table        string // quoted schema.table
	versionTable string // quoted schema.table_schema
	expiryIndex  string // quoted index name, unqualified
	notifyFunc   string // quoted schema.table_notify, the trigger's function
	trigger      string // quoted trigger name, unqualified
	channel      string // the NOTIFY channel, [a-z0-9_] only

	get      string // Get's: $1 key
	set      string // Set's and SetWithTTL's: $1 key, $2 value, $3 TTL in µs
	getMulti string // GetMulti's: $1 keys
}

func newQueries(schema, table string) queries {
	h := fnv.New64a()
	h.Write([]byte(schema))
	h.Write([]byte{0})
	h.Write([]byte(table))
	q := queries{
		schema:       pgx.Identifier{schema}.Sanitize(),
		table:        pgx.Identifier{schema, table}.Sanitize(),
		versionTable: pgx.Identifier{schema, table + "_schema"}.Sanitize(),
		expiryIndex:  pgx.Identifier{table + "_expires_at"}.Sanitize(),
		notifyFunc:   pgx.Identifier{schema, table + "_notify"}.Sanitize(),
		trigger:      pgx.Identifier{table + "_notify"}.Sanitize(),
		channel:      fmt.Sprintf("storekit_%016x", h.Sum64()),
	}
	q.get = `SELECT t.value, t.history IS NOT NULL FROM ` + q.table + ` AS t WHERE t.key = $1 AND ` + live
	q.set = `INSERT INTO ` + q.table + ` AS t (key, value, expires_at) VALUES ($1, $2, ` + expiry(3) + `) ` + replaceRow
	q.getMulti = `SELECT t.key, t.value FROM ` + q.table + ` AS t
		WHERE t.key = ANY($1) AND t.value IS NOT NULL AND ` + live
	return q
}

// migration returns the statements of migrations[v].
func (q *queries) migration(v int) string {
	return fmt.Sprintf(migrations[v], q.schema, q.table, q.expiryIndex, q.notifyFunc, q.trigger, maxPayload, q.channel)
}
