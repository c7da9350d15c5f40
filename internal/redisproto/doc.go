// Package redisproto holds the Redis knowledge that storekit's Redis backends
// share and that does not depend on a client library: how keyspace
// notifications map to [kv.Op] values and which notify-keyspace-events classes
// a watch needs, the Lua scripts behind the history capability, how Redis
// error replies map to the kv error sentinels, and cluster hash slots.
//
// Everything here works on strings and bytes as Redis sends them; the
// backends (go-redis, rueidis) translate their client's types at the edge.
package redisproto
