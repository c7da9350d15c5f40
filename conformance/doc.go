// Package conformance checks that a [kv.Store] keeps the contract of package
// kv: every rule listed under "Rules" in the kv package documentation, for
// the required interface and for each optional one the store implements.
//
// # Running the suite
//
// A backend runs the suite from an ordinary test with [Run], giving it a
// function that returns the store under test:
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, func(t *testing.T) kv.Store {
//			client := redis.NewClient(&redis.Options{Addr: testAddr, ContextTimeoutEnabled: true})
//			t.Cleanup(func() { client.Close() })
//			return mybackend.New(client, nil)
//		})
//	}
//
// Run calls that function once per case, in the case's subtest, and closes
// the store when the subtest ends. Run the tests with -race: the suite calls
// the store from many goroutines at once.
//
// # Cases
//
// Each case checks one rule and is a subtest named Family/Case below the test
// that calls Run. The families are Basic, Binary, Bulk ([kv.MultiGetter]),
// Scan ([kv.Scanner]), TTL ([kv.Expirer]), Watch ([kv.Watcher]), History
// ([kv.Historian]), LatestMulti ([kv.MultiLatest], and the [kv.LatestMulti]
// helper), Prune ([kv.Pruner]), Conditional and Update
// ([kv.Conditional], and the [kv.Update] helper on it), Counter
// ([kv.Counter]), ExpiryChange ([kv.ExpiryChanger]), BulkWrite
// ([kv.BulkWriter], and the [kv.SetMulti] and [kv.DeleteMulti] helpers),
// AppendIf ([kv.ConditionalHistorian]), Concurrency, Context and Close. The
// events of each write are checked in the Watch family and, for the newer
// capabilities, in an Events case of their own family, which needs
// [kv.Watcher] too. [Cases] lists every case with its rule. A failure says what was called, what came back and what the
// contract wants, followed by the rule:
//
//	Get("ck:5f0c3a91d2e87b64:k") after Delete: got "v", want errors.Is(_, kv.ErrNotFound) (rule: after Delete, Get reports kv.ErrNotFound)
//
// Select cases by name with go test's -run and -skip flags:
//
//	go test -run 'TestConformance/Watch/'
//	go test -skip 'TestConformance/Watch/SlowConsumer'
//
// Case names are stable; new cases may be added.
//
// # Optional interfaces
//
// The suite finds the optional interfaces by type assertion. A case that needs
// one the store lacks is skipped with a message naming it, such as
// "*mybackend.Store does not implement kv.Watcher". A store that implements an
// interface is held to all of its rules.
//
// # Keys and shared servers
//
// Each case writes only keys under a random prefix of its own, such as
// "ck:5f0c3a91d2e87b64:", builds its scan and watch patterns from that prefix
// (escaped with [kv.EscapePattern]), and ignores events for other keys, so
// several runs may share one server at once. The one exception is
// Binary/EmptyKey, which must write the empty key: it retries when another
// run seems to interfere. A case deletes the keys it wrote when it ends, as
// far as the store still lets it (the Close cases close their store, and
// write nothing before). The suite never flushes or clears anything.
//
// # Time
//
// Each case runs under a context with a 30-second deadline. A case still
// running 15 seconds after that deadline panics with a message naming the
// case and the stacks of all goroutines, so a store that ignores its context
// fails fast rather than at the go test timeout. Waits for watch events are
// bounded at 5 seconds each.
//
// The suite checks no timings, only these bounds. A few cases wait on
// purpose: keys written with a 200 ms TTL (or given it with Expire) are read
// 350 ms later, and Watch/Expired then waits for OpExpired (it reads the key
// first, which makes Redis free it at once). Watch/SlowConsumer makes up to
// 20,000 Sets while a watch is not read, stopping after 20 seconds; each must
// return within those 20 seconds.
// The cases that race goroutines at one key (Conditional/SetIfAbsentRace,
// Conditional/CASConcurrentIncrements, Update/Concurrent,
// Counter/Concurrent, AppendIf/Race) count, not time, what happens: a
// read-modify-write loop fails when it meets the same value many times in a
// row without replacing it, rather than spinning until the deadline. On the
// memory backend the whole suite runs in about two seconds.
//
// # Writing a backend that is not Redis
//
// backends/postgres (a module of its own) was written this way, with the
// exported packages alone; what it took is what the suite asks of any
// store:
//
//   - Start with kv.Store and the rules of package kv's documentation, run
//     the suite, and add one optional interface at a time: a store is held
//     to every rule of each interface it implements, and to none of the
//     others. backends/memory implements every interface and is the
//     reference to read.
//   - Events follow the writes as kv documents them, which a store must
//     produce whoever wrote: a Set of an unchanged value is still OpSet, a
//     plain value turned into a history is OpDelete then OpAppend, Persist
//     is OpOther. A store that hears other processes' writes through a
//     trigger or a log must tell these apart (postgres counts writes in a
//     column for that).
//   - Expiry is seen at once by reads (filter by expiry time), and OpExpired
//     must come within the 5 seconds the suite waits for an event: a
//     background sweep has to run more often than that.
//   - Watch/SlowConsumer makes up to 20,000 Sets one after another, for 20
//     seconds at most, while a watch is not read: the store must not wait
//     for the watch's consumer, and the more writes it commits in that time
//     the more surely the watch's buffers overflow (postgres's tests run
//     with synchronous_commit off, so that commits do not wait for a disk).
//   - The suite writes no key longer than a few kilobytes but reads a 1 MiB
//     one; a store with a key size limit documents it and fails longer
//     writes with ErrInvalid.
//   - A failure names the call, what it returned, what the contract wants
//     and the rule; reproduce one with go test -run 'TestConformance/Family/Case'.
//
// # Benchmarks
//
// [Bench] runs a fixed workload (Get, GetMulti of 100 keys, Get of a missing
// key, Set; 10,000 keys of 64 bytes; 1, 8 and 64 goroutines) against one
// store, and [Compare] runs it against several stores side by side, with
// names such as Get/par=8/impl=mybackend that benchstat can project by
// implementation (benchstat -col /impl). Like the suite, both write under a
// random prefix and delete what they wrote.
package conformance
