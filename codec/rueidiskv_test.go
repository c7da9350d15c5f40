package codec_test

import (
	"testing"

	"github.com/redis/rueidis"

	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// openRueidis returns a rueidiskv store, with its client-side cache unless
// disabled, over a new client of srv; it is closed when t ends.
func openRueidis(t *testing.T, srv *redistest.Server, opts *rueidiskv.Options) *rueidiskv.Store {
	t.Helper()
	s, err := rueidiskv.Open(backendtest.Context(t), rueidis.ClientOption{InitAddress: []string{srv.Addr()}}, opts)
	if err != nil {
		t.Fatalf("rueidiskv.Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestRueidiskv(t *testing.T) {
	srv := redistest.New(t)
	t.Run("cached", func(t *testing.T) { runBehaviours(t, redisBackend(srv, openRueidis(t, srv, nil))) })
	t.Run("uncached", func(t *testing.T) {
		runBehaviours(t, redisBackend(srv, openRueidis(t, srv, &rueidiskv.Options{DisableCache: true})))
	})
}

func TestRueidiskvServerDown(t *testing.T) {
	srv := redistest.Start(t, nil)
	serverDown(t, srv, openRueidis(t, srv, nil))
}

func TestRueidiskvClosed(t *testing.T) {
	srv := redistest.New(t)
	closedStore(t, func(t *testing.T) kv.Store { return openRueidis(t, srv, nil) })
}
