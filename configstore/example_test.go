package configstore_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/configstore"
	"github.com/cledar/storekit/kv"
)

// ExampleConfig is the configuration of the Python original's example.
type ExampleConfig struct {
	Name  string         `json:"name"`
	Index int            `json:"index"`
	Data  map[string]any `json:"data"`
}

// Fetch a configuration, or store a default the first time, as the Python
// example's ConfigProvider does. On Redis the kv.Store would come from
// goredis.Dial or rueidiskv.Dial; everything else is the same.
func Example() {
	ctx := context.Background()
	store := memory.New(nil)
	defer store.Close()

	configs, err := configstore.New[ExampleConfig](ctx, store, &configstore.Options[ExampleConfig]{Prefix: "config:"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer configs.Close()

	cfg, version, err := configs.Fetch(ctx, "example_config")
	if errors.Is(err, kv.ErrNotFound) {
		cfg = ExampleConfig{Name: "name", Index: 0, Data: map[string]any{}}
		version, err = configs.Update(ctx, "example_config", cfg)
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("version %d: %+v\n", version, cfg)

	// The raw layout is the Python store's: a history, newest last.
	raw, _, _ := store.Latest(ctx, "config:example_config")
	fmt.Println(string(raw))
	// Output:
	// version 1: {Name:name Index:0 Data:map[]}
	// {"name": "name", "index": 0, "data": {}}
}

// Updates append versions; an update that changes nothing writes nothing.
func ExampleStore_Update() {
	ctx := context.Background()
	store := memory.New(nil)
	defer store.Close()
	configs, _ := configstore.New[ExampleConfig](ctx, store, nil)
	defer configs.Close()

	for _, index := range []int{1, 2, 2} {
		version, err := configs.Update(ctx, "cfg", ExampleConfig{Name: "demo", Index: index})
		fmt.Println("index", index, "-> version", version, err)
	}
	history, _ := configs.History(ctx, "cfg")
	for _, e := range history {
		fmt.Println("version", e.Version, "index", e.Value.Index)
	}
	old, _ := configs.At(ctx, "cfg", 1)
	fmt.Println("at 1:", old.Index)
	// Output:
	// index 1 -> version 1 <nil>
	// index 2 -> version 2 <nil>
	// index 2 -> version 2 <nil>
	// version 1 index 1
	// version 2 index 2
	// at 1: 1
}

// A watcher hears of changes made by anyone: here another writer appends a
// version directly to the kv.Store, as another service would on Redis.
func ExampleStore_Watch() {
	ctx := context.Background()
	store := memory.New(nil)
	defer store.Close()
	configs, _ := configstore.New[ExampleConfig](ctx, store, nil)
	defer configs.Close()

	changed := make(chan configstore.Event[ExampleConfig], 1)
	stop, err := configs.Watch(ctx, "cfg", func(ev configstore.Event[ExampleConfig]) {
		changed <- ev
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()

	// Another writer.
	_, _ = store.Append(ctx, "cfg", []byte(`{"name": "other", "index": 7, "data": {}}`))
	ev := <-changed
	fmt.Println(ev.Kind, ev.Key, ev.Version, ev.Value.Name, ev.Value.Index)

	// The cache follows, so Latest never blocks and never fails.
	cfg, version, ok := configs.Latest("cfg")
	fmt.Println(cfg.Name, version, ok)

	_, _ = store.Delete(ctx, "cfg")
	ev = <-changed
	fmt.Println(ev.Kind, ev.Key)
	// Output:
	// updated cfg 1 other 7
	// other 1 true
	// deleted cfg
}
