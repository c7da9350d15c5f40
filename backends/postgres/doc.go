// Package postgres is a [kv.Store] on a PostgreSQL table, through pgx. It is
// a module of its own, so that programs that do not import it never download
// pgx, and it is built on the exported API of storekit alone, as any third
// party's backend would be.
//
// Create a store on your own pool with [New], or from a connection string
// with [Open], which checks that the server answers:
//
//	store, err := postgres.Open(ctx, "postgres://app@db.example:5432/app", &postgres.Options{
//		Schema: "myapp", Table: "kv", CreateSchema: true,
//	})
//	// errors.Is(err, kv.ErrUnavailable): the server cannot be reached
//	// errors.Is(err, kv.ErrPermission): the credentials were refused
//	defer store.Close()
//
// # The table
//
// Each store keeps its keys in one table, named by Options.Table in the
// schema Options.Schema (both quoted, so any name works; applications that
// share a database choose different ones):
//
//	key        bytea PRIMARY KEY   the key, byte for byte
//	value      bytea               a plain value, or NULL for a history
//	history    bytea[]             a history, version n at index n, or NULL
//	expires_at timestamptz         the expiry, NULL for none
//	writes     int8                counts the writes of the value, which tells the
//	                               trigger a value write from an expiry change
//
// A second table, Table+"_schema", holds the layout's version, and a
// trigger, Table+"_notify" (with a function of that name), reports the
// table's changes to watches. Create them all
// with [Store.CreateSchema] (or Options.CreateSchema, which calls it before
// the first use); a later version of this package that changes the layout
// adds a migration step that CreateSchema runs in one transaction, from the
// version found up to [SchemaVersion]; a table newer than the package is
// refused with [kv.ErrNotSupported].
//
// PostgreSQL indexes keys of at most about 2,700 bytes: writing a longer
// key fails with an error wrapping [kv.ErrInvalid]. Reads of any key work.
//
// # Capabilities
//
// A Store implements [kv.Store] and every optional interface of package kv
// ([kv.MultiGetter], [kv.Expirer], [kv.Scanner], [kv.Conditional],
// [kv.Counter], [kv.ExpiryChanger], [kv.BulkWriter], [kv.Historian],
// [kv.MultiLatest], [kv.Pruner], [kv.ConditionalHistorian] and
// [kv.Watcher]), counts its calls, failures and watch events as
// [metrics.Source] (see [Store.Metrics]), and passes the conformance suite:
//
//   - every write is one statement, atomic on its own: Set and SetWithTTL are
//     an INSERT ... ON CONFLICT DO UPDATE; SetIfAbsent one that updates only
//     an expired row; CompareAndSwap and CompareAndDelete an UPDATE or DELETE
//     whose WHERE compares the value; Incr one INSERT ... ON CONFLICT that
//     checks the counter's text (the rule of [kv.ParseCounter]) in SQL and
//     fails on a sum beyond int64; Append and AppendIf one statement that
//     converts a plain value into version 1 as it appends, and an AppendIf
//     that loses reports the version that statement found, under a row
//     lock; Persist writes no row for a key without an expiry;
//   - Prune reads and writes the history in one transaction that locks the
//     row;
//   - GetMulti and LatestMulti are one query (WHERE key = ANY($1));
//   - SetMulti is one statement: all of its items are written or none is;
//     DeleteMulti is one statement too;
//   - expiry is a timestamp with microsecond precision: every read filters
//     expires_at > now(), so a key is invisible the moment it expires, and
//     a background sweep (Options.SweepInterval) deletes expired rows;
//   - Scan reads pages of keys in key order, from the range of keys that
//     start with the pattern's literal prefix, and checks the rest of the
//     pattern with [kv.Match].
//   - Watch LISTENs on the table's channel, on one connection of its own
//     that all of the store's watches share (see below).
//
// # Watching
//
// A trigger on the table sends a NOTIFY for every row a statement changes,
// whichever process wrote it, once its transaction commits: the kinds of
// event (a Set as OpSet, a SetWithTTL as OpSet then OpExpire, an Append that
// converts a plain value as OpDelete then OpAppend, a Persist that removed
// an expiry as OpOther, ...) and the key. The background sweep's deletes are
// reported as OpExpired, as is a write that finds the key expired. Events of
// one key come in the order of its writes, since each write locks the row
// until it commits. A watch sends an OpResync first, again after each
// reconnect of the listening connection, and when a consumer that does not
// read made it drop more than Options.WatchBuffer events.
//
// A NOTIFY payload holds fewer than 8000 bytes, which is about 3,990 bytes of
// key (in hex): a change to a longer key is sent as an OpResync to every
// watch, whose consumers re-read what they hold.
//
// A store LISTENs on one connection, outside its pool, opened by its first
// watch and closed when its last watch ends: the connection receives the
// notifications of the whole table, and each watch keeps those its pattern
// matches, in a buffer of its own. When that connection fails, the store
// connects again, with a growing pause up to two seconds, and every watch
// gets an OpResync; a Watch called meanwhile connects by itself, and fails
// with an error wrapping [kv.ErrUnavailable] when it cannot. NOTIFY
// serializes the commits of the writes that send one; that is the cost of
// watching writes by any process.
//
// # Outages
//
// While the server is down, restarting or ending the store's connections,
// calls fail with errors wrapping [kv.ErrUnavailable], or wrapping the
// context's error when their deadline passes first. The pool drops the
// connections that failed and makes new ones, so the same store serves
// calls again once the server does, and its watches resync: no store needs
// reopening.
//
// Times are the server's clock (now(), the start of each statement's
// transaction).
package postgres
