package codec_test

import (
	"context"
	"fmt"
	"time"

	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/codec"
)

// Stock is the value of the atomic-write examples.
type Stock struct {
	SKU   string `json:"sku"`
	Count int    `json:"count"`
}

// Typed atomic writes: SetIfAbsent seeds a value once, Update changes it by
// a read-modify-write that retries when another writer got there first, and
// SetMulti writes many values at once.
func ExampleStore_Update() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	store := memory.New(nil)
	defer store.Close()
	stock := codec.New[Stock](store, nil)

	seeded, err := stock.SetIfAbsent(ctx, "stock:apple", Stock{SKU: "apple", Count: 10}, 0)
	fmt.Println("seeded:", seeded, err)
	seeded, err = stock.SetIfAbsent(ctx, "stock:apple", Stock{SKU: "apple", Count: 99}, 0)
	fmt.Println("seeded again:", seeded, err)

	// Take three apples, unless there are not enough.
	s, err := stock.Update(ctx, "stock:apple", func(old Stock, found bool) (Stock, error) {
		if !found || old.Count < 3 {
			return old, fmt.Errorf("only %d apples left", old.Count)
		}
		old.Count -= 3
		return old, nil
	})
	fmt.Printf("%+v %v\n", s, err)

	err = stock.SetMulti(ctx, []codec.Item[Stock]{
		{Key: "stock:pear", Value: Stock{SKU: "pear", Count: 4}},
		{Key: "stock:plum", Value: Stock{SKU: "plum", Count: 2}, TTL: time.Hour},
	})
	fmt.Println("set multi:", err)
	raw, _, _ := stock.GetRaw(ctx, "stock:pear")
	fmt.Println(string(raw))
	// Output:
	// seeded: true <nil>
	// seeded again: false <nil>
	// {SKU:apple Count:7} <nil>
	// set multi: <nil>
	// {"sku": "pear", "count": 4}
}
