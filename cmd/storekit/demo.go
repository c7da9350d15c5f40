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
	"github.com/cledar/storekit/configstore"
	"github.com/cledar/storekit/kv"
)

// demo walks through storekit on one store. Every key it writes lives under
// prefix, and cleanup deletes them.
type demo struct {
	out    io.Writer
	store  kv.Store
	prefix string
	// user is the ACL user, "" for the default user.
	user string
	// newWriter opens another client of the same data, for the config
	// section's outside write.
	newWriter func(context.Context) (*outsideWriter, error)
	tally
}

// runDemo is the demo command.
func runDemo(ctx context.Context, a *app, s *opened, _ []string, _ *cmdFlags) error {
	d := &demo{out: a.stdout, store: s.Store, prefix: demoPrefix(), user: s.user}
	d.newWriter = func(ctx context.Context) (*outsideWriter, error) { return openOutsideWriter(ctx, s) }
	fmt.Fprintf(a.stdout, "storekit demo on %s (keys under %q)\n", s.name, d.prefix)
	err := d.run(ctx)
	if cerr := d.cleanup(); err == nil && cerr != nil {
		return cerr
	}
	d.summary()
	return d.outcome(err)
}

func demoPrefix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "storekit-demo:" + hex.EncodeToString(b[:]) + ":"
}

func (d *demo) key(name string) string { return d.prefix + name }

// run walks through storekit: the steps below, in order, then the config
// store section (config.go).
func (d *demo) run(ctx context.Context) error {
	c := &configDemo{d: d, events: make(chan configstore.Event[ExampleConfig], 16)}
	defer c.close() // after a failed step
	main := []step{
		{"capabilities", d.capabilities},
		{"typed set and get", d.setAndGet},
		{"raw value", d.rawString},
		{"list keys", d.listKeys},
		{"bulk get", d.bulkGet},
		{"typed bulk get", d.typedBulkGet},
		{"expiry", d.expiry},
		{"watch", d.watch},
		{"history", d.history},
		{"delete", d.delete},
	}
	open := step{"config store: open and update", c.openAndUpdate}
	rest := []step{
		{"config store: fetch", c.fetch},
		{"config store: watch", c.watch},
		{"config store: identical update", c.identicalUpdate},
		{"config store: history", c.history},
		{"config store: delete", c.delete},
		{"config store: close", c.closeStore},
	}
	d.total = len(main) + 1 + len(rest)
	if err := d.steps(ctx, main...); err != nil {
		return err
	}
	if err := d.steps(ctx, open); err != nil {
		return err
	}
	if c.cfgs == nil {
		d.skipAll(rest, fmt.Sprintf("needs the config store (step %d)", d.done))
		return nil
	}
	return d.steps(ctx, rest...)
}

func (d *demo) capabilities(context.Context) (*result, error) {
	return shown("capabilities: %s", strings.Join(capabilities(d.store), ", ")), nil
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

func (d *demo) setAndGet(ctx context.Context) (*result, error) {
	users := d.users()
	alice := User{UserID: 1, Name: "Alice"}
	if err := users.Set(ctx, d.key("user:1"), alice); err != nil {
		return nil, err
	}
	got, found, err := users.Get(ctx, d.key("user:1"))
	if err != nil {
		return nil, err
	}
	raw, _, err := users.GetRaw(ctx, d.key("user:1"))
	if err != nil {
		return nil, err
	}
	const pythonJSON = `{"user_id": 1, "name": "Alice"}`
	return shown("typed set and get user:1 -> %+v, stored as %s (what Python's json.dumps writes)", got, raw).
		want(found && got == alice, "typed get user:1 = %+v, %v; want %+v", got, found, alice).
		want(string(raw) == pythonJSON, "user:1 stored as %s, want %s", raw, pythonJSON), nil
}

func (d *demo) typedBulkGet(ctx context.Context) (*result, error) {
	if err := d.store.Set(ctx, d.key("user:broken"), []byte("{not json")); err != nil {
		return nil, err
	}
	if err := d.store.Set(ctx, d.key("user:nameless"), []byte(`{"user_id": 9}`)); err != nil {
		return nil, err
	}
	names := []string{"user:1", "user:404", "user:broken", "user:nameless"}
	results, err := d.users().GetMulti(ctx, d.keys(names))
	if err != nil {
		return nil, err
	}
	lines := describe(names, results)
	var de *codec.DeserializationError
	return shown("typed bulk get: one result per key, a bad value fails only its key:\n      %s", strings.Join(lines, "\n      ")).
		want(len(results) == 4 && results[0].Found && !results[1].Found && results[1].Err == nil &&
			errors.As(results[2].Err, &de) && errors.As(results[3].Err, &de),
			"typed bulk get: %s", strings.Join(lines, "; ")), nil
}

// describe says what GetMulti returned for each of names: a value, a
// missing key or a failure.
func describe(names []string, results []codec.Result[User]) []string {
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
	return lines
}

func (d *demo) rawString(ctx context.Context) (*result, error) {
	if err := d.store.Set(ctx, d.key("greeting"), []byte("hello")); err != nil {
		return nil, err
	}
	got, err := d.store.Get(ctx, d.key("greeting"))
	if err != nil {
		return nil, err
	}
	_, missing := d.store.Get(ctx, d.key("nobody"))
	return shown("greeting stored verbatim -> %q; a missing key reports kv.ErrNotFound", got).
		want(string(got) == "hello", "get greeting = %q", got).
		want(errors.Is(missing, kv.ErrNotFound), "get of a missing key: %v, want kv.ErrNotFound", missing), nil
}

func (d *demo) listKeys(ctx context.Context) (*result, error) {
	if err := d.users().Set(ctx, d.key("user:2"), User{UserID: 2, Name: "Bob"}); err != nil {
		return nil, err
	}
	keys, err := kv.Keys(ctx, d.store, kv.EscapePattern(d.prefix)+"user:*")
	if err != nil {
		return nil, err
	}
	want := d.keys([]string{"user:1", "user:2"})
	return shown("list keys user:* (SCAN, never KEYS) -> %s", strings.Join(d.strip(keys), ", ")).
		want(slices.Equal(keys, want), "keys user:* = %q, want %q", keys, want), nil
}

// keys returns the demo's keys of names.
func (d *demo) keys(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = d.key(n)
	}
	return out
}

