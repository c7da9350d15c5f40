package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/cledar/storekit/configstore"
	"github.com/cledar/storekit/kv"
)

// ExampleConfig is the demo's configuration type, the Python example's
// ExampleConfig.
type ExampleConfig struct {
	Name  string            `json:"name"`
	Index int               `json:"index"`
	Data  map[string]string `json:"data"`
}

func (c ExampleConfig) equal(o ExampleConfig) bool {
	return c.Name == o.Name && c.Index == o.Index && maps.Equal(c.Data, o.Data)
}

const (
	// configPrefix is the config store's prefix, under the demo's.
	configPrefix = "config:"
	// configKey is the key of the demo's configuration, as in the Python
	// example.
	configKey = "example_config"
	// otherJSON is version 2 of the configuration, written by another
	// client exactly as Python's json.dumps writes it.
	otherJSON = `{"name": "demo", "index": 2, "data": {"owner": "other client"}}`
	// eventWait bounds the wait for a watcher's call.
	eventWait = 10 * time.Second
)

// config walks through package configstore: typed, versioned configuration
// with a local cache and watchers.
func (d *demo) config(ctx context.Context) error {
	if !is[kv.Historian](d.store) || !is[kv.Watcher](d.store) {
		d.show("config store section skipped: it needs a store with kv.Historian and kv.Watcher")
		return nil
	}
	cfgs, err := configstore.New(ctx, d.store, &configstore.Options[ExampleConfig]{Prefix: d.prefix + configPrefix})
	if errors.Is(err, kv.ErrNotSupported) {
		// A server without keyspace notifications: say so and go on.
		d.show("config store section skipped: %v (or run the demo with -enable-keyspace-events)", err)
		return nil
	}
	if err != nil {
		return err
	}
	defer cfgs.Close() // after a failed step; Close is idempotent

	// Update, then Fetch from the cache.
	first := ExampleConfig{Name: "demo", Index: 1, Data: map[string]string{}}
	version, err := cfgs.Update(ctx, configKey, first)
	if err != nil {
		return err
	}
	if err := check(version == 1, "config update = version %d, want 1", version); err != nil {
		return err
	}
	d.show("configstore under prefix %q: update %s with %+v -> version %d", configPrefix, configKey, first, version)

	cached, inCache := cfgs.CachedVersion(configKey)
	got, version, err := cfgs.Fetch(ctx, configKey)
	if err != nil {
		return err
	}
	if err := check(inCache && cached == 1 && version == 1 && got.equal(first),
		"config fetch = %+v, version %d (cached %d, %v); want %+v, version 1, cached", got, version, cached, inCache, first); err != nil {
		return err
	}
	d.show("configstore fetch %s (answered from the cache, which already held version %d) -> %+v, version %d", configKey, cached, got, version)

	// A watcher hears of a change made by another client.
	events := make(chan configstore.Event[ExampleConfig], 16)
	stop, err := cfgs.Watch(ctx, configKey, func(ev configstore.Event[ExampleConfig]) {
		select {
		case events <- ev:
		default: // never block the Store; the checks below notice a lost event
		}
	})
	if err != nil {
		return err
	}
	defer stop()
	w, err := d.newWriter(ctx)
	if err != nil {
		return err
	}
	pushed, err := w.push(ctx, d.prefix+configPrefix+configKey, []byte(otherJSON))
	if cerr := w.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("demo: the other client's write: %w", err)
	}
	ev, err := nextEvent(ctx, events)
	if err != nil {
		return err
	}
	want := ExampleConfig{Name: "demo", Index: 2, Data: map[string]string{"owner": "other client"}}
	if err := check(pushed == 2 && ev.Kind == configstore.Updated && ev.Key == configKey && ev.Version == pushed && ev.Value.equal(want),
		"watch event %s %s version %d %+v (%v) after the other client wrote version %d; want updated %s version 2 %+v",
		ev.Kind, ev.Key, ev.Version, ev.Value, ev.Err, pushed, configKey, want); err != nil {
		return err
	}
	d.show("configstore watch %s; the other client (%s) writes version %d:\n      %s\n      -> watcher: %s %s, version %d, %+v",
		configKey, w.name, pushed, otherJSON, ev.Kind, ev.Key, ev.Version, ev.Value)

	// An identical update writes nothing.
	version, err = cfgs.Update(ctx, configKey, ev.Value)
	if err != nil {
		return err
	}
	live, err := cfgs.Version(ctx, configKey)
	if err != nil {
		return err
	}
	cached, inCache = cfgs.CachedVersion(configKey)
	if err := check(version == 2 && live == 2 && inCache && cached == 2,
		"identical update = version %d, then live version %d, cached %d (%v); want 2 each", version, live, cached, inCache); err != nil {
		return err
	}
	d.show("configstore update %s with the same value -> version %d: identical, skipped (nothing written); live Version %d, CachedVersion %d",
		configKey, version, live, cached)

	// History and Latest.
	history, err := cfgs.History(ctx, configKey)
	if err != nil {
		return err
	}
	var lines []string
	for _, e := range history {
		lines = append(lines, fmt.Sprintf("version %d: %+v", e.Version, e.Value))
	}
	latest, latestVersion, ok := cfgs.Latest(configKey)
	if err := check(len(history) == 2 && history[0].Version == 1 && history[0].Err == nil && history[0].Value.equal(first) &&
		history[1].Version == 2 && history[1].Err == nil && history[1].Value.equal(want) &&
		ok && latestVersion == 2 && latest.equal(want),
		"config history %s; latest %+v, version %d, %v", strings.Join(lines, "; "), latest, latestVersion, ok); err != nil {
		return err
	}
	d.show("configstore history %s:\n      %s\n      latest (no I/O) -> %+v, version %d", configKey, strings.Join(lines, "\n      "), latest, latestVersion)

	// Delete: the watcher hears of it and the key leaves the cache.
	removed, err := cfgs.Delete(ctx, configKey)
	if err != nil {
		return err
	}
	ev, err = nextEvent(ctx, events)
	if err != nil {
		return err
	}
	_, cachedAfter := cfgs.CachedVersion(configKey)
	_, _, latestAfter := cfgs.Latest(configKey)
	if err := check(removed && ev.Kind == configstore.Deleted && ev.Key == configKey && !cachedAfter && !latestAfter,
		"config delete: removed %v, watch event %s %s (%v), cached %v, latest %v; want removed, deleted, neither cached nor latest",
		removed, ev.Kind, ev.Key, ev.Err, cachedAfter, latestAfter); err != nil {
		return err
	}
	d.show("configstore delete %s -> removed: %v; watcher: %s %s; the key left the cache", configKey, removed, ev.Kind, ev.Key)

	// Close ends the watcher and the Store.
	stop()
	if err := cfgs.Close(); err != nil {
		return err
	}
	_, _, err = cfgs.Fetch(ctx, configKey)
	if err := check(errors.Is(err, kv.ErrClosed), "config fetch after Close: %v, want kv.ErrClosed", err); err != nil {
		return err
	}
	d.show("configstore closed (the kv.Store stays open); fetch after Close -> kv.ErrClosed")
	return nil
}

// nextEvent waits for a watcher's next call.
func nextEvent(ctx context.Context, events <-chan configstore.Event[ExampleConfig]) (configstore.Event[ExampleConfig], error) {
	t := time.NewTimer(eventWait)
	defer t.Stop()
	select {
	case ev := <-events:
		return ev, nil
	case <-t.C:
		return configstore.Event[ExampleConfig]{}, fmt.Errorf("demo: the config watcher was not called within %v", eventWait)
	case <-ctx.Done():
		return configstore.Event[ExampleConfig]{}, fmt.Errorf("demo: waiting for the config watcher: %w", ctx.Err())
	}
}
