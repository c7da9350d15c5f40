package conformance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cledar/storekit/kv"
)

// Run runs every case of the suite against stores returned by newStore, each
// case in its own subtest named "Family/Case" (for example "Basic/GetMissing"
// or "Watch/SlowConsumer") below t.
//
// newStore is called once per subtest, with that subtest's t, and returns the
// store under test. Stores may share one server: each case writes only keys
// under its own random prefix, deletes them when it ends, and never flushes
// anything. Run closes each store when its subtest ends; newStore may register
// more cleanup with t.Cleanup.
//
// Optional interfaces ([kv.MultiGetter], [kv.Scanner], [kv.Expirer],
// [kv.ExpiryChanger], [kv.Watcher], [kv.Historian], [kv.MultiLatest],
// [kv.Pruner], [kv.ConditionalHistorian], [kv.Conditional], [kv.Counter],
// [kv.BulkWriter]) are found by type assertion; a case that needs one the
// store lacks is skipped with a message such as
// "*mybackend.Store does not implement kv.Watcher".
//
// Each case runs under a context with a 30-second deadline; a case still
// running well after it panics with a message naming the case, so a hung
// store fails fast instead of at the go test timeout. Run tests under -race.
func Run(t *testing.T, newStore func(t *testing.T) kv.Store) {
	t.Helper()
	cfg := defaultConfig()
	for _, fam := range families() {
		t.Run(fam.name, func(t *testing.T) {
			for _, tc := range fam.cases {
				t.Run(tc.leaf(), func(t *testing.T) {
					runCase(t, tc, cfg, func() kv.Store { return newStore(t) })
				})
			}
		})
	}
}

// A CaseInfo describes one case of the suite.
type CaseInfo struct {
	// Name is the case's subtest name below the test that calls Run, such
	// as "Watch/EscapedPattern".
	Name string
	// Rule is the rule of the kv contract that the case checks, as printed
	// in its failure messages.
	Rule string
	// Needs lists the optional interfaces the store must implement for the
	// case to run, such as "kv.Watcher"; it is empty when kv.Store is enough.
	Needs []string
}

// Cases returns a description of every case that [Run] runs, in order.
func Cases() []CaseInfo {
	infos := make([]CaseInfo, len(allCases))
	for i, tc := range allCases {
		infos[i] = CaseInfo{Name: tc.name, Rule: tc.rule}
		for _, c := range tc.needs {
			infos[i].Needs = append(infos[i].Needs, c.String())
		}
	}
	return infos
}

// A testCase is one entry of the suite's table.
type testCase struct {
	name  string       // "Family/Case": stable, used with go test -run and -skip
	rule  string       // the rule checked, in one sentence; printed with every failure
	needs []capability // optional interfaces the store must implement
	run   func(h *harness)
}

func (tc *testCase) family() string { f, _, _ := strings.Cut(tc.name, "/"); return f }
func (tc *testCase) leaf() string   { _, l, _ := strings.Cut(tc.name, "/"); return l }

// allCases is the suite, family by family.
var allCases = slices.Concat(
	basicCases,
	binaryCases,
	bulkCases,
	scanCases,
	ttlCases,
	watchCases,
	historyCases,
	latestMultiCases,
	pruneCases,
	conditionalCases,
	updateCases,
	counterCases,
	expiryChangeCases,
	bulkWriteCases,
	appendIfCases,
	concurrencyCases,
	contextCases,
	closeCases,
)

type family struct {
	name  string
	cases []*testCase
}

// families groups allCases by family, keeping their order.
func families() []family {
	var fams []family
	for i := range allCases {
		tc := &allCases[i]
		if n := len(fams); n == 0 || fams[n-1].name != tc.family() {
			fams = append(fams, family{name: tc.family()})
		}
		fams[len(fams)-1].cases = append(fams[len(fams)-1].cases, tc)
	}
	return fams
}

// A capability is an optional interface of the kv contract.
type capability uint8

const (
	multiGetter capability = iota + 1
	scanner
	expirer
	watcher
	historian
	pruner
	conditional
	counter
	expiryChanger
	bulkWriter
	conditionalHistorian
	multiLatest
)

var capabilityNames = [...]string{
	multiGetter:          "kv.MultiGetter",
	scanner:              "kv.Scanner",
	expirer:              "kv.Expirer",
	watcher:              "kv.Watcher",
	historian:            "kv.Historian",
	pruner:               "kv.Pruner",
	conditional:          "kv.Conditional",
	counter:              "kv.Counter",
	expiryChanger:        "kv.ExpiryChanger",
	bulkWriter:           "kv.BulkWriter",
	conditionalHistorian: "kv.ConditionalHistorian",
	multiLatest:          "kv.MultiLatest",
}

func (c capability) String() string { return capabilityNames[c] }

