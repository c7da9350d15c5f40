package rediskv

import (
	"context"
	"fmt"
	"strconv"

	"github.com/cledar/storekit/internal/validate"
	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// maxTypeRetries bounds how often At and History re-read a key whose type
// changes between their list read and their plain-value read.
const maxTypeRetries = 3

// Append implements [kv.Historian]: a Lua script RPUSHes value, first
// converting a plain value into version 1 atomically (watchers then see
// OpDelete before OpAppend).
func (s *Store) Append(ctx context.Context, key string, value []byte) (_ int64, err error) {
	defer s.counters.Done(metrics.OpAppend, &err)
	if err := s.life.Check(ctx); err != nil {
		return 0, s.fail("append", key, err)
	}
	r := s.eval(ctx, appendScript, key, s.arg(ctx, value))
	s.wrote(key)
	if r.Err != nil {
		return 0, s.keyErr(ctx, "append", key, r.Err)
	}
	return r.Int, nil
}

// AppendIf implements [kv.ConditionalHistorian] with the Lua script of
// Append, given the expected version: it reads the latest version (LLEN of
// a list, 1 for a plain value, 0 for no key) and appends, converting a plain
// value as Append does, only if it is expect. Otherwise it writes nothing
// and returns a *kv.VersionConflict.
func (s *Store) AppendIf(ctx context.Context, key string, value []byte, expect int64) (_ int64, err error) {
	defer s.counters.Done(metrics.OpAppendIf, &err)
	if err := s.life.Check(ctx); err != nil {
		return 0, s.fail("appendif", key, err)
	}
	if err := validate.Expect(expect); err != nil {
		return 0, s.fail("appendif", key, err)
	}
	r := s.eval(ctx, appendScript, key, s.arg(ctx, value), strconv.FormatInt(expect, 10))
	s.wrote(key)
	switch {
	case r.Err != nil:
		return 0, s.keyErr(ctx, "appendif", key, r.Err)
	case r.Kind == KindInt:
		return r.Int, nil
	case r.Kind == KindArray && len(r.Array) == 1 && r.Array[0].Kind == KindInt:
		return 0, fmt.Errorf("%s: %w", s.backend, &kv.VersionConflict{Key: key, Expected: expect, Latest: r.Array[0].Int})
	}
	return 0, s.fail("appendif", key, fmt.Errorf("%w from the script: %+v", errUnexpected, r))
}

// Prune implements [kv.Pruner] with a Lua script that empties the entries
// below version before (LSET index ""), from before-1 down to the first entry
// already empty, never the newest; watchers hear one OpSet per entry emptied.
// A missing key or a plain value is left alone.
func (s *Store) Prune(ctx context.Context, key string, before int64) (_ int, err error) {
	defer s.counters.Done(metrics.OpPrune, &err)
	if err := s.life.Check(ctx); err != nil {
		return 0, s.fail("prune", key, err)
	}
	if err := validate.Before(before); err != nil {
		return 0, s.fail("prune", key, err)
	}
	r := s.eval(ctx, pruneScript, key, strconv.FormatInt(before, 10))
	s.wrote(key)
	if r.Err != nil {
		return 0, s.keyErr(ctx, "prune", key, r.Err)
	}
	return int(r.Int), nil
}

// Latest implements [kv.Historian] with a Lua script that reads the length
// and the last entry in one atomic step. A plain value is version 1.
func (s *Store) Latest(ctx context.Context, key string) (_ []byte, _ int64, err error) {
	defer s.counters.Done(metrics.OpLatest, &err)
	if err := s.life.Check(ctx); err != nil {
		return nil, 0, s.fail("latest", key, err)
	}
	r := s.eval(ctx, latestScript, key)
	if r.Err != nil {
		return nil, 0, s.keyErr(ctx, "latest", key, r.Err)
	}
	if r.Kind != KindArray || len(r.Array) != 2 || r.Array[0].Kind != KindInt || r.Array[1].Kind != KindStr {
		return nil, 0, s.fail("latest", key, fmt.Errorf("%w from the script: %+v", errUnexpected, r))
	}
	return r.Array[1].Bytes(), r.Array[0].Int, nil
}

// At implements [kv.Historian] with LINDEX. For a key that holds a plain
// value it reads the value and its type in one transaction: version 1 is
// the value, later versions do not exist.
func (s *Store) At(ctx context.Context, key string, version int64) (_ []byte, err error) {
	defer s.counters.Done(metrics.OpAt, &err)
	if err := s.life.Check(ctx); err != nil {
		return nil, s.fail("at", key, err)
	}
	if err := validate.Version(version); err != nil {
		return nil, s.fail("at", key, err)
	}
	var v []byte
	err = s.readHistory(ctx, "at", key, func() error {
		r := s.c.Do(ctx, Cmd{Name: "LINDEX", Key: key, Args: []string{strconv.FormatInt(version-1, 10)}, ReadOnly: true})
		v = r.Bytes()
		return r.Err
	}, func(plain []byte) error {
		if version != 1 {
			return s.fail("at", key, fmt.Errorf("version %d is beyond a plain value (version 1): %w", version, kv.ErrNotFound))
		}
		v = plain
		return nil
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// History implements [kv.Historian] with LRANGE 0 -1; a plain value is a
// history of one entry.
func (s *Store) History(ctx context.Context, key string) (_ [][]byte, err error) {
	defer s.counters.Done(metrics.OpHistory, &err)
	if err := s.life.Check(ctx); err != nil {
		return nil, s.fail("history", key, err)
	}
	var entries [][]byte
	err = s.readHistory(ctx, "history", key, func() error {
		r := s.c.Do(ctx, Cmd{Name: "LRANGE", Key: key, Args: []string{"0", "-1"}, ReadOnly: true})
		if r.Err != nil {
			return r.Err
		}
		if len(r.Array) == 0 {
			return errMissing // LRANGE of a missing key
		}
		entries = make([][]byte, len(r.Array))
		for i := range r.Array {
			entries[i] = r.Array[i].Bytes()
		}
		return nil
	}, func(plain []byte) error {
		entries = [][]byte{plain}
		return nil
	})
	return entries, err
}

// errMissing stands for a missing key found without a nil reply.
var errMissing = fmt.Errorf("no such key: %w", kv.ErrNotFound)

// readHistory runs readList, a read of key as a list. When the key holds a
// plain value instead, it reads that value and its type atomically (MULTI,
// TYPE, GET, EXEC) and calls onPlain with it; when it turns out to be a list
// after all (the key was changed in between), it tries again.
func (s *Store) readHistory(ctx context.Context, op, key string, readList func() error, onPlain func([]byte) error) error {
	var err error
	for range maxTypeRetries {
		err = readList()
		if !s.isWrongType(err) {
			if err != nil {
				return s.keyErr(ctx, op, key, err)
			}
			return nil
		}
		tx := s.c.Tx(ctx, []Cmd{{Name: "TYPE", Key: key, ReadOnly: true}, {Name: "GET", Key: key, ReadOnly: true}})
		if tx.Err == nil && (tx.Kind != KindArray || len(tx.Array) != 2) {
			tx.Err = fmt.Errorf("%w to MULTI TYPE GET EXEC: %+v", errUnexpected, tx)
		}
		if tx.Err != nil {
			return s.keyErr(ctx, op, key, tx.Err)
		}
		typ, get := tx.Array[0], tx.Array[1]
		if typ.Err != nil {
			return s.keyErr(ctx, op, key, typ.Err)
		}
		switch string(typ.Str) {
		case "string":
			if get.Err != nil && !get.Nil {
				return s.keyErr(ctx, op, key, get.Err)
			}
			return onPlain(get.Bytes())
		case "list":
			continue // changed since readList
		case "none":
			return s.fail(op, key, kv.ErrNotFound)
		}
		return s.keyErr(ctx, op, key, err) // another Redis type: WRONGTYPE
	}
	return fmt.Errorf("%s: %s %s: the key kept changing type: %w: %w", s.backend, op, kv.QuoteKey(key), kv.ErrConflict, err)
}
