package rediskv

import "sync"

// A batch holds the commands of a pipelined call and their replies. A bulk
// write of 100 keys spread over a cluster's slots sends 100 commands: the
// two slices then come to 17 KB, which a batch reused from call to call
// saves the garbage collector.
type batch struct {
	cmds    []Cmd
	replies []Reply
}

// maxBatch is the most commands of a batch that is kept for reuse.
const maxBatch = 1024

var batches = sync.Pool{New: func() any { return new(batch) }}

// newBatch returns a batch of n zero commands and n zero replies.
func newBatch(n int) *batch {
	b := batches.Get().(*batch)
	if cap(b.cmds) < n {
		b.cmds = make([]Cmd, n)
		b.replies = make([]Reply, n)
	}
	b.cmds, b.replies = b.cmds[:n], b.replies[:n]
	return b
}

// free clears b, which keeps nothing of the call, and makes it available
// for reuse. The replies' contents (bytes, errors) stay with whoever took
// them.
func (b *batch) free() {
	clear(b.cmds)
	clear(b.replies)
	if cap(b.cmds) <= maxBatch {
		batches.Put(b)
	}
}
