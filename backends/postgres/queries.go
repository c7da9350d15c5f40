package postgres

import "github.com/jackc/pgx/v5"

// live is the condition that a row of the table aliased t is not expired.
const live = `(t.expires_at IS NULL OR t.expires_at > now())`

// queries holds the quoted names of a store's objects.
type queries struct {
	schema       string // quoted schema
	table        string // quoted schema.table
	versionTable string // quoted schema.table_schema
	expiryIndex  string // quoted index name, unqualified
}

func newQueries(schema, table string) queries {
	return queries{
		schema:       pgx.Identifier{schema}.Sanitize(),
		table:        pgx.Identifier{schema, table}.Sanitize(),
		versionTable: pgx.Identifier{schema, table + "_schema"}.Sanitize(),
		expiryIndex:  pgx.Identifier{table + "_expires_at"}.Sanitize(),
	}
}
