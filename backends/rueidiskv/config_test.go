package rueidiskv_test

import (
	"context"
	"log"
	"os"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/kv"
)

// TestDialURL: a URL names an ACL user, a database, a Unix socket or TLS;
// refused credentials, an unreachable server and a bad URL fail at once,
// without the password.
func TestDialURL(t *testing.T) {
	backendtest.RunDialURL(t, backend, checkMode(t, rueidis.ClientModeStandalone))
}

// TestDialURLCluster: a redis+cluster:// URL gives a store over a cluster
// client; one of a server without cluster support fails.
func TestDialURLCluster(t *testing.T) {
	backendtest.RunDialURLCluster(t, backend, checkMode(t, rueidis.ClientModeCluster))
}

// TestDialURLSentinel: a redis+sentinel:// URL gives a store over a
// sentinel client, logged in to the sentinels as the URL says.
func TestDialURLSentinel(t *testing.T) {
	backendtest.RunDialURLSentinel(t, backend, checkMode(t, rueidis.ClientModeSentinel))
}

// checkMode returns DialURL, checking that the client of every store it
// makes is of the mode want.
func checkMode(t *testing.T, want rueidis.ClientMode) backendtest.URLDialer {
	return func(ctx context.Context, rawURL string) (kv.Store, error) {
		s, err := rueidiskv.DialURL(ctx, rawURL, nil)
		if err != nil {
			return nil, err
		}
		if mode := s.Client().Mode(); mode != want {
			t.Errorf("DialURL(%q) made a client of mode %v, want %v", rawURL, mode, want)
		}
		return s, nil
	}
}

// TestDialURLDeadlines: every call of a store that DialURL made returns by
// its context's deadline while the server does not answer, however long
// the URL's timeouts.
func TestDialURLDeadlines(t *testing.T) {
	backendtest.RunDialURLDeadlines(t, checkMode(t, rueidis.ClientModeStandalone))
}

// DialURL connects as the URL in REDIS_URL says (one server, a cluster or a
// Sentinel deployment), with client-side caching, and fails at once if the
// server cannot be used or the URL cannot be read.
func ExampleDialURL() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	store, err := rueidiskv.DialURL(ctx, os.Getenv("REDIS_URL"), nil) // such as redis+cluster://n1:7000,n2:7000
	if err != nil {
		log.Fatal(err) // errors.Is(err, kv.ErrInvalid) for a bad URL; it never shows the password
	}
	defer store.Close()
}
