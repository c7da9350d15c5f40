package robustness

import (
	"context"
	"fmt"
	"time"

	"github.com/cledar/storekit/kv"
)

// The checks of a run, as a failure names them.
const (
	checkResult     = "result"     // a call returned other than the model
	checkFinal      = "final"      // the state read back after the sequence differs
	checkVisibility = "visibility" // a read after an event returned an older state
	checkEvents     = "events"     // a watch's events differ from the model's
	checkWatch      = "watch"      // the watch could not be opened or did not start with OpResync
)

// Bounds of a run's waits: generous, for a busy machine; they only end a
// wait for events that never come.
const (
	eventWait  = 10 * time.Second
	eventGrace = 100 * time.Millisecond
	// realSlack is the margin for a server's clock in a real-time TTL
	// comparison, on top of the time the sequence spent outside sleeps.
	realSlack = 2 * time.Second
)

// A failure is a difference between a backend and the model.
type failure struct {
	Check  string
	Step   int // the index of the step, -1 when none
	Detail string
}

func (f *failure) String() string {
	if f.Step >= 0 {
		return fmt.Sprintf("%s check, step %d: %s", f.Check, f.Step, f.Detail)
	}
	return fmt.Sprintf("%s check: %s", f.Check, f.Detail)
}

// A runEnv is a store and how its sequences pass time.
type runEnv struct {
	Store fullStore
	// Exact means the store's clock is one that Sleep advances (a
	// ManualClock, miniredis's), and TTLs are compared exactly; otherwise
	// Sleep sleeps.
	Exact bool
	Sleep func(time.Duration)
	// EventWait bounds the wait for the events the model wants (zero:
	// eventWait); shrinking, which runs many sequences that miss an
	// event, waits less.
	EventWait time.Duration
	// NoWatch means the store's server sends no keyspace notifications
	// (miniredis): runs open no watch, and skip the events and visibility
	// checks.
	NoWatch bool
	// AddCounter, when set, is how the server adds to a counter where it
	// departs from Redis and kv.AddCounter (miniredis); the model's Incr
	// follows it.
	AddCounter func(value []byte, delta int64) (int64, error)
}

// runStats counts what runs checked.
type runStats struct {
	Sequences, Ops, Events, Reads int
}

func (s *runStats) add(o runStats) {
	s.Sequences += o.Sequences
	s.Ops += o.Ops
	s.Events += o.Events
	s.Reads += o.Reads
}

// finalReads are the reads of every key made after a sequence, to compare
// the state it left; they also make Redis free keys that expired.
func finalReads() []step {
	var reads []step
	for _, k := range genKeys {
		reads = append(reads, step{Kind: kLatest, Key: k}, step{Kind: kHistory, Key: k}, step{Kind: kTTL, Key: k}, step{Kind: kGetWithTTL, Key: k})
	}
	return append(reads, step{Kind: kScan, Pattern: "*"})
}

// runSequence runs seq on env's store under prefix, and on the model, and
// returns every difference found (nil when none), the first being the one
// to report.
func runSequence(ctx context.Context, env runEnv, prefix string, seq []step) ([]*failure, runStats) {
	m := newRefModel(prefix)
	if env.AddCounter != nil {
		m.addCounter = env.AddCounter
	}
	wants := make([]outcome, len(seq))
	for i, s := range seq {
		wants[i] = m.apply(s)
	}
	final := finalReads()
	finalWants := make([]outcome, len(final))
	for i, s := range final {
		finalWants[i] = m.apply(s)
	}
	stats := runStats{Sequences: 1}
	defer cleanup(env.Store, prefix)

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var log *watchLog // nil with NoWatch
	done := make(chan struct{})
	if env.NoWatch {
		close(done)
	} else {
		ch, err := env.Store.Watch(wctx, kv.EscapePattern(prefix)+"*")
		if err != nil {
			return []*failure{{Check: checkWatch, Step: -1, Detail: err.Error()}}, stats
		}
		select {
		case ev, ok := <-ch:
			if !ok || ev.Op != kv.OpResync {
				return []*failure{{Check: checkWatch, Step: -1, Detail: fmt.Sprintf("first event %v (open %v), want an OpResync", ev, ok)}}, stats
			}
		case <-time.After(eventWait):
			return []*failure{{Check: checkWatch, Step: -1, Detail: "no first OpResync"}}, stats
		}
		log = newWatchLog(env.Store, prefix, m)
		go func() {
			defer close(done)
			log.consume(wctx, ch)
		}()
	}
	defer func() { cancel(); <-done }()

	start := time.Now()
	var slept time.Duration
	sleep := func(d time.Duration) {
		slept += d
		env.Sleep(d)
	}
	window := func() ttlWindow {
		if env.Exact {
			return ttlWindow{}
		}
		return ttlWindow{Slack: time.Since(start) - slept + realSlack}
	}

	var fails []*failure
	for i, s := range seq {
		got := execStep(ctx, env.Store, prefix, s, sleep)
		stats.Ops++
		if d := compareOutcome(s.Kind, got, wants[i], window()); d != "" {
			fails = append(fails, &failure{Check: checkResult, Step: i, Detail: fmt.Sprintf("%v: %s", s, d)})
			break
		}
	}
	if fails == nil {
		for i, s := range final {
			got := execStep(ctx, env.Store, prefix, s, sleep)
			if d := compareOutcome(s.Kind, got, finalWants[i], window()); d != "" {
				fails = append(fails, &failure{Check: checkFinal, Step: -1, Detail: fmt.Sprintf("%v after the sequence: %s", s, d)})
				break
			}
		}
	}
	if fails != nil || log == nil {
		return fails, stats
	}

	// Wait until the events match the model's, then a little more for
	// events that should not come.
	wait := env.EventWait
	if wait == 0 {
		wait = eventWait
	}
	diff, n, more := log.compare()
	for deadline := time.Now().Add(wait); diff != "" && more && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		diff, n, more = log.compare()
	}
	if diff == "" {
		time.Sleep(eventGrace)
		diff, n, _ = log.compare()
	}
	cancel()
	<-done
	// Events that differ from the model's come first: the reads made on
	// them were checked against the wrong writes.
	if diff != "" {
		fails = append(fails, &failure{Check: checkEvents, Step: -1, Detail: diff})
	}
	log.mu.Lock()
	stats.Reads = log.reads
	if len(log.stale) > 0 {
		fails = append(fails, &failure{Check: checkVisibility, Step: -1, Detail: log.stale[0]})
	}
	log.mu.Unlock()
	stats.Events = n
	return fails, stats
}

// cleanup deletes the keys a sequence may have written, so that a long run
// does not fill the server.
func cleanup(st fullStore, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	keys := make([]string, len(genKeys))
	for i, k := range genKeys {
		keys[i] = prefix + k
	}
	_, _ = st.DeleteMulti(ctx, keys) // best effort: the server is the test's own
}
