package configstore_test

import (
	"context"
	"testing"

	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/codec"
	"github.com/cledar/storekit/configstore"
)

// BenchmarkRead compares the Store's cached reads with decoding the same
// bytes with the codec alone, the floor of a read that returns a value of
// its own: go test -run '^$' -bench Read -cpu 1,2 ./configstore
func BenchmarkRead(b *testing.B) {
	ctx := context.Background()
	s := memory.New(nil)
	defer s.Close()
	c, err := configstore.New[Conf](ctx, s, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Update(ctx, "cfg", conf(1)); err != nil {
		b.Fatal(err)
	}
	raw := []byte(encoded(1))
	dec := codec.JSON[Conf](nil)

	b.Run("impl=decode", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := dec.Decode(raw); err != nil {
					b.Error(err)
				}
			}
		})
	})
	b.Run("impl=Fetch", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, _, err := c.Fetch(ctx, "cfg"); err != nil {
					b.Error(err)
				}
			}
		})
	})
	b.Run("impl=Latest", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, _, ok := c.Latest("cfg"); !ok {
					b.Error("no value")
				}
			}
		})
	})
	b.Run("impl=CachedVersion", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, ok := c.CachedVersion("cfg"); !ok {
					b.Error("no version")
				}
			}
		})
	})
}
