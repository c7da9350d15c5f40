// Package robustness checks that every backend behaves the same, and as the
// contract of package kv says, beyond the one scenario per rule of the
// conformance suite:
//
//   - differential tests run long, seeded, random sequences of every
//     operation of the contract against a reference model and against
//     every backend, compare every result and every watch's events, and
//     shrink a failing sequence to a minimal one printed as a Go test;
//   - linearizability tests record histories of concurrent clients
//     (compare-and-swap loops, counters, locks, reads through the
//     client-side cache) while the server is killed, paused, restarted,
//     cut off or failed over, and check each history against a sequential
//     model with github.com/anishathalye/porcupine;
//   - mutated backends, each with one deliberate bug, show that the checks
//     catch what they are meant to.
//
// It is a module of its own (robustness/go.mod, with replaces of storekit
// and its PostgreSQL backend by their directories), so that the checker and
// the backends it runs stay out of what users download. make test runs its
// tests with a bounded, seeded budget; make soak runs them longer.
package robustness
