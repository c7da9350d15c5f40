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

// The configuration the demo writes, as version 1, and the one the other
// client writes (otherJSON), as version 2.
var (
	firstConfig = ExampleConfig{Name: "demo", Index: 1, Data: map[string]string{}}
	otherConfig = ExampleConfig{Name: "demo", Index: 2, Data: map[string]string{"owner": "other client"}}
)

// A configDemo is the state the config steps share.
type configDemo struct {
	d    *demo
	cfgs *configstore.Store[ExampleConfig]
	// events receives the watcher's calls; stop ends the watcher.
	events chan configstore.Event[ExampleConfig]
	stop   func()
	// heard is the value the watcher was given.
	heard ExampleConfig
}

// close ends the watcher and the configstore.Store, if the steps did not.
// Both are idempotent.
func (c *configDemo) close() {
	if c.stop != nil {
		c.stop()
	}
	if c.cfgs != nil {
		_ = c.cfgs.Close()
	}
}

// openAndUpdate opens a configstore.Store under the demo's prefix and
// writes version 1; on a store that cannot hold one, it says why.
func (c *configDemo) openAndUpdate(ctx context.Context) (*result, error) {
	if !is[kv.Historian](c.d.store) || !is[kv.Watcher](c.d.store) {
		return skipped("the config store needs a store with kv.Historian and kv.Watcher", ""), nil
	}
	cfgs, err := configstore.New(ctx, c.d.store, &configstore.Options[ExampleConfig]{Prefix: c.d.prefix + configPrefix})
	if errors.Is(err, kv.ErrNotSupported) {
		// The config store watches the keys it caches, and refuses a
		// server that would not tell it of changes.
		return skipped(errNoEvents.Error(), eventsFix), nil
	}
	if err != nil {
		return nil, explainWatch(err, c.d.user)
	}
	c.cfgs = cfgs
	version, err := cfgs.Update(ctx, configKey, firstConfig)
	if err != nil {
		return nil, err
	}
	return shown("configstore under prefix %q: update %s with %+v -> version %d", configPrefix, configKey, firstConfig, version).
		want(version == 1, "config update = version %d, want 1", version), nil
}

// fetch reads version 1 back, from the cache.
func (c *configDemo) fetch(ctx context.Context) (*result, error) {
	cached, inCache := c.cfgs.CachedVersion(configKey)
	got, version, err := c.cfgs.Fetch(ctx, configKey)
	if err != nil {
		return nil, err
	}
	return shown("configstore fetch %s (answered from the cache, which already held version %d) -> %+v, version %d",
		configKey, cached, got, version).
		want(inCache && cached == 1 && version == 1 && got.equal(firstConfig),
			"config fetch = %+v, version %d (cached %d, %v); want %+v, version 1, cached", got, version, cached, inCache, firstConfig), nil
}

// watch starts a watcher, which hears of a change made by another client.
func (c *configDemo) watch(ctx context.Context) (*result, error) {
	stop, err := c.cfgs.Watch(ctx, configKey, func(ev configstore.Event[ExampleConfig]) {
		select {
		case c.events <- ev:
		default: // never block the Store; the checks notice a lost event
		}
	})
	if err != nil {
		return nil, err
	}
	c.stop = stop
	pushed, who, err := c.writeAsOtherClient(ctx)
	if err != nil {
		return nil, err
	}
	ev, err := nextEvent(ctx, c.events)
	if err != nil {
		return nil, err
	}
	c.heard = ev.Value
	return shown("configstore watch %s; the other client (%s) writes version %d:\n      %s\n      -> watcher: %s %s, version %d, %+v",
		configKey, who, pushed, otherJSON, ev.Kind, ev.Key, ev.Version, ev.Value).
		want(pushed == 2 && ev.Kind == configstore.Updated && ev.Key == configKey && ev.Version == pushed && ev.Value.equal(otherConfig),
			"watch event %s %s version %d %+v (%v) after the other client wrote version %d; want updated %s version 2 %+v",
			ev.Kind, ev.Key, ev.Version, ev.Value, ev.Err, pushed, configKey, otherConfig), nil
}

// writeAsOtherClient appends otherJSON to the configuration's history, as
// another service would, and returns the new version and who wrote it.
func (c *configDemo) writeAsOtherClient(ctx context.Context) (int64, string, error) {
	w, err := c.d.newWriter(ctx)
	if err != nil {
		return 0, "", err
	}
	pushed, err := w.push(ctx, c.d.prefix+configPrefix+configKey, []byte(otherJSON))
	if cerr := w.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, "", fmt.Errorf("the other client's write: %w", err)
	}
	return pushed, w.name, nil
}

