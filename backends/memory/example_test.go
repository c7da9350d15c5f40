package memory_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/kv"
)

func ExampleNew() {
	ctx := context.Background()
	s := memory.New(nil)
	defer s.Close()

	if err := s.Set(ctx, "greeting", []byte("hello")); err != nil {
		panic(err)
	}
	v, err := s.Get(ctx, "greeting")
	fmt.Println(string(v), err)

	_, err = s.Get(ctx, "missing")
	fmt.Println(errors.Is(err, kv.ErrNotFound))
	// Output:
	// hello <nil>
	// true
}

func ExampleManualClock() {
	ctx := context.Background()
	clock := memory.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := memory.New(&memory.Options{Clock: clock})
	defer s.Close()

	_ = s.SetWithTTL(ctx, "session:1", []byte("token"), time.Minute)
	ttl, _ := s.TTL(ctx, "session:1")
	fmt.Println("ttl:", ttl)

	clock.Advance(time.Minute)
	_, err := s.Get(ctx, "session:1")
	fmt.Println("after a minute:", errors.Is(err, kv.ErrNotFound))
	// Output:
	// ttl: 1m0s
	// after a minute: true
}

func ExampleStore_Watch() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := memory.New(nil)
	defer s.Close()

	events, err := s.Watch(ctx, "user:*")
	if err != nil {
		panic(err)
	}
	fmt.Println(<-events) // the watch starts with a resync

	_ = s.Set(ctx, "user:1", []byte(`{"name":"Alice"}`))
	_ = s.Set(ctx, "order:7", []byte("ignored: does not match"))
	_, _ = s.Delete(ctx, "user:1")
	fmt.Println(<-events)
	fmt.Println(<-events)
	// Output:
	// resync
	// set "user:1"
	// delete "user:1"
}

func ExampleStore_Append() {
	ctx := context.Background()
	s := memory.New(nil)
	defer s.Close()

	for _, v := range []string{"v1", "v2", "v3"} {
		version, _ := s.Append(ctx, "config", []byte(v))
		fmt.Println("appended version", version)
	}
	latest, version, _ := s.Latest(ctx, "config")
	fmt.Printf("latest: %s (version %d)\n", latest, version)
	first, _ := s.At(ctx, "config", 1)
	fmt.Printf("version 1: %s\n", first)
	// Output:
	// appended version 1
	// appended version 2
	// appended version 3
	// latest: v3 (version 3)
	// version 1: v1
}

func ExampleStore_SetIfAbsent() {
	ctx := context.Background()
	s := memory.New(nil)
	defer s.Close()

	// The first caller takes the lease; the second finds it taken.
	won, _ := s.SetIfAbsent(ctx, "lease", []byte("worker-1"), time.Minute)
	fmt.Println("worker-1 took it:", won)
	won, _ = s.SetIfAbsent(ctx, "lease", []byte("worker-2"), time.Minute)
	fmt.Println("worker-2 took it:", won)

	// Only the holder can hand it over: the swap checks the current value.
	swapped, _ := s.CompareAndSwap(ctx, "lease", []byte("worker-2"), []byte("worker-3"), kv.KeepTTL)
	fmt.Println("handed over by worker-2:", swapped)
	swapped, _ = s.CompareAndSwap(ctx, "lease", []byte("worker-1"), []byte("worker-3"), kv.KeepTTL)
	fmt.Println("handed over by worker-1:", swapped)
	holder, _ := s.Get(ctx, "lease")
	fmt.Println("holder:", string(holder))
	// Output:
	// worker-1 took it: true
	// worker-2 took it: false
	// handed over by worker-2: false
	// handed over by worker-1: true
	// holder: worker-3
}

func ExampleStore_Incr() {
	ctx := context.Background()
	s := memory.New(nil)
	defer s.Close()

	n, _ := s.Incr(ctx, "visits", 1) // a missing key counts as 0
	fmt.Println(n)
	n, _ = s.Incr(ctx, "visits", 10)
	fmt.Println(n)
	v, _ := s.Get(ctx, "visits") // a counter is plain decimal text
	fmt.Println(string(v))

	_ = s.Set(ctx, "name", []byte("alice"))
	_, err := s.Incr(ctx, "name", 1)
	fmt.Println(errors.Is(err, kv.ErrWrongType))
	// Output:
	// 1
	// 11
	// 11
	// true
}

func ExampleStore_SetMulti() {
	ctx := context.Background()
	s := memory.New(nil)
	defer s.Close()

	// Both keys change at once: no reader sees one without the other.
	err := s.SetMulti(ctx, []kv.Item{
		{Key: "user:1:name", Value: []byte("Alice")},
		{Key: "user:1:session", Value: []byte("token"), TTL: time.Hour},
	})
	fmt.Println(err)
	vals, _ := s.GetMulti(ctx, []string{"user:1:name", "user:1:session"})
	fmt.Printf("%s %s\n", vals[0].Data, vals[1].Data)

	n, _ := s.DeleteMulti(ctx, []string{"user:1:name", "user:1:session", "user:2:name"})
	fmt.Println("deleted", n)
	// Output:
	// <nil>
	// Alice token
	// deleted 2
}
