package codec_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cledar/storekit/codec"
	"github.com/cledar/storekit/metrics"
)

// Each value that does not decode, and each that cannot be encoded, is
// counted once, beside the kv.Store's counters of the calls that read and
// did not write them.
func TestMetrics(t *testing.T) {
	ctx := context.Background()
	kvs := newMemory(t)
	s := codec.New[map[string]int](kvs, nil)
	if err := kvs.Set(ctx, "bad", []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	before := s.Metrics()
	if before.Codec == nil || *before.Codec != (metrics.Codec{}) {
		t.Fatalf("a new Store's Codec section = %+v, want zero counters", before.Codec)
	}
	for i := range 2 {
		var de *codec.DeserializationError
		if _, _, err := s.Get(ctx, "bad"); !errors.As(err, &de) {
			t.Fatalf("Get of bad JSON: %v, want a *codec.DeserializationError", err)
		}
		got := s.Metrics()
		if n := got.Codec.DecodeFailures; n != uint64(i+1) {
			t.Errorf("after %d bad reads: DecodeFailures = %d", i+1, n)
		}
		if d := got.Ops[metrics.OpGet] - before.Ops[metrics.OpGet]; d != uint64(i+1) {
			t.Errorf("after %d bad reads: the kv.Store counted %d Gets", i+1, d)
		}
	}
	var se *codec.SerializationError
	if err := s.Set(ctx, "nil", nil); !errors.As(err, &se) {
		t.Fatalf("Set of a nil map: %v, want a *codec.SerializationError", err)
	}
	got := s.Metrics()
	if got.Codec.EncodeFailures != 1 || got.Codec.DecodeFailures != 2 {
		t.Errorf("after a nil map: %+v, want one encode failure and two decode failures", *got.Codec)
	}
	if got.Ops[metrics.OpSet] != before.Ops[metrics.OpSet] {
		t.Error("a value that cannot be encoded reached the kv.Store")
	}
}
