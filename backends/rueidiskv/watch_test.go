package rueidiskv_test

import (
	"testing"

	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/internal/redistest"
)

// TestWatch runs the watch tests the Redis backends share: a killed
// subscription, a restart, notifications off, turned on, lost and not
// readable, the match rules, and the end of a watch.
func TestWatch(t *testing.T) { backendtest.RunWatch(t, backend) }

// TestWatchDatabase: a store over a client of database 3 watches that
// database's notifications, whether Dial told it the database or New had
// to ask the server.
func TestWatchDatabase(t *testing.T) {
	srv := redistest.Start(t, nil)
	ctx := backendtest.Context(t)
	host, port := backendtest.SplitHostPort(t, srv.Addr())
	dialled, err := rueidiskv.Dial(ctx, rueidiskv.Config{Host: host, Port: port, DB: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dialled.Close()
	wrapped := rueidiskv.New(dialled.Client(), nil)
	defer wrapped.Close()
	for name, s := range map[string]*rueidiskv.Store{"Dial": dialled, "New": wrapped} {
		ch := backendtest.StartWatch(ctx, t, s, "db:*")
		srv.MustDo("SET", "db:0", "v") // database 0: not reported
		backendtest.SetAndSee(ctx, t, s, ch, "db:"+name)
	}
}
