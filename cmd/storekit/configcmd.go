package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cledar/storekit/configstore"
	"github.com/cledar/storekit/kv"
)

// rawCodec keeps a configuration's bytes as they are stored, so that the
// config commands print what the writer wrote, JSON or not.
type rawCodec struct{}

func (rawCodec) Encode(v []byte) ([]byte, error) { return append([]byte(nil), v...), nil }
func (rawCodec) Decode(b []byte) ([]byte, error) { return append([]byte(nil), b...), nil }

// openConfigs opens a configstore.Store of raw values under prefix.
func openConfigs(ctx context.Context, s *opened, prefix string) (*configstore.Store[[]byte], error) {
	_, history := s.Store.(kv.Historian)
	_, watcher := s.Store.(kv.Watcher)
	cfgs, err := configstore.New(ctx, s.Store, &configstore.Options[[]byte]{Prefix: prefix, Codec: rawCodec{}})
	if err != nil && history && watcher {
		// The config store watches the keys it caches, and refuses a
		// server that would not tell it of changes.
		return nil, explainWatch(err, s.user)
	}
	return cfgs, err
}

// withConfigs runs fn with a configstore.Store under the -prefix of f.
func withConfigs(ctx context.Context, s *opened, f *cmdFlags, fn func(*configstore.Store[[]byte]) error) (err error) {
	cfgs, err := openConfigs(ctx, s, f.prefix)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := cfgs.Close(); err == nil {
			err = cerr
		}
	}()
	return fn(cfgs)
}

// configVersions prints the latest version of a configuration.
func configVersions(ctx context.Context, a *app, s *opened, args []string, f *cmdFlags) error {
	return withConfigs(ctx, s, f, func(cfgs *configstore.Store[[]byte]) error {
		version, err := cfgs.Version(ctx, args[0])
		switch {
		case err != nil:
			return err
		case version == 0:
			return missing(args[0], kv.ErrNotFound)
		case a.output == "json":
			return writeJSON(a.stdout, (&record{Version: version}).withKey(args[0]))
		}
		_, err = fmt.Fprintf(a.stdout, "%s: version %d\n", printable(args[0]), version)
		return err
	})
}

// configHistory prints every version of a configuration that holds a value.
func configHistory(ctx context.Context, a *app, s *opened, args []string, f *cmdFlags) error {
	return withConfigs(ctx, s, f, func(cfgs *configstore.Store[[]byte]) error {
		history, err := cfgs.History(ctx, args[0])
		if err != nil {
			return missing(args[0], err)
		}
		if a.output == "json" {
			for _, e := range history {
				if err := a.printValue(args[0], e.Version, e.Value, f.decode); err != nil {
					return err
				}
			}
			return nil
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "VERSION\tVALUE")
		for _, e := range history {
			value := printable(string(e.Value))
			if f.decode {
				b, err := decodeJSON(e.Value, false)
				if err != nil {
					return fmt.Errorf("%s version %d: %w", printable(args[0]), e.Version, err)
				}
				value = string(b)
			}
			fmt.Fprintf(tw, "%d\t%s\n", e.Version, value)
		}
		return tw.Flush()
	})
}

// configGet prints the latest version of a configuration, or the one asked
// for.
func configGet(ctx context.Context, a *app, s *opened, args []string, f *cmdFlags) error {
	var n int64
	if len(args) == 2 {
		var err error
		if n, err = strconv.ParseInt(args[1], 10, 64); err != nil || n < 1 {
			return usagef("config get: version %q: want a number from 1", args[1])
		}
	}
	return withConfigs(ctx, s, f, func(cfgs *configstore.Store[[]byte]) error {
		var value []byte
		var err error
		if n == 0 {
			value, n, err = cfgs.Fetch(ctx, args[0])
		} else {
			value, err = cfgs.At(ctx, args[0], n)
		}
		if err != nil && len(args) == 2 {
			return missing(args[0]+" version "+args[1], err)
		}
		if err != nil {
			return missing(args[0], err)
		}
		return a.printValue(args[0], n, value, f.decode)
	})
}

