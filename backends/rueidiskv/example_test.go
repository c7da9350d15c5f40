package rueidiskv_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/redis/rueidis"

	"github.com/cledar/storekit/backends/redisconf"
	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/kv"
)

// Dial connects from a host, port, database and password, and fails at
// once if the server cannot be used. Reads go through the client-side
// cache: a Get after a Set of the same store sees the Set.
func ExampleDial() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	store, err := rueidiskv.Dial(ctx, rueidiskv.Config{Host: "localhost", Port: 6379, DB: 0, Password: "secret"},
		&rueidiskv.Options{CacheSize: 32 << 20, CacheTTL: 30 * time.Second})
	if err != nil {
		log.Fatal(err) // "rueidiskv: could not initialize Redis client: ...", wrapping kv.ErrUnavailable
	}
	defer store.Close()

	if err := store.Set(ctx, "greeting", []byte("hello")); err != nil {
		log.Fatal(err)
	}
	v, err := store.Get(ctx, "greeting") // fetched once, then served from the cache
	switch {
	case errors.Is(err, kv.ErrNotFound):
		fmt.Println("no greeting")
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Printf("%s\n", v)
	}
	st := store.Stats()
	fmt.Println(st.Hits, st.Misses, st.Invalidations, st.Flushes)
}

// Open builds the client from a full rueidis.ClientOption, here for a
// Redis Cluster: bulk reads, scans and watches span every master.
func ExampleOpen() {
	ctx := context.Background()
	store, err := rueidiskv.Open(ctx, rueidis.ClientOption{
		InitAddress: []string{"10.0.0.1:7000", "10.0.0.2:7000", "10.0.0.3:7000"},
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	vals, err := store.GetMulti(ctx, []string{"user:1", "user:2", "{user:1}:profile"})
	if err != nil {
		log.Fatal(err)
	}
	for _, v := range vals {
		fmt.Println(v.Found)
	}
}

// New wraps a client the caller builds. To cache, build the client with a
// Cache installed and pass the same Cache to New; the cache's size bounds
// the memory of all the client's connections together.
func ExampleNew() {
	cache := rueidiskv.NewCache(16 << 20)
	client, err := rueidis.NewClient(cache.ClientOption(rueidis.ClientOption{
		InitAddress: []string{"localhost:6379"},
	}))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	store := rueidiskv.New(client, &rueidiskv.Options{Cache: cache})
	defer store.Close()

	v, err := store.Get(context.Background(), "greeting")
	fmt.Printf("%s %v\n", v, err)
}

// New without a Cache, or with DisableCache, reads from the server; use it
// for servers without CLIENT TRACKING, such as miniredis.
func ExampleNew_uncached() {
	client, err := rueidis.NewClient(rueidis.ClientOption{
		InitAddress:  []string{"localhost:6379"},
		DisableCache: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	store := rueidiskv.New(client, &rueidiskv.Options{Options: redisconf.Options{CloseClient: true}})
	defer store.Close() // closes client too

	_, err = store.Get(context.Background(), "greeting")
	fmt.Println(errors.Is(err, kv.ErrNotFound))
}

// Watch reports changes; re-read everything on OpResync. The re-reads may
// go through the cache: a watch drops a key from it before it reports the
// key's change, and empties it when it subscribes again, before the
// OpResync that follows.
func ExampleStore_Watch() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store, err := rueidiskv.Dial(ctx, rueidiskv.Config{Host: "localhost"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	events, err := store.Watch(ctx, kv.EscapePattern("config:")+"*")
	var nce *rueidiskv.NotifyConfigError
	switch {
	case errors.As(err, &nce):
		log.Fatalf("enable keyspace notifications (missing %q): %v", nce.Missing, err)
	case err != nil:
		log.Fatal(err)
	}
	for e := range events {
		if e.Op == kv.OpResync {
			if e.Err != nil {
				log.Printf("changes may be missed: %v", e.Err)
			}
			continue // re-read every config key
		}
		v, err := store.Get(ctx, e.Key) // the new value, or kv.ErrNotFound after a delete
		fmt.Println(e.Op, e.Key, string(v), err)
	}
}

// Keys lists keys by pattern with SCAN, never KEYS.
func ExampleStore_Scan() {
	ctx := context.Background()
	store, err := rueidiskv.Dial(ctx, rueidiskv.Config{Host: "localhost"}, &rueidiskv.Options{Options: redisconf.Options{ScanCount: 500}})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	for key, err := range store.Scan(ctx, "user:*") {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(key)
	}
}

// A history keeps every version of a key.
func ExampleStore_Append() {
	ctx := context.Background()
	store, err := rueidiskv.Dial(ctx, rueidiskv.Config{Host: "localhost"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	version, err := store.Append(ctx, "config:feature-flags", []byte(`{"beta":true}`))
	if err != nil {
		log.Fatal(err)
	}
	value, latest, err := store.Latest(ctx, "config:feature-flags")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(version == latest, string(value))
}
