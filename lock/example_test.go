package lock_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/lock"
)

// Two workers compete for one job. The holder passes its fencing token to
// whatever it writes, so that the resource can refuse a holder whose lease
// was replaced.
func Example() {
	ctx := context.Background()
	store := memory.New(nil) // on Redis: goredis.Dial or rueidiskv.Dial
	defer store.Close()

	worker1, err := lock.New(store, "jobs:nightly", &lock.Options{TTL: 30 * time.Second})
	if err != nil {
		fmt.Println(err)
		return
	}
	worker2, _ := lock.New(store, "jobs:nightly", &lock.Options{TTL: 30 * time.Second})

	lease, err := worker1.TryLock(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("worker 1 holds it, fence", lease.Fence())

	_, err = worker2.TryLock(ctx)
	fmt.Println("worker 2 held off:", errors.Is(err, lock.ErrHeld))

	// ... the work, with lease.Refresh(ctx) before lease.Expires() if it is long ...
	fmt.Println("release:", lease.Release(ctx))

	lease, err = worker2.Lock(ctx) // waits until free, or until ctx ends
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("worker 2 holds it, fence", lease.Fence())
	_ = lease.Release(ctx)
	// Output:
	// worker 1 holds it, fence 1
	// worker 2 held off: true
	// release: <nil>
	// worker 2 holds it, fence 2
}
