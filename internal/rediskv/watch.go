package rediskv

import (
	"context"
	"fmt"

	"github.com/cledar/storekit/internal/rediswatch"
	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// Watch implements [kv.Watcher] with keyspace notifications, through
// package rediswatch: see the backends' documentation.
func (s *Store) Watch(ctx context.Context, pattern string) (_ <-chan kv.Event, err error) {
	defer s.counters.Done(metrics.OpWatch, &err)
	if err := s.life.Check(ctx); err != nil {
		return nil, s.fail("watch", pattern, err)
	}
	return rediswatch.Start(ctx, &s.life, watchClient{s}, pattern, rediswatch.Options{
		Backend:              s.backend,
		Log:                  s.log,
		Buffer:               s.o.WatchBuffer,
		EnableKeyspaceEvents: s.o.EnableKeyspaceEvents,
		Interval:             s.o.TopologyInterval,
		Wrap:                 s.err,
		Changed:              s.h.Changed,
		Missed:               s.h.Missed,
		Counters:             &s.counters.Watch,
	})
}

// watchClient is a store's client as a watch uses it.
type watchClient struct{ s *Store }

// Servers lists the nodes by address, or by what their Identify returns.
func (w watchClient) Servers(ctx context.Context) ([]rediswatch.Server, error) {
	if w.s.h.Topology != nil {
		w.s.h.Topology(ctx)
	}
	nodes, err := w.s.c.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	servers := make([]rediswatch.Server, len(nodes))
	for i, n := range nodes {
		servers[i] = rediswatch.Server{ID: n.Addr, Addr: n.Addr, DB: n.DB, Node: n}
		if n.Identify != nil {
			id, err := n.Identify(ctx)
			if err != nil {
				return nil, err
			}
			servers[i].ID = id
			servers[i].Addr = n.Addr + " (" + id + ")"
		}
	}
	return servers, nil
}

func (w watchClient) Subscribe(ctx context.Context, srv rediswatch.Server, channel string,
	confirmed func(), deliver func(channel, message string)) error {
	return w.s.c.Subscribe(ctx, srv, channel, confirmed, deliver)
}

// Notify reads and changes the setting with CONFIG GET and CONFIG SET on
// the server's node.
func (w watchClient) Notify(srv rediswatch.Server) rediswatch.NotifyAccess {
	n := srv.Node.(Node)
	const param = rediswatch.NotifyParam
	return rediswatch.NotifyAccess{
		Addr: srv.Addr,
		Get: func(ctx context.Context) (map[string]string, error) {
			r := n.Do(ctx, Cmd{Name: "CONFIG", NoKey: true, Args: []string{"GET", param}, ReadOnly: true})
			if r.Err != nil {
				return nil, r.Err
			}
			if r.Kind != KindArray || len(r.Array)%2 != 0 {
				return nil, fmt.Errorf("%w to CONFIG GET: %+v", errUnexpected, r)
			}
			vals := make(map[string]string, len(r.Array)/2)
			for i := 0; i < len(r.Array); i += 2 {
				vals[string(r.Array[i].Str)] = string(r.Array[i+1].Str)
			}
			return vals, nil
		},
		Set: func(ctx context.Context, value string) error {
			return n.Do(ctx, Cmd{Name: "CONFIG", NoKey: true, Args: []string{"SET", param, value}}).Err
		},
		Unreachable: func(ctx context.Context, err error) bool { return w.s.c.Classify(ctx, err) != nil },
	}
}
