// Package rediskv is the Redis side of storekit's Redis backends, written
// once for every client library: a [Store] keeps the kv contract (every
// capability of package kv) over a [Client], a handful of methods that each
// backend implements over its library (run a command, a pipeline, a
// transaction; list the servers; subscribe; classify the library's errors).
//
// Everything Redis-specific that does not depend on the library is here:
// the commands and Lua scripts of each operation and the history layout of
// the Python config store, how replies and error replies map to results
// and kv sentinels ([ReplySentinel]), cluster hash slots ([Slot],
// [GroupBySlot]), SCAN over every master, watches through package
// rediswatch, and a Dial's address, description and errors without the
// password ([Addr], [DescribeServer], [InitError]).
package rediskv
