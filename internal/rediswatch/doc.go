// Package rediswatch runs the watches of storekit's Redis backends
// ([kv.Watcher]) over keyspace notifications, written once for every client
// library: a backend gives [Start] a [Client] (how to list the servers that
// hold keys, reach their notify-keyspace-events setting, and subscribe), and
// the watch does the rest.
//
// It maps keyspace notifications to [kv.Event] values ([KeyspaceEvent]),
// checks and turns on the notify-keyspace-events classes a watch needs
// ([EnsureNotify], [NotifyConfigError]), subscribes on every server and
// subscribes again when a connection is lost, follows the topology (a
// failover's new master, a cluster's new masters) by reading it every
// [Options.Interval], and reports every gap with an OpResync after checking
// the setting again ([Resyncer]); a setting that cannot be read because the
// server is unreachable is not reported as notifications being off.
package rediswatch
