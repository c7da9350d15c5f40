package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// A stat is one named value of a store's snapshot.
type stat struct {
	name  string
	value any
}

// snapshot returns what s tells about itself, in a fixed order: the
// backend, its capabilities and, from its metrics.Snapshot, the calls and
// failures of this process (the operations that ran, by name, and their
// failures by kind), its watches' counters and its client-side cache's.
func snapshot(s *opened) []stat {
	stats := []stat{{"backend", s.kind}, {"store", s.name}, {"capabilities", strings.Join(capabilities(s.Store), " ")}}
	m, ok := metrics.Of(s.Store)
	if !ok {
		return stats
	}
	for op := range metrics.Op(metrics.NumOps) {
		if m.Ops[op] > 0 {
			stats = append(stats, stat{"ops_" + op.String(), m.Ops[op]})
		}
		for k := range metrics.Kind(metrics.NumKinds) {
			if n := m.Errors[op][k]; n > 0 {
				stats = append(stats, stat{"errors_" + op.String() + "_" + k.String(), n})
			}
		}
	}
	stats = append(stats,
		stat{"watch_events", m.Watch.Events},
		stat{"watch_resyncs", m.Watch.Resyncs},
		stat{"watch_overflows", m.Watch.Overflows},
		stat{"watch_resubscribes", m.Watch.Resubscribes})
	if c := m.Cache; c != nil {
		stats = append(stats,
			stat{"cache_hits", c.Hits},
			stat{"cache_misses", c.Misses},
			stat{"cache_invalidations", c.Invalidations},
			stat{"cache_evictions", c.Evictions},
			stat{"cache_flushes", c.Flushes},
			stat{"cache_entries", c.Entries},
			stat{"cache_bytes", c.Bytes})
	}
	return stats
}

// capabilities names the optional interfaces s implements, sorted.
func capabilities(s kv.Store) []string {
	var caps []string
	for name, ok := range map[string]bool{
		"MultiGetter":          is[kv.MultiGetter](s),
		"Scanner":              is[kv.Scanner](s),
		"Expirer":              is[kv.Expirer](s),
		"ExpiryChanger":        is[kv.ExpiryChanger](s),
		"Watcher":              is[kv.Watcher](s),
		"Historian":            is[kv.Historian](s),
		"MultiLatest":          is[kv.MultiLatest](s),
		"Pruner":               is[kv.Pruner](s),
		"ConditionalHistorian": is[kv.ConditionalHistorian](s),
		"Conditional":          is[kv.Conditional](s),
		"Counter":              is[kv.Counter](s),
		"BulkWriter":           is[kv.BulkWriter](s),
	} {
		if ok {
			caps = append(caps, name)
		}
	}
	slices.Sort(caps)
	return caps
}

func is[T any](s kv.Store) bool {
	_, ok := s.(T)
	return ok
}

// stats prints the store's snapshot: aligned names and values, or one JSON
// object.
func stats(_ context.Context, a *app, s *opened, _ []string, _ *cmdFlags) error {
	snap := snapshot(s)
	if a.output == "json" {
		var b strings.Builder
		b.WriteByte('{')
		for i, st := range snap {
			if i > 0 {
				b.WriteByte(',')
			}
			name, _ := json.Marshal(st.name)
			value, err := json.Marshal(st.value)
			if err != nil {
				return err
			}
			b.Write(name)
			b.WriteByte(':')
			b.Write(value)
		}
		b.WriteString("}\n")
		_, err := fmt.Fprint(a.stdout, b.String())
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	for _, st := range snap {
		fmt.Fprintf(tw, "%s\t%v\n", st.name, st.value)
	}
	return tw.Flush()
}
