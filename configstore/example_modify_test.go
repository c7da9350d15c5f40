package configstore_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/configstore"
	"github.com/cledar/storekit/kv"
)

// Modify changes a configuration from what it holds: when another writer
// (here a second Store, as another process would be) adds a version in
// between, it starts again from the newer value, so no change is lost.
// UpdateIf is the single conditional step beneath it.
func ExampleStore_Modify() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	store := memory.New(nil)
	defer store.Close()
	configs, _ := configstore.New[ExampleConfig](ctx, store, nil)
	defer configs.Close()
	other, _ := configstore.New[ExampleConfig](ctx, store, nil)
	defer other.Close()

	_, _ = configs.Update(ctx, "cfg", ExampleConfig{Name: "demo", Index: 1})

	calls := 0
	cfg, version, err := configs.Modify(ctx, "cfg", func(old ExampleConfig, version int64, found bool) (ExampleConfig, error) {
		calls++
		if calls == 1 { // another writer gets in first, once
			_, _ = other.Update(ctx, "cfg", ExampleConfig{Name: "demo", Index: 10})
		}
		old.Index++
		return old, nil
	})
	fmt.Println("index", cfg.Index, "version", version, err, "calls", calls)

	// UpdateIf at a version that is no longer the latest writes nothing.
	_, err = configs.UpdateIf(ctx, "cfg", 1, ExampleConfig{Name: "stale"})
	var conflict *kv.VersionConflict
	if errors.As(err, &conflict) {
		fmt.Println("conflict: latest version is", conflict.Latest, errors.Is(err, kv.ErrConflict))
	}
	// Output:
	// index 11 version 3 <nil> calls 2
	// conflict: latest version is 3 true
}
