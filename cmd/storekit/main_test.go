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
	out, err := runArgs(t, "demo", "-redis", srv.Addr())
	if err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out)
	}
	if !strings.Contains(out, "watch: skipped") || !strings.Contains(out, "notify-keyspace-events") {
		t.Errorf("demo did not explain the skipped watch:\n%s", out)
	}
	out, err = runArgs(t, "demo", "-redis", srv.Addr(), "-enable-keyspace-events")
	if err != nil || !strings.Contains(out, "watch user:* -> resync, then set user:3") {
		t.Fatalf("demo with -enable-keyspace-events: %v\n%s", err, out)
	}
}
