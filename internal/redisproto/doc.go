// Package redisproto holds the Redis knowledge that storekit's Redis backends
// share and that does not depend on a client library: how keyspace
// notifications map to [kv.Op] values and which notify-keyspace-events classes
// a watch needs, the Lua scripts behind the history capability, how Redis
// error replies map to the kv error sentinels, and cluster hash slots.
//
// Everything here works on strings and bytes as Redis sends them; the
// backends (go-redis, rueidis) translate their client's types at the edge.
//
// It also holds the client-independent parts of what the backends do with
// that knowledge: running per-slot work with [ForEach], a store's open or
// closed state and the watches Close ends ([Lifecycle]), and formatting a
// server's address and Dial errors without the password ([Addr],
// [DescribeServer], [InitError]).
package redisproto
