package rueidiskv

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"

	"github.com/redis/rueidis"
	"go.uber.org/zap"

	"github.com/cledar/storekit/internal/redisproto"
)

// A node is one server the store's keys live on.
type node struct {
	c    rueidis.Client
	addr string // for logs and errors
	db   int
}

// nodes returns the servers that hold the store's keys: every master of a
// cluster (rueidis's Nodes lists replicas too; ROLE tells them apart), or
// the client itself, which sends its commands to the primary.
func (s *Store) nodes(ctx context.Context) ([]*node, error) {
	all := s.c.Nodes()
	addrs := slices.Sorted(func(yield func(string) bool) {
		for a := range all {
			if !yield(a) {
				return
			}
		}
	})
	if !s.cluster {
		db, err := s.database(ctx)
		if err != nil {
			return nil, err
		}
		addr := "primary"
		if len(addrs) == 1 {
			addr = addrs[0]
		}
		return []*node{{c: s.c, addr: addr, db: db}}, nil
	}
	var nodes []*node
	for _, a := range addrs {
		c := all[a]
		role, err := c.Do(ctx, c.B().Role().Build()).ToArray()
		if err != nil {
			return nil, fmt.Errorf("ROLE on %s: %w", a, err)
		}
		if len(role) > 0 {
			if r, _ := role[0].ToString(); r == "master" {
				nodes = append(nodes, &node{c: c, addr: a})
			}
		}
	}
	if len(nodes) == 0 {
		return nil, errors.New("the client knows no master")
	}
	return nodes, nil
}

// database returns the database number of the client's connections: the
// one Open or Dial selected, or the one CLIENT INFO reports. A server
// without CLIENT INFO (before Redis 6.2) is taken to use database 0.
func (s *Store) database(ctx context.Context) (int, error) {
	s.dbMu.Lock()
	defer s.dbMu.Unlock()
	if s.dbKnown {
		return s.db, nil
	}
	info, err := s.c.Do(ctx, s.c.B().ClientInfo().Build()).ToString()
	if err != nil {
		if classify(ctx, err) != nil {
			return 0, err
		}
		s.log.Warn("rueidiskv: CLIENT INFO failed, so the store takes its client to use database 0", zap.Error(err))
		s.db, s.dbKnown = 0, true
		return 0, nil
	}
	db, ok := redisproto.ClientInfoDB(info)
	if !ok {
		s.log.Warn("rueidiskv: CLIENT INFO has no db field, so the store takes its client to use database 0")
	}
	s.db, s.dbKnown = db, true
	return db, nil
}

// Scan implements [kv.Scanner] with SCAN MATCH pattern COUNT
// [Options.ScanCount]. On a cluster it scans every master, one after the
// other. The server never yields expired keys.
func (s *Store) Scan(ctx context.Context, pattern string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		op := "scan " + strconv.Quote(pattern)
		check := func() error {
			if err := s.life.Check(ctx); err != nil {
				return fmt.Errorf("rueidiskv: %s: %w", op, err)
			}
			return nil
		}
		if err := check(); err != nil {
			yield("", err)
			return
		}
		nodes, err := s.nodes(ctx)
		if err != nil {
			yield("", wrapErr(ctx, op, err))
			return
		}
		redisproto.ScanNodes(len(nodes), check, func(i int, cursor uint64) ([]string, uint64, error) {
			c := nodes[i].c
			e, err := c.Do(ctx, c.B().Scan().Cursor(cursor).Match(pattern).Count(int64(s.opts.ScanCount)).Build()).AsScanEntry()
			if err != nil {
				return nil, 0, wrapErr(ctx, op, err)
			}
			return e.Elements, e.Cursor, nil
		}, yield)
	}
}
