package memory

import (
	"context"
	"strconv"
	"sync"
	"testing"
)

const benchKeys = 10000

func benchKeyNames() []string {
	keys := make([]string, benchKeys)
	for i := range keys {
		keys[i] = "bench:key:" + strconv.Itoa(i)
	}
	return keys
}

// BenchmarkGet compares Store.Get (value copied out, TTL honoured) with a bare
// sync.Map load of the same keys in the same run. Run it with -cpu 2 to get
// the figures of target P10.
func BenchmarkGet(b *testing.B) {
	keys := benchKeyNames()
	value := make([]byte, 64)
	ctx := context.Background()

	b.Run("impl=syncmap", func(b *testing.B) {
		var m sync.Map
		for _, k := range keys {
			m.Store(k, value)
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, ok := m.Load(keys[i%benchKeys]); !ok {
					b.Fatal("missing")
				}
				i++
			}
		})
	})
	// The floor for any store that copies values out: a load plus a copy.
	b.Run("impl=syncmap+copy", func(b *testing.B) {
		var m sync.Map
		for _, k := range keys {
			m.Store(k, value)
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				v, ok := m.Load(keys[i%benchKeys])
				if !ok {
					b.Fatal("missing")
				}
				_ = clone(v.([]byte))
				i++
			}
		})
	})
	b.Run("impl=memory", func(b *testing.B) {
		s := New(nil)
		defer s.Close()
		for _, k := range keys {
			_ = s.Set(ctx, k, value)
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := s.Get(ctx, keys[i%benchKeys]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	})
}

func BenchmarkSet(b *testing.B) {
	keys := benchKeyNames()
	value := make([]byte, 64)
	ctx := context.Background()
	s := New(nil)
	defer s.Close()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if err := s.Set(ctx, keys[i%benchKeys], value); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