// identicalUpdate writes the value the watcher heard: nothing is written.
func (c *configDemo) identicalUpdate(ctx context.Context) (*result, error) {
	version, err := c.cfgs.Update(ctx, configKey, c.heard)
	if err != nil {
		return nil, err
	}
	live, err := c.cfgs.Version(ctx, configKey)
	if err != nil {
		return nil, err
	}
	cached, inCache := c.cfgs.CachedVersion(configKey)
	return shown("configstore update %s with the same value -> version %d: identical, skipped (nothing written); live Version %d, CachedVersion %d",
		configKey, version, live, cached).
		want(version == 2 && live == 2 && inCache && cached == 2,
			"identical update = version %d, then live version %d, cached %d (%v); want 2 each", version, live, cached, inCache), nil
}

// history lists the versions, and the latest from the cache.
func (c *configDemo) history(ctx context.Context) (*result, error) {
	history, err := c.cfgs.History(ctx, configKey)
	if err != nil {
		return nil, err
	}
	latest, version, ok := c.cfgs.Latest(configKey)
	var lines []string
	for _, e := range history {
		lines = append(lines, fmt.Sprintf("version %d: %+v", e.Version, e.Value))
	}
	return shown("configstore history %s:\n      %s\n      latest (no I/O) -> %+v, version %d",
		configKey, strings.Join(lines, "\n      "), latest, version).
		want(isHistory(history, firstConfig, otherConfig) && ok && version == 2 && latest.equal(otherConfig),
			"config history %s; latest %+v, version %d, %v", strings.Join(lines, "; "), latest, version, ok), nil
}

// isHistory reports whether history holds values, as versions 1, 2, ...
func isHistory(history []configstore.Entry[ExampleConfig], values ...ExampleConfig) bool {
	if len(history) != len(values) {
		return false
	}
	for i, e := range history {
		if e.Version != int64(i+1) || e.Err != nil || !e.Value.equal(values[i]) {
			return false
		}
	}
	return true
}

// delete removes the configuration: the watcher hears of it and the key
// leaves the cache.
func (c *configDemo) delete(ctx context.Context) (*result, error) {
	removed, err := c.cfgs.Delete(ctx, configKey)
	if err != nil {
		return nil, err
	}
	ev, err := nextEvent(ctx, c.events)
	if err != nil {
		return nil, err
	}
	_, cached := c.cfgs.CachedVersion(configKey)
	_, _, latest := c.cfgs.Latest(configKey)
	return shown("configstore delete %s -> removed: %v; watcher: %s %s; the key left the cache", configKey, removed, ev.Kind, ev.Key).
		want(removed && ev.Kind == configstore.Deleted && ev.Key == configKey && !cached && !latest,
			"config delete: removed %v, watch event %s %s (%v), cached %v, latest %v; want removed, deleted, neither cached nor latest",
			removed, ev.Kind, ev.Key, ev.Err, cached, latest), nil
}

// closeStore ends the watcher and the configstore.Store, which then refuses
// every call; the kv.Store stays open.
func (c *configDemo) closeStore(ctx context.Context) (*result, error) {
	c.stop()
	if err := c.cfgs.Close(); err != nil {
		return nil, err
	}
	_, _, err := c.cfgs.Fetch(ctx, configKey)
	return shown("configstore closed (the kv.Store stays open); fetch after Close -> kv.ErrClosed").
		want(errors.Is(err, kv.ErrClosed), "config fetch after Close: %v, want kv.ErrClosed", err), nil
}

// nextEvent waits for a watcher's next call.
func nextEvent(ctx context.Context, events <-chan configstore.Event[ExampleConfig]) (configstore.Event[ExampleConfig], error) {
	t := time.NewTimer(eventWait)
	defer t.Stop()
	select {
	case ev := <-events:
		return ev, nil
	case <-t.C:
		return configstore.Event[ExampleConfig]{}, fmt.Errorf("the config watcher was not called within %v", eventWait)
	case <-ctx.Done():
		return configstore.Event[ExampleConfig]{}, fmt.Errorf("waiting for the config watcher: %w", ctx.Err())
	}
}
