package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/cledar/storekit/codec"
	"github.com/cledar/storekit/kv"
)

// demo walks through storekit on one store. Every key it writes lives under
// prefix, and cleanup deletes them.
type demo struct {
	out    io.Writer
	store  kv.Store
	prefix string
	step   int
	// newWriter opens another client of the same data, for the config
	// section's outside write.
	newWriter func(context.Context) (*outsideWriter, error)
}

func demoPrefix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "storekit-demo:" + hex.EncodeToString(b[:]) + ":"
}

func (d *demo) key(name string) string { return d.prefix + name }

// show prints one finished step.
func (d *demo) show(format string, args ...any) {
	d.step++
	fmt.Fprintf(d.out, "%2d. %s\n", d.step, fmt.Sprintf(format, args...))
}

// check turns a wrong result into the demo's error.
func check(ok bool, format string, args ...any) error {
	if ok {
		return nil
	}
	return fmt.Errorf("demo: "+format, args...)
}

func (d *demo) run(ctx context.Context) error {
	steps := []func(context.Context) error{
		d.capabilities,
		d.setAndGet,
		d.rawString,
		d.listKeys,
		d.bulkGet,
		d.typedBulkGet,
		d.expiry,
		d.watch,
		d.history,
		d.delete,
		d.config,
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (d *demo) capabilities(context.Context) error {
	var caps []string
	for name, ok := range map[string]bool{
		"MultiGetter": is[kv.MultiGetter](d.store),
		"Scanner":     is[kv.Scanner](d.store),
		"Expirer":     is[kv.Expirer](d.store),
		"Watcher":     is[kv.Watcher](d.store),
		"Historian":   is[kv.Historian](d.store),
		"Pruner":      is[kv.Pruner](d.store),
	} {
		if ok {
			caps = append(caps, name)
		}
	}
	slices.Sort(caps)
	d.show("capabilities: %s", strings.Join(caps, ", "))
	return nil
}

func is[T any](s kv.Store) bool {
	_, ok := s.(T)
	return ok
}

// User is the demo's typed value, the seed README's UserModel.
type User struct {
	UserID int    `json:"user_id"`
	Name   string `json:"name"`
}

// Validate rejects a user without a name; codec calls it after every decode.
func (u User) Validate() error {
	if u.Name == "" {
		return errors.New("name is required")
	}
	return nil
}

func (d *demo) users() *codec.Store[User] { return codec.New[User](d.store, nil) }

func (d *demo) setAndGet(ctx context.Context) error {
	users := d.users()
	alice := User{UserID: 1, Name: "Alice"}
	if err := users.Set(ctx, d.key("user:1"), alice); err != nil {
		return err
	}
	got, found, err := users.Get(ctx, d.key("user:1"))
	if err != nil {
		return err
	}
	if err := check(found && got == alice, "typed get user:1 = %+v, %v; want %+v", got, found, alice); err != nil {
		return err
	}
	raw, _, err := users.GetRaw(ctx, d.key("user:1"))
	if err != nil {
		return err
	}
	const pythonJSON = `{"user_id": 1, "name": "Alice"}`
	if err := check(string(raw) == pythonJSON, "user:1 stored as %s, want %s", raw, pythonJSON); err != nil {
		return err
	}
	d.show("typed set and get user:1 -> %+v, stored as %s (what Python's json.dumps writes)", got, raw)
	return nil
}

func (d *demo) typedBulkGet(ctx context.Context) error {
	if err := d.store.Set(ctx, d.key("user:broken"), []byte("{not json")); err != nil {
		return err
	}
	if err := d.store.Set(ctx, d.key("user:nameless"), []byte(`{"user_id": 9}`)); err != nil {
		return err
	}
	names := []string{"user:1", "user:404", "user:broken", "user:nameless"}
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = d.key(n)
	}
	results, err := d.users().GetMulti(ctx, keys)
	if err != nil {
		return err
	}
	var lines []string
	for i, r := range results {
		switch {
		case r.Err != nil:
			lines = append(lines, fmt.Sprintf("%s failed: %v", names[i], r.Err))
		case r.Found:
			lines = append(lines, fmt.Sprintf("%s = %+v", names[i], r.Value))
		default:
			lines = append(lines, names[i]+" missing")
		}
	}
	var de *codec.DeserializationError
	if err := check(len(results) == 4 && results[0].Found && !results[1].Found && results[1].Err == nil &&
		errors.As(results[2].Err, &de) && errors.As(results[3].Err, &de),
		"typed bulk get: %s", strings.Join(lines, "; ")); err != nil {
		return err
	}
	d.show("typed bulk get: one result per key, a bad value fails only its key:\n      %s", strings.Join(lines, "\n      "))
	return nil
}

func (d *demo) rawString(ctx context.Context) error {
	if err := d.store.Set(ctx, d.key("greeting"), []byte("hello")); err != nil {
		return err
	}
	got, err := d.store.Get(ctx, d.key("greeting"))
	if err != nil {
		return err
	}
	if err := check(string(got) == "hello", "get greeting = %q", got); err != nil {
		return err
	}
	_, err = d.store.Get(ctx, d.key("nobody"))
	if err := check(errors.Is(err, kv.ErrNotFound), "get of a missing key: %v, want kv.ErrNotFound", err); err != nil {
		return err
	}
	d.show("greeting stored verbatim -> %q; a missing key reports kv.ErrNotFound", got)
	return nil
}

func (d *demo) listKeys(ctx context.Context) error {
	if err := d.users().Set(ctx, d.key("user:2"), User{UserID: 2, Name: "Bob"}); err != nil {
		return err
	}
	keys, err := kv.Keys(ctx, d.store, kv.EscapePattern(d.prefix)+"user:*")
	if err != nil {
		return err
	}
	want := []string{d.key("user:1"), d.key("user:2")}
	if err := check(slices.Equal(keys, want), "keys user:* = %q, want %q", keys, want); err != nil {
		return err
	}
	d.show("list keys user:* (SCAN, never KEYS) -> %s", strings.Join(d.strip(keys), ", "))
	return nil
}

func (d *demo) strip(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = strings.TrimPrefix(k, d.prefix)
	}
	return out
}

