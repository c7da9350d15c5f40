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

// A scratch holds the strings a bulk write builds and drops once its
// commands returned: its keys and the commands' arguments. The clients
// copy what they keep of a command's arguments (the slice, not the
// strings), so the slices can serve the next call.
type scratch struct{ strs []string }

// maxScratch is the most strings of a scratch that is kept for reuse.
const maxScratch = 4 * maxBatch

var scratches = sync.Pool{New: func() any { return new(scratch) }}

// newScratch returns an empty scratch with room for n strings.
func newScratch(n int) *scratch {
	sc := scratches.Get().(*scratch)
	if cap(sc.strs) < n {
		sc.strs = make([]string, 0, n)
	}
	return sc
}

// take returns n zero strings cut from sc, or new ones when sc has no room
// left; appending to them cannot reach the others.
func (sc *scratch) take(n int) []string {
	at := len(sc.strs)
	if cap(sc.strs)-at < n {
		return make([]string, n)
	}
	sc.strs = sc.strs[:at+n]
	return sc.strs[at : at+n : at+n]
}

// free clears sc and makes it available for reuse.
func (sc *scratch) free() {
	clear(sc.strs)
	sc.strs = sc.strs[:0]
	if cap(sc.strs) <= maxScratch {
		scratches.Put(sc)
	}
}