// of reports whether s implements c.
func (c capability) of(s kv.Store) bool {
	var ok bool
	switch c {
	case multiGetter:
		_, ok = s.(kv.MultiGetter)
	case scanner:
		_, ok = s.(kv.Scanner)
	case expirer:
		_, ok = s.(kv.Expirer)
	case watcher:
		_, ok = s.(kv.Watcher)
	case historian:
		_, ok = s.(kv.Historian)
	case pruner:
		_, ok = s.(kv.Pruner)
	case conditional:
		_, ok = s.(kv.Conditional)
	case counter:
		_, ok = s.(kv.Counter)
	case expiryChanger:
		_, ok = s.(kv.ExpiryChanger)
	case bulkWriter:
		_, ok = s.(kv.BulkWriter)
	case conditionalHistorian:
		_, ok = s.(kv.ConditionalHistorian)
	case multiLatest:
		_, ok = s.(kv.MultiLatest)
	}
	return ok
}

// config holds the suite's bounds and sizes. Run uses defaultConfig; the
// meta-test shortens the bounds that only a broken store ever reaches.
type config struct {
	caseTimeout  time.Duration // deadline of each case's context
	hangGrace    time.Duration // a case still running caseTimeout+hangGrace after it started panics
	eventTimeout time.Duration // wait for one expected watch event, or for a channel to close
	expiryWait   time.Duration // wait for OpExpired once a key's TTL has passed
	ttl          time.Duration // short TTL for keys that must expire during a case
	ttlMargin    time.Duration // sleep ttl+ttlMargin after SetWithTTL returned
	slowWrites   int           // Sets made, at most, while a watch is not read
	slowBound    time.Duration // bound of each of those Sets, and time after which they stop
	largeValue   int           // size of the large value
}

func defaultConfig() *config {
	return &config{
		caseTimeout:  30 * time.Second,
		hangGrace:    15 * time.Second,
		eventTimeout: 5 * time.Second,
		expiryWait:   5 * time.Second,
		ttl:          200 * time.Millisecond,
		ttlMargin:    150 * time.Millisecond,
		slowWrites:   20000,
		slowBound:    20 * time.Second,
		largeValue:   8<<20 + 1,
	}
}

// tb is the part of testing.TB the suite uses. *testing.T implements it in
// Run; the meta-test implements it to record failures instead.
type tb interface {
	Helper()
	Name() string
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Logf(format string, args ...any)
	Cleanup(func())
}

// runCase runs tc against a store from newStore, reporting to t. It must be
// called on the goroutine that Fatalf and Skipf end.
func runCase(t tb, tc *testCase, cfg *config, newStore func() kv.Store) {
	t.Helper()
	name := t.Name()
	limit := cfg.caseTimeout + cfg.hangGrace
	dog := time.AfterFunc(limit, func() { hung(name, limit) })
	t.Cleanup(func() { dog.Stop() }) // registered first, so it runs after every other cleanup

	s := newStore()
	if s == nil {
		t.Fatalf("newStore returned a nil kv.Store")
	}
	t.Cleanup(func() { _ = s.Close() })
	for _, c := range tc.needs {
		if !c.of(s) {
			t.Skipf("%T does not implement %s", s, c)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.caseTimeout)
	t.Cleanup(cancel)
	h := &harness{t: t, s: s, ctx: ctx, cfg: cfg, rule: tc.rule, prefix: newPrefix()}
	t.Cleanup(h.deleteKeys)
	tc.run(h)
}

// hung ends the test binary when a case outlives its deadline by far: a store
// method or a watch that ignores its context would otherwise hold the test
// until the go test timeout, with no word on which case hung.
func hung(name string, after time.Duration) {
	debug.SetTraceback("all")
	panic(fmt.Sprintf("conformance: %s still running after %v, past its context's deadline: "+
		"a store method ignores its context or blocks (stacks of all goroutines follow)", name, after))
}

// newPrefix returns a random key prefix, such as "ck:0123456789abcdef:", that
// scopes the keys of one case.
func newPrefix() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "ck:" + hex.EncodeToString(b[:]) + ":"
}

// errName names the sentinel errors for failure messages.
func errName(err error) string {
	switch err {
	case kv.ErrNotFound:
		return "kv.ErrNotFound"
	case kv.ErrClosed:
		return "kv.ErrClosed"
	case kv.ErrInvalid:
		return "kv.ErrInvalid"
	case kv.ErrWrongType:
		return "kv.ErrWrongType"
	case kv.ErrNotSupported:
		return "kv.ErrNotSupported"
	case kv.ErrConflict:
		return "kv.ErrConflict"
	case context.Canceled:
		return "context.Canceled"
	case context.DeadlineExceeded:
		return "context.DeadlineExceeded"
	}
	return fmt.Sprintf("%q", err)
}
