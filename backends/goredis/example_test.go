package goredis_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cledar/storekit/backends/goredis"
	"github.com/cledar/storekit/kv"
)

// New wraps a client the caller already has; the caller closes it. The
// store's errors wrap go-redis's own as well as a kv sentinel.
func ExampleNew() {
	client := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
	defer client.Close()
	store := goredis.New(client, nil)
	defer store.Close()

	ctx := context.Background()
	if err := store.Set(ctx, "greeting", []byte("hello")); err != nil {
		log.Fatal(err)
	}
	v, err := store.Get(ctx, "greeting")
	var reply redis.Error
	switch {
	case errors.Is(err, kv.ErrNotFound):
		fmt.Println("no greeting")
	case errors.As(err, &reply):
		log.Fatalf("Redis replied with an error: %v", reply)
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Printf("%s\n", v)
	}
}

// New over a Redis Cluster: bulk reads, scans and watches span every master.
func ExampleNew_cluster() {
	client := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs: []string{"10.0.0.1:7000", "10.0.0.2:7000", "10.0.0.3:7000"},
	})
	store := goredis.New(client, &goredis.Options{CloseClient: true})
	defer store.Close() // closes client too

	vals, err := store.GetMulti(context.Background(), []string{"user:1", "user:2", "{user:1}:profile"})
	if err != nil {
		log.Fatal(err)
	}
	for _, v := range vals {
		fmt.Println(v.Found)
	}
}

// On a cluster, a store's concurrent bulk calls share go-redis pipelines
// (see "Shared pipelines" in the package documentation). A client whose
// pipeline hooks must see each call apart, under the call's own context,
// such as a tracing hook, sets SeparatePipelines.
func ExampleNew_separatePipelines() {
	client := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:                 []string{"10.0.0.1:7000", "10.0.0.2:7000", "10.0.0.3:7000"},
		ContextTimeoutEnabled: true,
	})
	// client.AddHook(tracingHook) // a hook that opens a span for each pipeline
	store := goredis.New(client, &goredis.Options{CloseClient: true, SeparatePipelines: true})
	defer store.Close()

	err := store.SetMulti(context.Background(), []kv.Item{
		{Key: "user:1", Value: []byte("ada")},
		{Key: "user:2", Value: []byte("grace")},
	})
	if err != nil {
		log.Fatal(err)
	}
}

// Dial connects from a host, port, database and password, and fails at
// once if the server cannot be used.
func ExampleDial() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	store, err := goredis.Dial(ctx, goredis.Config{Host: "localhost", Port: 6379, DB: 0, Password: "secret"}, nil)
	if err != nil {
		log.Fatal(err) // "goredis: could not initialize Redis client: ...", wrapping kv.ErrUnavailable
	}
	defer store.Close()
}

// Watch reports changes; re-read everything on OpResync.
func ExampleStore_Watch() {
	client := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
	store := goredis.New(client, &goredis.Options{CloseClient: true})
	defer store.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := store.Watch(ctx, kv.EscapePattern("config:")+"*")
	var nce *goredis.NotifyConfigError
	if errors.As(err, &nce) {
		log.Fatalf("enable keyspace notifications (missing %q): %v", nce.Missing, err)
	}
	if err != nil {
		log.Fatal(err)
	}
	for e := range events {
		switch e.Op {
		case kv.OpResync:
			if e.Err != nil {
				log.Printf("changes may be missed: %v", e.Err)
			}
			// re-read every config key
		default:
			fmt.Println(e.Op, e.Key) // re-read e.Key
		}
	}
}

// Keys lists keys by pattern with SCAN, never KEYS.
func ExampleStore_Scan() {
	client := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
	store := goredis.New(client, &goredis.Options{CloseClient: true, ScanCount: 500})
	defer store.Close()

	for key, err := range store.Scan(context.Background(), "user:*") {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(key)
	}
}

// A history keeps every version of a key. It is a Redis list, oldest entry
// first, which other clients of the server can read: its length is the
// newest version, as a reader such as the Python config store computes it.
func ExampleStore_Append() {
	client := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
	store := goredis.New(client, &goredis.Options{CloseClient: true})
	defer store.Close()

	ctx := context.Background()
	version, err := store.Append(ctx, "config:feature-flags", []byte(`{"beta":true}`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(client.LLen(ctx, "config:feature-flags").Val() == version)
	value, latest, err := store.Latest(ctx, "config:feature-flags")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(version == latest, string(value))
}
