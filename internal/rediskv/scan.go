package rediskv

import (
	"context"
	"fmt"
	"iter"
	"strconv"

	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// Scan implements [kv.Scanner] with SCAN MATCH pattern COUNT ScanCount. On
// a cluster it scans every master, and on a ring every shard, one after the
// other. The server never yields expired keys.
func (s *Store) Scan(ctx context.Context, pattern string) iter.Seq2[string, error] {
	return s.counters.Seq(metrics.OpScan, func(yield func(string, error) bool) {
		op := "scan " + kv.QuoteKey(pattern)
		check := func() error {
			if err := s.life.Check(ctx); err != nil {
				return fmt.Errorf("%s: %s: %w", s.backend, op, err)
			}
			return nil
		}
		if err := check(); err != nil {
			yield("", err)
			return
		}
		nodes, err := s.c.Nodes(ctx)
		if err != nil {
			yield("", s.err(ctx, op, err))
			return
		}
		count := strconv.Itoa(s.o.ScanCount)
		for _, n := range nodes {
			cursor := "0"
			for {
				if err := check(); err != nil {
					yield("", err)
					return
				}
				r := n.Do(ctx, Cmd{Name: "SCAN", NoKey: true, Args: []string{cursor, "MATCH", pattern, "COUNT", count}, ReadOnly: true})
				if r.Err == nil && (r.Kind != KindArray || len(r.Array) != 2) {
					r.Err = fmt.Errorf("%w to SCAN: %+v", errUnexpected, r)
				}
				if r.Err != nil {
					yield("", s.err(ctx, op, r.Err))
					return
				}
				for _, k := range r.Array[1].Array {
					if !yield(string(k.Str), nil) {
						return
					}
				}
				cursor = string(r.Array[0].Str)
				if cursor == "0" {
					break
				}
			}
		}
	})
}
