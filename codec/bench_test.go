package codec_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/codec"
	"github.com/cledar/storekit/kv"
)

// The cost of the typed layer over raw bytes, on the memory store: a typed
// Get or Set against a kv Get or Set of the same (already encoded) bytes,
// for a small struct, one of about 10 KiB of JSON and one holding a
// map[string]any.
//
//	go test -run '^$' -bench . -benchmem ./codec/

type benchItem struct {
	SKU   string  `json:"sku"`
	Qty   int     `json:"qty"`
	Price float64 `json:"price"`
	Note  string  `json:"note"`
}

type benchDoc struct {
	ID    int         `json:"id"`
	Title string      `json:"title"`
	Tags  []string    `json:"tags"`
	Items []benchItem `json:"items"`
}

// benchConfig is a configuration as a Python service writes it: a struct
// with a dict of anything.
type benchConfig struct {
	Name  string         `json:"name"`
	Index int            `json:"index"`
	Data  map[string]any `json:"data"`
}

// configDoc returns a benchConfig whose data holds numbers, strings, lists
// and a nested dict.
func configDoc() benchConfig {
	return benchConfig{Name: "service", Index: 7, Data: map[string]any{
		"limit": 10, "ratio": 0.25, "owners": []any{"ana", "bo"}, "enabled": true,
		"nested": map[string]any{"timeout": 1.5, "retries": 3},
	}}
}

// bigDoc returns a benchDoc whose JSON is about 10 KiB.
func bigDoc() benchDoc {
	d := benchDoc{ID: 1, Title: "order", Tags: []string{"a", "b", "c"}}
	for i := range 100 {
		d.Items = append(d.Items, benchItem{
			SKU: fmt.Sprintf("SKU-%05d", i), Qty: i, Price: float64(i) + 0.99,
			Note: strings.Repeat("n", 40),
		})
	}
	return d
}

// benchTyped runs a typed benchmark and its raw baseline for v: op "get"
// reads the key back, "set" writes it (raw with v's encoding, typed with v).
func benchTyped[T any](b *testing.B, v T, op string) {
	ctx := context.Background()
	store := memory.New(nil)
	defer store.Close()
	s := codec.New[T](store, nil)
	data, err := codec.JSON[T](nil).Encode(v)
	if err != nil {
		b.Fatal(err)
	}
	if err := store.Set(ctx, "k", data); err != nil {
		b.Fatal(err)
	}
	raw := func() error { return store.Set(ctx, "k", data) }
	typed := func() error { return s.Set(ctx, "k", v) }
	if op == "get" {
		raw = func() error { _, err := store.Get(ctx, "k"); return err }
		typed = func() error { _, _, err := s.Get(ctx, "k"); return err }
	}
	b.Run("raw", func(b *testing.B) { benchLoop(b, len(data), raw) })
	b.Run("typed", func(b *testing.B) { benchLoop(b, len(data), typed) })
}

// benchLoop runs call until the benchmark ends, reporting allocations, and
// size bytes per call when size > 0.
func benchLoop(b *testing.B, size int, call func() error) {
	if size > 0 {
		b.SetBytes(int64(size))
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := call(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTypedGet(b *testing.B) {
	b.Run("small", func(b *testing.B) { benchTyped(b, pyUser{1, "Alice"}, "get") })
	b.Run("10KiB", func(b *testing.B) { benchTyped(b, bigDoc(), "get") })
	b.Run("map-any", func(b *testing.B) { benchTyped(b, configDoc(), "get") })
	b.Run("string", func(b *testing.B) { benchTyped(b, "hello", "get") })
}

func BenchmarkTypedSet(b *testing.B) {
	b.Run("small", func(b *testing.B) { benchTyped(b, pyUser{1, "Alice"}, "set") })
	b.Run("10KiB", func(b *testing.B) { benchTyped(b, bigDoc(), "set") })
	b.Run("map-any", func(b *testing.B) { benchTyped(b, configDoc(), "set") })
	b.Run("string", func(b *testing.B) { benchTyped(b, "hello", "set") })
}

// BenchmarkGetMulti reads 100 small values with one call.
func BenchmarkGetMulti(b *testing.B) {
	ctx := context.Background()
	store := memory.New(nil)
	defer store.Close()
	s := codec.New[pyUser](store, nil)
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = fmt.Sprint("user:", i)
		if err := s.Set(ctx, keys[i], pyUser{i, "name"}); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("raw", func(b *testing.B) {
		benchLoop(b, 0, func() error { _, err := kv.GetMulti(ctx, store, keys); return err })
	})
	b.Run("typed", func(b *testing.B) {
		benchLoop(b, 0, func() error { _, err := s.GetMulti(ctx, keys); return err })
	})
}

// BenchmarkEncode measures the codec alone against encoding/json, which
// writes the compact form.
func BenchmarkEncode(b *testing.B) {
	doc := bigDoc()
	c := codec.JSON[benchDoc](nil)
	b.Run("codec", func(b *testing.B) {
		benchLoop(b, 0, func() error { _, err := c.Encode(doc); return err })
	})
	b.Run("encoding-json", func(b *testing.B) {
		benchLoop(b, 0, func() error { _, err := json.Marshal(doc); return err })
	})
}
