package kv

import "strconv"

// An Op says what happened to a key. The kinds follow what Redis reports in
// its keyspace notifications.
type Op uint8

const (
	// OpResync means events may have been missed: the watch was just
	// established, its connection was re-established, or the consumer fell
	// behind and buffered events were dropped. Re-read every key you hold.
	OpResync Op = iota + 1
	// OpSet means the key's value was written (Redis: set, setrange, incrby,
	// append, lset, the target of a rename or copy, ...).
	OpSet
	// OpDelete means the key was removed by a command (Redis: del, which
	// UNLINK reports too, evicted, the source of a rename or move).
	OpDelete
	// OpExpire means an expiry was set on the key (Redis: expire).
	OpExpire
	// OpExpired means the key expired and was removed (Redis: expired).
	OpExpired
	// OpAppend means an entry was added to the key's history (Redis: rpush,
	// lpush, linsert).
	OpAppend
	// OpOther is any other change (Redis: persist, ltrim, lrem, ...).
	OpOther
)

var opNames = [...]string{
	OpResync:  "resync",
	OpSet:     "set",
	OpDelete:  "delete",
	OpExpire:  "expire",
	OpExpired: "expired",
	OpAppend:  "append",
	OpOther:   "other",
}

// String returns the lower-case name of op.
func (op Op) String() string {
	if int(op) < len(opNames) && opNames[op] != "" {
		return opNames[op]
	}
	return "Op(" + strconv.Itoa(int(op)) + ")"
}

// An Event reports a change to a watched key. See [Watcher].
type Event struct {
	// Op says what happened.
	Op Op
	// Key is the key that changed; it is empty for OpResync.
	Key string
	// Err is set only on an OpResync, when the watch cannot currently
	// guarantee delivery: for example the Redis server's
	// notify-keyspace-events setting lost the classes the watch needs after
	// a restart. The watch keeps running and sends another OpResync, with a
	// nil Err, once delivery is guaranteed again.
	Err error
}

// String formats e for logs, such as "set user:1" or "resync".
func (e Event) String() string {
	s := e.Op.String()
	if e.Key != "" {
		s += " " + strconv.Quote(e.Key)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}
