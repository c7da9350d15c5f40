package storekitotel_test

import (
	"context"
	"log"
	"os"

	"go.opentelemetry.io/otel"

	"github.com/cledar/storekit/backends/goredis"
	"github.com/cledar/storekit/codec"
	storekitotel "github.com/cledar/storekit/otel"
)

// A User is a value a Python service writes as {"user_id": 1, "name": "Ada"}.
type User struct {
	ID   int    `json:"user_id"`
	Name string `json:"name"`
}

// A service that reads typed values from the Redis its REDIS_URL names
// (such as "redis://app:secret@cache:6379/0") and exports the store's
// counters through the global OpenTelemetry meter provider.
func Example_service() {
	ctx := context.Background()
	store, err := goredis.DialURL(ctx, os.Getenv("REDIS_URL"), nil)
	if err != nil {
		log.Fatal(err) // never holds the password
	}
	defer store.Close()

	users := codec.New[User](store, nil)
	reg, err := storekitotel.Register(otel.Meter("my-service"), "users", users)
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = reg.Unregister() }()

	u, found, err := users.Get(ctx, "user:1")
	switch {
	case err != nil:
		log.Print(err)
	case !found:
		log.Print("no user:1")
	default:
		log.Printf("user:1 is %s", u.Name)
	}
}