func (d *demo) strip(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = strings.TrimPrefix(k, d.prefix)
	}
	return out
}

func (d *demo) bulkGet(ctx context.Context) (*result, error) {
	vals, err := kv.GetMulti(ctx, d.store, d.keys([]string{"user:1", "user:404", "user:2"}))
	if err != nil {
		return nil, err
	}
	return shown("bulk get user:1, user:404, user:2 -> %s", strings.Join(found(vals), ", ")).
		want(len(vals) == 3 && vals[0].Found && !vals[1].Found && vals[2].Found,
			"bulk get found %v, want found, missing, found", found(vals)), nil
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

func (d *demo) expiry(ctx context.Context) (*result, error) {
	ex, ok := d.store.(kv.Expirer)
	if !ok {
		return skipped("the store has no expiry (kv.Expirer)", ""), nil
	}
	const ttl = 300 * time.Millisecond
	if err := ex.SetWithTTL(ctx, d.key("session"), []byte("token"), ttl); err != nil {
		return nil, err
	}
	left, err := ex.TTL(ctx, d.key("session"))
	if err != nil {
		return nil, err
	}
	if err := sleep(ctx, ttl+100*time.Millisecond); err != nil {
		return nil, err
	}
	_, gone := d.store.Get(ctx, d.key("session"))
	return shown("session set with a %v TTL (%v left when read back), gone after it", ttl, left.Round(time.Millisecond)).
		want(left > 0 && left <= ttl, "ttl of session = %v, want (0, %v]", left, ttl).
		want(errors.Is(gone, kv.ErrNotFound), "get of an expired key: %v, want kv.ErrNotFound", gone), nil
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

func (d *demo) watch(ctx context.Context) (*result, error) {
	if _, ok := d.store.(kv.Watcher); !ok {
		return skipped("the store cannot watch (kv.Watcher)", ""), nil
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events, err := d.store.(kv.Watcher).Watch(wctx, kv.EscapePattern(d.prefix)+"user:*")
	if errors.Is(err, kv.ErrNotSupported) {
		return skipped(errNoEvents.Error(), eventsFix), nil
	}
	if err != nil {
		return nil, explainWatch(err, d.user)
	}
	if err := d.users().Set(ctx, d.key("user:3"), User{UserID: 3, Name: "Carol"}); err != nil {
		return nil, err
	}
	e, seen, err := d.nextChange(ctx, events)
	if err != nil {
		return nil, err
	}
	return shown("watch user:* -> %s", strings.Join(seen, ", then ")).
		want(e.Op == kv.OpSet && e.Key == d.key("user:3"), "watch event %v, want set user:3", e), nil
}

// nextChange waits for the first event about a key, and returns it with
// every event seen until then (the resyncs before it, then itself).
func (d *demo) nextChange(ctx context.Context, events <-chan kv.Event) (kv.Event, []string, error) {
	var seen []string
	for {
		select {
		case e, ok := <-events:
			if !ok {
				return kv.Event{}, nil, errors.New("watch ended early")
			}
			if e.Op == kv.OpResync {
				seen = append(seen, e.Op.String())
				continue
			}
			return e, append(seen, e.Op.String()+" "+strings.TrimPrefix(e.Key, d.prefix)), nil
		case <-ctx.Done():
			return kv.Event{}, nil, fmt.Errorf("no watch event for user:3: %w", ctx.Err())
		}
	}
}

func (d *demo) history(ctx context.Context) (*result, error) {
	h, ok := d.store.(kv.Historian)
	if !ok {
		return skipped("the store keeps no history (kv.Historian)", ""), nil
	}
	for _, v := range []string{`{"feature": false}`, `{"feature": true}`} {
		if _, err := h.Append(ctx, d.key("config"), []byte(v)); err != nil {
			return nil, err
		}
	}
	latest, version, err := h.Latest(ctx, d.key("config"))
	if err != nil {
		return nil, err
	}
	first, err := h.At(ctx, d.key("config"), 1)
	if err != nil {
		return nil, err
	}
	return shown("config history: version %d is %s, version 1 was %s", version, latest, first).
		want(version == 2 && string(latest) == `{"feature": true}` && string(first) == `{"feature": false}`,
			"history: latest %q version %d, first %q", latest, version, first), nil
}

func (d *demo) delete(ctx context.Context) (*result, error) {
	removed, err := d.store.Delete(ctx, d.key("greeting"))
	if err != nil {
		return nil, err
	}
	again, err := d.store.Delete(ctx, d.key("greeting"))
	if err != nil {
		return nil, err
	}
	return shown("delete greeting -> removed: %v; deleting it again -> removed: %v", removed, again).
		want(removed && !again, "delete greeting reported %v then %v, want true then false", removed, again), nil
}

// cleanup deletes every key the demo may have written, on a fresh context so
// that it runs even after a timeout.
func (d *demo) cleanup() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, name := range []string{"user:1", "user:2", "user:3", "user:broken", "user:nameless", "greeting", "session", "config",
		configPrefix + configKey} {
		if _, err := d.store.Delete(ctx, d.key(name)); err != nil {
			return fmt.Errorf("cleanup: %w", err)
		}
	}
	return nil
}
