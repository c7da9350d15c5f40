package goredis

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/cledar/storekit/internal/redisproto"
	"github.com/cledar/storekit/kv"
)

// The history scripts, run with EVALSHA and loaded with EVAL when the server
// does not know them yet.
var (
	appendScript = redis.NewScript(redisproto.AppendScript)
	latestScript = redis.NewScript(redisproto.LatestScript)
	pruneScript  = redis.NewScript(redisproto.PruneScript)
)

// maxTypeRetries bounds how often At and History re-read a key whose type
// changes between their list read and their plain-value read.
const maxTypeRetries = 3

// Append implements [kv.Historian]: a Lua script RPUSHes value, first
// converting a plain value into version 1 atomically (watchers then see
// OpDelete before OpAppend).
func (s *Store) Append(ctx context.Context, key string, value []byte) (int64, error) {
	if err := s.life.Check(ctx); err != nil {
		return 0, failKey("append", key, err)
	}
	n, err := appendScript.Run(ctx, s.c, []string{key}, value).Int64()
	if err != nil {
		return 0, s.keyErr(ctx, "append", key, err)
	}
	return n, nil
}

// Prune implements [kv.Pruner] with a Lua script that empties the entries
// below version before (LSET index ""), from before-1 down to the first entry
// already empty, never the newest; watchers hear one OpSet per entry emptied.
// A missing key or a plain value is left alone.
func (s *Store) Prune(ctx context.Context, key string, before int64) (int, error) {
	if err := s.life.Check(ctx); err != nil {
		return 0, failKey("prune", key, err)
	}
	if before < 1 {
		return 0, fmt.Errorf("goredis: prune %s: before %d is below 1: %w", kv.QuoteKey(key), before, kv.ErrInvalid)
	}
	n, err := pruneScript.Run(ctx, s.c, []string{key}, before).Int64()
	if err != nil {
		return 0, s.keyErr(ctx, "prune", key, err)
	}
	return int(n), nil
}

// Latest implements [kv.Historian] with a Lua script that reads the length
// and the last entry in one atomic step. A plain value is version 1.
func (s *Store) Latest(ctx context.Context, key string) ([]byte, int64, error) {
	if err := s.life.Check(ctx); err != nil {
		return nil, 0, failKey("latest", key, err)
	}
	reply, err := latestScript.Run(ctx, s.c, []string{key}).Slice()
	if err != nil {
		return nil, 0, s.keyErr(ctx, "latest", key, err)
	}
	var (
		version int64
		value   string
		ok      = len(reply) == 2
	)
	if ok {
		version, ok = reply[0].(int64)
	}
	if ok {
		value, ok = reply[1].(string)
	}
	if !ok {
		return nil, 0, fmt.Errorf("goredis: latest %s: unexpected script reply %v", kv.QuoteKey(key), reply)
	}
	return []byte(value), version, nil
}

// At implements [kv.Historian] with LINDEX. For a key that holds a plain
// value it reads the value and its type in one transaction: version 1 is
// the value, later versions do not exist.
func (s *Store) At(ctx context.Context, key string, version int64) ([]byte, error) {
	if err := s.life.Check(ctx); err != nil {
		return nil, failKey("at", key, err)
	}
	if version < 1 {
		return nil, fmt.Errorf("goredis: at %s: version %d is below 1: %w", kv.QuoteKey(key), version, kv.ErrInvalid)
	}
	var v []byte
	err := s.readHistory(ctx, "at", key, func() error {
		var err error
		v, err = s.c.LIndex(ctx, key, version-1).Bytes()
		return err
	}, func(plain []byte) error {
		if version != 1 {
			return fmt.Errorf("goredis: at %s: version %d is beyond a plain value (version 1): %w", kv.QuoteKey(key), version, kv.ErrNotFound)
		}
		v = plain
		return nil
	})
	if err != nil {
		return nil, err
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// History implements [kv.Historian] with LRANGE 0 -1; a plain value is a
// history of one entry.
func (s *Store) History(ctx context.Context, key string) ([][]byte, error) {
	if err := s.life.Check(ctx); err != nil {
		return nil, failKey("history", key, err)
	}
	var entries [][]byte
	err := s.readHistory(ctx, "history", key, func() error {
		list, err := s.c.LRange(ctx, key, 0, -1).Result()
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return redis.Nil // LRANGE of a missing key
		}
		entries = make([][]byte, len(list))
		for i, e := range list {
			entries[i] = []byte(e)
		}
		return nil
	}, func(plain []byte) error {
		entries = [][]byte{plain}
		return nil
	})
	return entries, err
}

// readHistory runs readList, a read of key as a list. When the key holds a
// plain value instead, it reads that value and its type atomically and calls
// onPlain with it; when it turns out to be a list after all (the key was
// changed in between), it tries again.
func (s *Store) readHistory(ctx context.Context, op, key string, readList func() error, onPlain func([]byte) error) error {
	var err error
	for range maxTypeRetries {
		err = readList()
		if !isWrongType(err) {
			if err != nil {
				return s.keyErr(ctx, op, key, err)
			}
			return nil
		}
		var typ *redis.StatusCmd
		var get *redis.StringCmd
		_, txErr := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			typ = p.Type(ctx, key)
			get = p.Get(ctx, key)
			return nil
		})
		if typ.Err() != nil {
			return s.keyErr(ctx, op, key, typ.Err())
		}
		switch typ.Val() {
		case "string":
			b, gerr := get.Bytes()
			if gerr != nil {
				return s.keyErr(ctx, op, key, gerr)
			}
			if b == nil {
				b = []byte{}
			}
			return onPlain(b)
		case "list":
			continue // changed since readList
		case "none":
			return s.keyErr(ctx, op, key, redis.Nil)
		}
		if txErr != nil && !isWrongType(txErr) {
			return s.keyErr(ctx, op, key, txErr)
		}
		return s.keyErr(ctx, op, key, err) // another Redis type: WRONGTYPE
	}
	return fmt.Errorf("goredis: %s %s: the key kept changing type: %w: %w", op, kv.QuoteKey(key), kv.ErrConflict, err)
}
