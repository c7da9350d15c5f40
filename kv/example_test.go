package kv_test

import (
	"context"
	"fmt"

	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/kv"
)

func ExampleGetMulti() {
	ctx := context.Background()
	var s kv.Store = memory.New(nil)
	defer s.Close()
	_ = s.Set(ctx, "user:1", []byte("Alice"))
	_ = s.Set(ctx, "user:3", []byte("Carol"))

	vals, err := kv.GetMulti(ctx, s, []string{"user:1", "user:2", "user:3"})
	if err != nil {
		panic(err)
	}
	for _, v := range vals {
		if v.Found {
			fmt.Println(string(v.Data))
		} else {
			fmt.Println("(missing)")
		}
	}
	// Output:
	// Alice
	// (missing)
	// Carol
}

func ExampleKeys() {
	ctx := context.Background()
	var s kv.Store = memory.New(nil)
	defer s.Close()
	for _, k := range []string{"user:1", "user:2", "order:1", "user:10"} {
		_ = s.Set(ctx, k, nil)
	}
	keys, err := kv.Keys(ctx, s, "user:?")
	fmt.Println(keys, err)
	// Output: [user:1 user:2] <nil>
}

func ExampleMatch() {
	fmt.Println(kv.Match("user:*", "user:42"))
	fmt.Println(kv.Match("user:[0-9]", "user:x"))
	fmt.Println(kv.Match("h?llo", "hello"))
	// Output:
	// true
	// false
	// true
}

func ExampleEscapePattern() {
	key := "report[2026]*"
	pattern := kv.EscapePattern(key)
	fmt.Println(pattern)
	fmt.Println(kv.Match(pattern, key), kv.Match(pattern, "report2*"))
	// Output:
	// report\[2026\]\*
	// true false
}
