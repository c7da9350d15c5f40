package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/cledar/storekit/backends/postgres"
	"github.com/cledar/storekit/kv"
)

// Open needs a server, so this example is compiled but not run.
func Example() {
	ctx := context.Background()
	store, err := postgres.Open(ctx, os.Getenv("DATABASE_URL"), &postgres.Options{
		Schema:       "myapp",
		Table:        "kv",
		CreateSchema: true,
	})
	switch {
	case errors.Is(err, kv.ErrUnavailable):
		log.Fatal("the database cannot be reached: ", err)
	case err != nil:
		log.Fatal(err)
	}
	defer store.Close()

	if err := store.SetWithTTL(ctx, "session:1", []byte("alice"), time.Hour); err != nil {
		log.Fatal(err)
	}
	n, err := store.Incr(ctx, "visits", 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("visits:", n)
}
