package goredis_test

import (
	"context"
	"log"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cledar/storekit/backends/goredis"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/kv"
)

// dialURL is goredis.DialURL with default options.
var dialURL = backendtest.URLDialerOf(goredis.DialURL)

// TestDialURL: a URL names an ACL user, a database, a Unix socket or TLS;
// refused credentials, an unreachable server and a bad URL fail at once,
// without the password.
func TestDialURL(t *testing.T) { backendtest.RunDialURL(t, backend, dialURL) }

// TestDialURLCluster: a redis+cluster:// URL gives a store over a
// *redis.ClusterClient that honours deadlines and has the URL's timeouts.
func TestDialURLCluster(t *testing.T) {
	backendtest.RunDialURLCluster(t, backend, checkClient(t, func(c redis.UniversalClient) bool {
		cc, ok := c.(*redis.ClusterClient)
		return ok && cc.Options().ContextTimeoutEnabled && cc.Options().DialTimeout == 5*time.Second
	}))
}

// TestDialURLSentinel: a redis+sentinel:// URL gives a store over a
// failover client that honours deadlines, logged in to the sentinels as
// the URL says.
func TestDialURLSentinel(t *testing.T) {
	backendtest.RunDialURLSentinel(t, backend, checkClient(t, func(c redis.UniversalClient) bool {
		fc, ok := c.(*redis.Client)
		return ok && fc.Options().Addr == "FailoverClient" && fc.Options().ContextTimeoutEnabled
	}))
}

// checkClient returns DialURL, checking that the client of every store it
// makes is what want accepts.
func checkClient(t *testing.T, want func(redis.UniversalClient) bool) backendtest.URLDialer {
	return func(ctx context.Context, rawURL string) (kv.Store, error) {
		s, err := goredis.DialURL(ctx, rawURL, nil)
		if err != nil {
			return nil, err
		}
		if !want(s.Client()) {
			t.Errorf("DialURL(%q) made a %T that is not the client it names", rawURL, s.Client())
		}
		return s, nil
	}
}

// TestDialURLDeadlines: every call of a store that DialURL made returns by
// its context's deadline while the server does not answer, however long
// the URL's timeouts: the client has ContextTimeoutEnabled.
func TestDialURLDeadlines(t *testing.T) {
	backendtest.RunDialURLDeadlines(t, checkClient(t, func(c redis.UniversalClient) bool {
		sc, ok := c.(*redis.Client)
		return ok && sc.Options().ContextTimeoutEnabled && sc.Options().ReadTimeout == 30*time.Second
	}))
}

// DialURL connects as the URL in REDIS_URL says (one server, a cluster or a
// Sentinel deployment), and fails at once if the server cannot be used or
// the URL cannot be read.
func ExampleDialURL() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	store, err := goredis.DialURL(ctx, os.Getenv("REDIS_URL"), nil) // such as redis://app:secret@cache:6379/0
	if err != nil {
		log.Fatal(err) // errors.Is(err, kv.ErrInvalid) for a bad URL; it never shows the password
	}
	defer store.Close()
}
