package metrics_test

import (
	"context"
	"fmt"

	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/metrics"
)

func Example() {
	ctx := context.Background()
	s := memory.New(nil)
	defer s.Close()

	_ = s.Set(ctx, "greeting", []byte("hello"))
	_, _ = s.Get(ctx, "greeting")
	_, _ = s.Get(ctx, "missing") // kv.ErrNotFound: no failure
	_, _ = s.History(ctx, "greeting")
	_, _ = s.Append(ctx, "log", []byte("a"))
	_, _ = s.Get(ctx, "log") // a history read as a value: kv.ErrWrongType

	snap, _ := metrics.Of(s)
	for op := range metrics.Op(metrics.NumOps) {
		if n := snap.Ops[op]; n > 0 {
			fmt.Printf("%s: %d calls, %d failed\n", op, n, snap.Failures(op))
		}
	}
	fmt.Println("wrong type:", snap.ErrorsOf(metrics.KindWrongType))
	// Output:
	// get: 3 calls, 1 failed
	// set: 1 calls, 0 failed
	// append: 1 calls, 0 failed
	// history: 1 calls, 0 failed
	// wrong type: 1
}
