package codec_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/codec"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/internal/redistest"
)

// benchSmall is the small struct of the typed cached read (issue 12): three
// fields, no references.
type benchSmall struct {
	ID    int64   `json:"id"`
	Name  string  `json:"name"`
	Score float64 `json:"score"`
}

// BenchmarkTypedCachedGet reads a small struct through a typed Store over a
// warm rueidiskv cache, at 1, 8 and 64 goroutines, over 1,000 keys:
//
//	bytes   the kv Get alone (a copy of the cached bytes), the floor
//	decode  GetRaw and then the codec's Decode: a typed Get that decodes
//	        on every hit, as Get did before it kept decoded values
//	store   Store.Get, which reuses the value decoded on an earlier hit
//
// Compare the lines of one run, for example with benchstat -col /op.
func BenchmarkTypedCachedGet(b *testing.B) {
	srv := redistest.New(b)
	ctx := context.Background()
	kvs, err := rueidiskv.Open(ctx, rueidis.ClientOption{InitAddress: []string{srv.Addr()}}, &rueidiskv.Options{CacheTTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = kvs.Close() })
	s := codec.New[benchSmall](kvs, nil)
	c := codec.JSON[benchSmall](nil)
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = "bench:typed:" + strconv.Itoa(i)
		if err := s.Set(ctx, keys[i], benchSmall{ID: int64(i), Name: "user-" + strconv.Itoa(i), Score: float64(i) + 0.5}); err != nil {
			b.Fatal(err)
		}
	}
	b.Cleanup(func() {
		for _, k := range keys {
			_, _ = kvs.Delete(ctx, k)
		}
	})
	for _, k := range keys { // warm the cache, and the decoded values
		if _, _, err := s.Get(ctx, k); err != nil {
			b.Fatal(err)
		}
	}
	key := func(i int) string { return keys[i%len(keys)] }
	backendtest.RunParallel(b, []backendtest.BenchOp{
		{Name: "op=bytes", Op: func(i int) error { _, err := kvs.Get(ctx, key(i)); return err }},
		{Name: "op=decode", Op: func(i int) error {
			data, _, err := s.GetRaw(ctx, key(i))
			if err == nil {
				_, err = c.Decode(data)
			}
			return err
		}},
		{Name: "op=store", Op: func(i int) error { _, _, err := s.Get(ctx, key(i)); return err }},
	})
	if st := kvs.Stats(); st.Misses > uint64(len(keys)) {
		b.Logf("cache: %+v", st)
	}
}
