package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cledar/storekit/kv"
)

// get prints the value of a key.
func get(ctx context.Context, a *app, s *opened, args []string, f *cmdFlags) error {
	data, err := s.Get(ctx, args[0])
	if errors.Is(err, kv.ErrWrongType) {
		return withFix(err, "a history is read with 'storekit config get KEY' or 'config history KEY'")
	}
	if err != nil {
		return missing(args[0], err)
	}
	return a.printValue(args[0], 0, data, f.decode)
}

// missing returns err, or for a missing key, a short error that says so
// and wraps kv.ErrNotFound.
func missing(key string, err error) error {
	if errors.Is(err, kv.ErrNotFound) {
		return fmt.Errorf("%s: not found: %w", printable(key), kv.ErrNotFound)
	}
	return err
}

// printValue prints the value data of key (at version, when not zero): in
// text its bytes as they are (a newline added on a terminal), or decoded.
func (a *app) printValue(key string, version int64, data []byte, decode bool) error {
	var decoded []byte
	if decode {
		var err error
		if decoded, err = decodeJSON(data, a.output == "text"); err != nil {
			return fmt.Errorf("%s: %w", printable(key), err)
		}
	}
	if a.output == "json" {
		r := (&record{Version: version}).withKey(key)
		if decode {
			r.JSON = decoded
		} else {
			r.withValue(data)
		}
		return writeJSON(a.stdout, r)
	}
	if decode {
		data = append(decoded, '\n')
	} else if isTerminal(a.stdout) && (len(data) == 0 || data[len(data)-1] != '\n') {
		data = append(data, '\n')
	}
	_, err := a.stdout.Write(data)
	return err
}

// set writes a value, from the argument or, for "-", standard input.
func set(ctx context.Context, a *app, s *opened, args []string, f *cmdFlags) error {
	key, value := args[0], []byte(args[1])
	if args[1] == "-" {
		var err error
		if value, err = io.ReadAll(a.stdin); err != nil {
			return fmt.Errorf("reading standard input: %w", err)
		}
	}
	var err error
	switch {
	case f.ttl < 0:
		return usagef("set: -ttl %v: want a positive duration", f.ttl)
	case f.ttl > 0:
		ex, ok := s.Store.(kv.Expirer)
		if !ok {
			return fmt.Errorf("set -ttl: %s has no expiry (kv.Expirer): %w", s.name, kv.ErrNotSupported)
		}
		err = ex.SetWithTTL(ctx, key, value, f.ttl)
	default:
		err = s.Set(ctx, key, value)
	}
	if err != nil || a.output == "text" {
		return err
	}
	return writeJSON(a.stdout, (&record{Op: "set"}).withKey(key))
}

// del deletes a key; a missing key is not found.
func del(ctx context.Context, a *app, s *opened, args []string, _ *cmdFlags) error {
	removed, err := s.Delete(ctx, args[0])
	switch {
	case err != nil:
		return err
	case !removed:
		return missing(args[0], kv.ErrNotFound)
	case a.output == "json":
		return writeJSON(a.stdout, (&record{Op: "delete"}).withKey(args[0]))
	}
	return nil
}

// ttl prints the time a key has left.
func ttl(ctx context.Context, a *app, s *opened, args []string, _ *cmdFlags) error {
	ex, ok := s.Store.(kv.Expirer)
	if !ok {
		return fmt.Errorf("ttl: %s has no expiry (kv.Expirer): %w", s.name, kv.ErrNotSupported)
	}
	left, err := ex.TTL(ctx, args[0])
	if err != nil {
		return missing(args[0], err)
	}
	if a.output == "json" {
		ms := int64(-1)
		if left != kv.NoExpiry {
			ms = left.Milliseconds()
		}
		return writeJSON(a.stdout, (&record{TTLMillis: &ms}).withKey(args[0]))
	}
	text := "no expiry"
	if left != kv.NoExpiry {
		text = left.Round(time.Millisecond).String()
	}
	_, err = fmt.Fprintln(a.stdout, text)
	return err
}

// keys lists the keys that match a pattern as the store's Scan finds them,
// one at a time, holding none.
func keys(ctx context.Context, a *app, s *opened, args []string, _ *cmdFlags) error {
	sc, ok := s.Store.(kv.Scanner)
	if !ok {
		return fmt.Errorf("keys: %s cannot list keys (kv.Scanner): %w", s.name, kv.ErrNotSupported)
	}
	for key, err := range sc.Scan(ctx, args[0]) {
		if err != nil {
			return err
		}
		if a.output == "json" {
			err = writeJSON(a.stdout, (&record{}).withKey(key))
		} else {
			_, err = fmt.Fprintln(a.stdout, printable(key))
		}
		if err != nil {
			return err
		}
	}
	return nil
}
