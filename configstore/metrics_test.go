package configstore_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/codec"
	"github.com/cledar/storekit/configstore"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/metrics"
)

// configDelta waits until c's Config section has moved from before by
// want.
func configDelta(t *testing.T, c *configstore.Store[Conf], before *metrics.Config, want metrics.Config) {
	t.Helper()
	backendtest.Eventually(t, "the config counters", func() error {
		now := c.Metrics().Config
		got := metrics.Config{
			Changes:        now.Changes - before.Changes,
			Resyncs:        now.Resyncs - before.Resyncs,
			Callbacks:      now.Callbacks - before.Callbacks,
			CallbackPanics: now.CallbackPanics - before.CallbackPanics,
		}
		if got != want {
			return fmt.Errorf("moved by %+v, want %+v", got, want)
		}
		return nil
	})
}

// A callback that panics is counted as a call and a panic, every time.
func TestMetricsCallbackPanics(t *testing.T) {
	ctx := backendtest.Context(t)
	s := memory.New(nil)
	t.Cleanup(func() { _ = s.Close() })
	c := open(t, s, nil)
	configDelta(t, c, &metrics.Config{}, metrics.Config{Resyncs: 1}) // the watch's first event
	called := make(chan struct{}, 1)
	stop, err := c.Watch(ctx, "cfg", func(configstore.Event[Conf]) {
		called <- struct{}{}
		panic("boom")
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	before := c.Metrics().Config
	for i := 1; i <= 2; i++ {
		if _, err := c.Update(ctx, "cfg", conf(i)); err != nil {
			t.Fatal(err)
		}
		<-called
		configDelta(t, c, before, metrics.Config{Changes: uint64(i), Callbacks: uint64(i), CallbackPanics: uint64(i)})
	}
}

// Changes applied to the cache and resyncs are counted: a change event, a
// resync that finds nothing new, and one that finds a change whose event
// was lost.
func TestMetricsPropagation(t *testing.T) {
	ctx := backendtest.Context(t)
	s := newLossyStore(t)
	c := open(t, s, nil)
	configDelta(t, c, &metrics.Config{}, metrics.Config{Resyncs: 1}) // the watch's first event
	if _, err := s.Append(ctx, "k", []byte(encoded(1))); err != nil {
		t.Fatal(err)
	}
	wantFetch(t, c, "k", 1, 1) // cached now: a first read is no change
	s.quiesce(t, c)
	before := c.Metrics().Config

	if _, err := s.Append(ctx, "k", []byte(encoded(2))); err != nil {
		t.Fatal(err)
	}
	s.quiesce(t, c)
	configDelta(t, c, before, metrics.Config{Changes: 1})
	wantFetch(t, c, "k", 2, 2)

	s.resync(nil)
	s.quiesce(t, c)
	configDelta(t, c, before, metrics.Config{Changes: 1, Resyncs: 1})

	s.drop(true)
	if _, err := s.Append(ctx, "k", []byte(encoded(3))); err != nil {
		t.Fatal(err)
	}
	s.drop(false)
	s.resync(nil)
	s.quiesce(t, c)
	configDelta(t, c, before, metrics.Config{Changes: 2, Resyncs: 2})
	wantFetch(t, c, "k", 3, 3)

	// The kv.Store's counters come along.
	if got, want := c.Metrics().Ops, s.Metrics().Ops; got != want {
		t.Errorf("the config store's Ops = %v, the kv.Store's %v", got, want)
	}
}

// A latest value that does not decode is counted (once for each time it is
// read and decoded: a change event, a Fetch, a watcher's event), and a
// value that cannot be encoded once.
func TestMetricsCodec(t *testing.T) {
	ctx := backendtest.Context(t)
	s := newLossyStore(t)
	c := open(t, s, nil)
	if _, err := s.Append(ctx, "k", []byte(encoded(1))); err != nil {
		t.Fatal(err)
	}
	wantFetch(t, c, "k", 1, 1)
	before := *c.Metrics().Codec
	if _, err := s.Append(ctx, "k", []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	s.quiesce(t, c)
	var de *codec.DeserializationError
	if _, _, err := c.Fetch(ctx, "k"); !errors.As(err, &de) {
		t.Fatalf("Fetch of bad JSON: %v, want a *codec.DeserializationError", err)
	}
	mid := *c.Metrics().Codec
	if mid.DecodeFailures == before.DecodeFailures || mid.EncodeFailures != before.EncodeFailures {
		t.Errorf("after a value that does not decode: %+v, before %+v; want decode failures only", mid, before)
	}
	bad := Conf{Data: map[string]any{"x": make(chan int)}}
	var se *codec.SerializationError
	if _, err := c.Update(ctx, "k", bad); !errors.As(err, &se) {
		t.Fatalf("Update of a channel: %v, want a *codec.SerializationError", err)
	}
	s.quiesce(t, c)
	if got := *c.Metrics().Codec; got.DecodeFailures != mid.DecodeFailures || got.EncodeFailures-mid.EncodeFailures != 1 {
		t.Errorf("after a value that cannot be encoded: %+v, before %+v; want one encode failure", got, mid)
	}
}
