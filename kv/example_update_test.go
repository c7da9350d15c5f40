package kv_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/kv"
)

// Four goroutines add to one counter with a read-modify-write that no other
// writer can slip into: Update retries when the value changed under it.
// (For plain counters kv.Counter's Incr does this in one step; Update fits
// any change of a value, such as a field of a JSON document.)
func ExampleUpdate() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var s kv.Store = memory.New(nil)
	defer s.Close()

	add := func(old []byte, found bool) ([]byte, error) {
		n := 0
		if found {
			var err error
			if n, err = strconv.Atoi(string(old)); err != nil {
				return nil, err // written nothing; Update returns this error
			}
		}
		return []byte(strconv.Itoa(n + 1)), nil
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 25 {
				if _, err := kv.Update(ctx, s, "visits", add); err != nil {
					fmt.Println(err)
				}
			}
		})
	}
	wg.Wait()

	v, _ := s.Get(ctx, "visits")
	fmt.Println(string(v))
	// Output: 100
}