func (d *demo) bulkGet(ctx context.Context) error {
	names := []string{"user:1", "user:404", "user:2"}
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = d.key(n)
	}
	vals, err := kv.GetMulti(ctx, d.store, keys)
	if err != nil {
		return err
	}
	if err := check(len(vals) == 3 && vals[0].Found && !vals[1].Found && vals[2].Found,
		"bulk get found %v, want found, missing, found", found(vals)); err != nil {
		return err
	}
	d.show("bulk get user:1, user:404, user:2 -> %s", strings.Join(found(vals), ", "))
	return nil
}

func found(vals []kv.Value) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = "missing"
		if v.Found {
			out[i] = string(v.Data)
		}
	}
	return out
}

func (d *demo) expiry(ctx context.Context) error {
	ex, ok := d.store.(kv.Expirer)
	if !ok {
		d.show("expiry: skipped, the store has no kv.Expirer")
		return nil
	}
	const ttl = 300 * time.Millisecond
	if err := ex.SetWithTTL(ctx, d.key("session"), []byte("token"), ttl); err != nil {
		return err
	}
	left, err := ex.TTL(ctx, d.key("session"))
	if err != nil {
		return err
	}
	if err := check(left > 0 && left <= ttl, "ttl of session = %v, want (0, %v]", left, ttl); err != nil {
		return err
	}
	if err := sleep(ctx, ttl+100*time.Millisecond); err != nil {
		return err
	}
	_, err = d.store.Get(ctx, d.key("session"))
	if err := check(errors.Is(err, kv.ErrNotFound), "get of an expired key: %v, want kv.ErrNotFound", err); err != nil {
		return err
	}
	d.show("session set with a %v TTL (%v left when read back), gone after it", ttl, left.Round(time.Millisecond))
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *demo) watch(ctx context.Context) error {
	w, ok := d.store.(kv.Watcher)
	if !ok {
		d.show("watch: skipped, the store has no kv.Watcher")
		return nil
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events, err := w.Watch(wctx, kv.EscapePattern(d.prefix)+"user:*")
	if errors.Is(err, kv.ErrNotSupported) {
		// A server without keyspace notifications: say so and go on.
		d.show("watch: skipped: %v (or run the demo with -enable-keyspace-events)", err)
		return nil
	}
	if err != nil {
		return err
	}
	if err := d.users().Set(ctx, d.key("user:3"), User{UserID: 3, Name: "Carol"}); err != nil {
		return err
	}
	var seen []string
	for {
		select {
		case e, ok := <-events:
			if !ok {
				return errors.New("demo: watch ended early")
			}
			if e.Op == kv.OpResync {
				seen = append(seen, e.Op.String())
				continue
			}
			seen = append(seen, e.Op.String()+" "+strings.TrimPrefix(e.Key, d.prefix))
			if err := check(e.Op == kv.OpSet && e.Key == d.key("user:3"), "watch event %v, want set user:3", e); err != nil {
				return err
			}
			d.show("watch user:* -> %s", strings.Join(seen, ", then "))
			return nil
		case <-ctx.Done():
			return fmt.Errorf("demo: no watch event for user:3: %w", ctx.Err())
		}
	}
}

func (d *demo) history(ctx context.Context) error {
	h, ok := d.store.(kv.Historian)
	if !ok {
		d.show("history: skipped, the store has no kv.Historian")
		return nil
	}
	for _, v := range []string{`{"feature": false}`, `{"feature": true}`} {
		if _, err := h.Append(ctx, d.key("config"), []byte(v)); err != nil {
			return err
		}
	}
	latest, version, err := h.Latest(ctx, d.key("config"))
	if err != nil {
		return err
	}
	first, err := h.At(ctx, d.key("config"), 1)
	if err != nil {
		return err
	}
	if err := check(version == 2 && string(latest) == `{"feature": true}` && string(first) == `{"feature": false}`,
		"history: latest %q version %d, first %q", latest, version, first); err != nil {
		return err
	}
	d.show("config history: version %d is %s, version 1 was %s", version, latest, first)
	return nil
}

func (d *demo) delete(ctx context.Context) error {
	removed, err := d.store.Delete(ctx, d.key("greeting"))
	if err != nil {
		return err
	}
	again, err := d.store.Delete(ctx, d.key("greeting"))
	if err != nil {
		return err
	}
	if err := check(removed && !again, "delete greeting reported %v then %v, want true then false", removed, again); err != nil {
		return err
	}
	d.show("delete greeting -> removed: %v; deleting it again -> removed: %v", removed, again)
	return nil
}

// cleanup deletes every key the demo may have written, on a fresh context so
// that it runs even after a timeout.
func (d *demo) cleanup() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, name := range []string{"user:1", "user:2", "user:3", "user:broken", "user:nameless", "greeting", "session", "config",
		configPrefix + configKey} {
		if _, err := d.store.Delete(ctx, d.key(name)); err != nil {
			return fmt.Errorf("demo: cleanup: %w", err)
		}
	}
	return nil
}
