package storekitotel_test

import (
	"context"
	"fmt"
	"log"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/cledar/storekit/backends/memory"
	storekitotel "github.com/cledar/storekit/otel"
)

func Example() {
	ctx := context.Background()
	store := memory.New(nil)
	defer store.Close()

	// A program would install a periodic reader with an exporter; the
	// manual reader shows what it would export.
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(ctx)
	reg, err := storekitotel.Register(provider.Meter("storekit"), "sessions", store)
	if err != nil {
		log.Fatal(err)
	}
	defer reg.Unregister()

	_ = store.Set(ctx, "user:1", []byte("alice"))
	_, _ = store.Get(ctx, "user:1")
	_, _ = store.Get(ctx, "user:2") // missing: no error counted

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		log.Fatal(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name != "storekit.operations" {
			continue
		}
		for _, p := range m.Data.(metricdata.Sum[int64]).DataPoints {
			op, _ := p.Attributes.Value(storekitotel.OpKey)
			store, _ := p.Attributes.Value(storekitotel.StoreKey)
			fmt.Printf("%s %s: %d\n", store.AsString(), op.AsString(), p.Value)
		}
	}
	// Unordered output:
	// sessions get: 2
	// sessions set: 1
}
