package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/cledar/storekit/internal/redistest"
)

func runArgs(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String() + errOut.String(), err
}

func TestDemoOnMemory(t *testing.T) {
	out, err := runArgs(t, "demo")
	if err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out)
	}
	for _, want := range []string{"in-memory store", "stored as {\"user_id\": 1, \"name\": \"Alice\"}",
		"user:broken failed: Failed to decode JSON", "watch user:*", "demo finished"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	checkConfigSection(t, out, "kv.Historian.Append on the kv.Store directly")
}

// configLines are the lines of the demo's config store section that show it
// worked, in order.
var configLines = []string{
	`configstore under prefix "config:": update example_config with {Name:demo Index:1 Data:map[]} -> version 1`,
	`configstore fetch example_config (answered from the cache, which already held version 1) -> {Name:demo Index:1 Data:map[]}, version 1`,
	// The other client's write, and the watcher's call with its version.
	`writes version 2:`,
	`{"name": "demo", "index": 2, "data": {"owner": "other client"}}`,
	`-> watcher: updated example_config, version 2, {Name:demo Index:2 Data:map[owner:other client]}`,
	// The identical update wrote nothing.
	`configstore update example_config with the same value -> version 2: identical, skipped (nothing written); live Version 2, CachedVersion 2`,
	`version 1: {Name:demo Index:1 Data:map[]}`,
	`version 2: {Name:demo Index:2 Data:map[owner:other client]}`,
	`latest (no I/O) -> {Name:demo Index:2 Data:map[owner:other client]}, version 2`,
	`configstore delete example_config -> removed: true; watcher: deleted example_config; the key left the cache`,
	`configstore closed (the kv.Store stays open); fetch after Close -> kv.ErrClosed`,
	`demo finished: every step did what it should`,
}

// checkConfigSection checks that out holds configLines in order, and that
// the outside write was made by writer.
func checkConfigSection(t *testing.T, out, writer string) {
	t.Helper()
	if want := "the other client (" + writer + ") writes version 2"; !strings.Contains(out, want) {
		t.Errorf("demo output lacks %q:\n%s", want, out)
	}
	rest := out
	for _, want := range configLines {
		i := strings.Index(rest, want)
		if i < 0 {
			t.Errorf("demo output lacks %q after the config section's earlier lines:\n%s", want, out)
			return
		}
		rest = rest[i+len(want):]
	}
}

func TestDemoOnRedis(t *testing.T) {
	srv := redistest.New(t)
	for _, tt := range []struct{ backend, want string }{
		{"", "through go-redis"},
		{"rueidis", "through rueidis, with client-side caching"},
	} {
		args := []string{"demo", "-redis", srv.Addr()}
		if tt.backend != "" {
			args = append(args, "-backend", tt.backend)
		}
		out, err := runArgs(t, args...)
		if err != nil {
			t.Fatalf("demo %q failed: %v\n%s", args, err, out)
		}
		for _, want := range []string{tt.want, "watch user:* -> resync, then set user:3", "demo finished"} {
			if !strings.Contains(out, want) {
				t.Errorf("demo %q output lacks %q:\n%s", args, want, out)
			}
		}
		checkConfigSection(t, out, "another Redis client on its own connection, RPUSH")
	}
}

func TestDemoFailsFastOnUnreachableRedis(t *testing.T) {
	_, err := runArgs(t, "demo", "-redis", "127.0.0.1:1", "-timeout", "5s")
	if err == nil || !strings.Contains(err.Error(), "could not initialize Redis client") {
		t.Fatalf("err = %v, want a client initialization error", err)
	}
}

func TestBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"nonsense"},
		{"demo", "-backend", "cassandra"},
		{"demo", "-redis", "no-port"},
		{"demo", "extra"},
	} {
		if _, err := runArgs(t, args...); err == nil {
			t.Errorf("run(%q) succeeded, want an error", args)
		}
	}
}

func TestDemoSkipsWatchWithoutKeyspaceEvents(t *testing.T) {
	srv := redistest.Start(t, &redistest.Options{Args: []string{"--notify-keyspace-events", ""}})
	for _, backend := range []string{"goredis", "rueidis"} {
		out, err := runArgs(t, "demo", "-redis", srv.Addr(), "-backend", backend)
		if err != nil {
			t.Fatalf("demo on %s failed: %v\n%s", backend, err, out)
		}
		if !strings.Contains(out, "watch: skipped") || !strings.Contains(out, "notify-keyspace-events") {
			t.Errorf("demo on %s did not explain the skipped watch:\n%s", backend, out)
		}
		if !strings.Contains(out, "config store section skipped: configstore: watch keys under prefix") ||
			strings.Count(out, "lacks the classes") != 2 || strings.Contains(out, "configstore under prefix") {
			t.Errorf("demo on %s did not explain the skipped config store section:\n%s", backend, out)
		}
		if !strings.Contains(out, "demo finished") {
			t.Errorf("demo on %s did not finish:\n%s", backend, out)
		}
	}
	out, err := runArgs(t, "demo", "-redis", srv.Addr(), "-enable-keyspace-events")
	if err != nil || !strings.Contains(out, "watch user:* -> resync, then set user:3") {
		t.Fatalf("demo with -enable-keyspace-events: %v\n%s", err, out)
	}
	checkConfigSection(t, out, "another Redis client on its own connection, RPUSH")
}