// configWatch prints the changes to the configurations whose keys match a
// pattern. A key is watched through the config store from its first change
// on (the change events of the keys under the prefix say which keys to
// watch), so each line is a version as the config store read it.
func configWatch(ctx context.Context, a *app, s *opened, args []string, f *cmdFlags) error {
	end, cancel, err := endAfter(ctx, f)
	if err != nil {
		return err
	}
	defer cancel()
	return withConfigs(ctx, s, f, func(cfgs *configstore.Store[[]byte]) error {
		events, err := startWatch(end.ctx, s, kv.EscapePattern(f.prefix)+args[0])
		if err != nil {
			return err
		}
		w := &configWatcher{a: a, cfgs: cfgs, end: end, changes: make(chan configstore.Event[[]byte], 64),
			done: make(chan struct{}), watched: map[string]bool{}, last: map[string]configState{}}
		defer close(w.done) // before the config store closes, so that no callback waits
		first := true
		for {
			select {
			case e, ok := <-events:
				if !ok {
					return nil // the watch's context ended
				}
				stop, err := w.event(e, first, f.prefix, args[0])
				if stop || err != nil {
					return err
				}
				first = false
			case ev := <-w.changes:
				if w.print(ev) && end.counted() {
					return nil
				}
			}
		}
	})
}

// A configWatcher is the state of config watch.
type configWatcher struct {
	a       *app
	cfgs    *configstore.Store[[]byte]
	end     *ender
	changes chan configstore.Event[[]byte]
	done    chan struct{}
	watched map[string]bool
	last    map[string]configState
}

// A configState is the last change printed for a key.
type configState struct {
	kind    configstore.Kind
	version int64
}

// event handles a change event of the keys under the prefix that match
// pattern: a key not yet watched is watched from now on, and its state
// printed. A resync is printed as by watch. It reports whether the command
// is done.
func (w *configWatcher) event(e kv.Event, first bool, prefix, pattern string) (bool, error) {
	if e.Op == kv.OpResync {
		return false, w.a.printEvent(e, first, pattern)
	}
	key, ok := strings.CutPrefix(e.Key, prefix)
	if !ok || w.watched[key] {
		return false, nil // the config store's watcher reports it
	}
	w.watched[key] = true
	if _, err := w.cfgs.Watch(w.end.ctx, key, func(ev configstore.Event[[]byte]) {
		select {
		case w.changes <- ev:
		case <-w.done:
		}
	}); err != nil {
		return false, err
	}
	value, version, err := w.cfgs.Fetch(w.end.ctx, key)
	ev := configstore.Event[[]byte]{Key: key, Kind: configstore.Updated, Version: version, Value: value}
	switch {
	case errors.Is(err, kv.ErrNotFound):
		ev = configstore.Event[[]byte]{Key: key, Kind: configstore.Deleted}
	case w.end.ctx.Err() != nil:
		return true, nil
	case err != nil:
		ev = configstore.Event[[]byte]{Key: key, Kind: configstore.Failed, Err: err}
	}
	return w.print(ev) && w.end.counted(), nil
}

// print prints ev unless it repeats the last change printed for its key,
// and reports whether it printed.
func (w *configWatcher) print(ev configstore.Event[[]byte]) bool {
	state := configState{kind: ev.Kind, version: ev.Version}
	if ev.Kind != configstore.Failed && w.last[ev.Key] == state {
		return false
	}
	w.last[ev.Key] = state
	now := time.Now()
	if w.a.output == "json" {
		r := (&record{Time: now.UTC().Format(time.RFC3339Nano), Op: ev.Kind.String(), Version: ev.Version}).withKey(ev.Key)
		if ev.Kind == configstore.Updated {
			r.withValue(ev.Value)
		}
		if ev.Err != nil {
			r.Error = ev.Err.Error()
		}
		_ = writeJSON(w.a.stdout, r)
		return true
	}
	line := fmt.Sprintf("%s  %-8s %s", now.Format(time.TimeOnly+".000"), ev.Kind, printable(ev.Key))
	switch ev.Kind {
	case configstore.Updated:
		line += fmt.Sprintf("  version %d  %s", ev.Version, printable(string(ev.Value)))
	case configstore.Failed:
		line += fmt.Sprintf("  %v", ev.Err)
	}
	fmt.Fprintln(w.a.stdout, line)
	return true
}
