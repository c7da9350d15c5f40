// Package redisconf holds the settings that storekit's Redis backends
// share: [Config], how a backend reaches Redis (the fields of the Python
// original's RedisServiceConfig: host, port, database, password; an ACL
// user, TLS, timeouts, and a Redis Cluster's seeds or a Sentinel
// deployment instead of one server), and [Options], how a store behaves
// whatever its client library. goredis.Config and rueidiskv.Config are
// Config; goredis.Options is Options, and rueidiskv.Options holds it.
//
// # URLs
//
// [ParseURL] reads a Config from a URL, the form in which services usually
// receive their Redis settings (an environment variable such as
// REDIS_URL); goredis.DialURL and rueidiskv.DialURL dial one:
//
//	redis://[user[:password]@]host[:port][/db]                     one server (port 6379, database 0 by default)
//	rediss://[user[:password]@]host[:port][/db]                    the same over TLS
//	unix://[user[:password]@]/path/to/redis.sock[?db=N]            one server on a Unix socket
//	redis+cluster://[user[:password]@]host1[:port],host2[:port]    a Redis Cluster, from these seed nodes
//	redis+sentinel://[user[:password]@]s1[:port],s2[:port]/master[/db]
//	                                                               the master that these sentinels (port 26379 by default) name "master"
//
// rediss+cluster:// and rediss+sentinel:// are the last two over TLS (to
// the sentinels too). The user and password are those of the data
// servers, for a Sentinel deployment as for the others; the sentinels' own
// credentials, when they need some, go in the query. As in any URL, a
// user name or password holding one of : @ / ? # % or a space is written
// percent-encoded (url.UserPassword does it); a user name alone (no colon)
// is a user name, so write :password@ for a password alone.
//
// The query holds options, written name=value and joined with &, as in
// go-redis's and rueidis's own URLs; each may be given once (addr as
// often as needed):
//
//	db=N                    the database, instead of the path (not on a cluster, which has 0 only)
//	dial_timeout=D          how long a connection may take to open
//	read_timeout=D          how long a reply may take
//	write_timeout=D         how long a command may take to send
//	addr=host:port          one more cluster seed or sentinel
//	sentinel_username=U     the user to log in to the sentinels as
//	sentinel_password=P     the sentinels' password (percent-encoded; never printed)
//	skip_verify=true        TLS without checking the server's certificate (rediss only; for tests)
//	tls_server_name=NAME    the name the server's certificate must hold, when it is not the host's (rediss only)
//
// A duration D is a Go duration such as 500ms or 3s, or a whole number of
// seconds, and must be positive. Any other option, pool_size among them
// (go-redis's pools and rueidis's pipelined connections do not compare), is
// an error that names it. Over TLS the server's certificate is checked
// against the system's roots and the name of the host each connection goes
// to; to trust another CA, set RootCAs in the [Config.TLS] that ParseURL
// returns.
//
// A URL that cannot be read gives a [*URLError] that names the part that
// is wrong and wraps [kv.ErrInvalid]; it quotes the URL with its passwords
// replaced by xxxxx, and never a password. A Config prints (String, %v,
// %+v, %#v) as its URL with the passwords replaced the same way (see
// [Config.Redacted]).
package redisconf
