package rediswatch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/cledar/storekit/internal/lifecycle"
	"github.com/cledar/storekit/kv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeClient lists servers that a test changes, and keeps a subscription
// per server that the test can deliver on or drop.
type fakeClient struct {
	mu      sync.Mutex
	servers []string
	subs    map[string]*fakeSub
	changed chan struct{} // receives after every change of subs
	setting string        // notify-keyspace-events
}

// A fakeSub is a live subscription on one server.
type fakeSub struct {
	deliver func(channel, message string)
	lose    chan struct{}
}

func newFakeClient(servers ...string) *fakeClient {
	return &fakeClient{servers: servers, subs: make(map[string]*fakeSub), changed: make(chan struct{}, 100), setting: "KEA"}
}

func (f *fakeClient) setServers(servers ...string) {
	f.mu.Lock()
	f.servers = servers
	f.mu.Unlock()
}

func (f *fakeClient) Servers(context.Context) ([]Server, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Server
	for _, s := range f.servers {
		out = append(out, Server{ID: s, Addr: s})
	}
	return out, nil
}

func (f *fakeClient) Notify(Server) NotifyAccess {
	return NotifyAccess{
		Addr: "fake",
		Get: func(context.Context) (map[string]string, error) {
			return map[string]string{NotifyParam: f.setting}, nil
		},
		Set:         func(context.Context, string) error { return nil },
		Unreachable: func(context.Context, error) bool { return false },
	}
}

func (f *fakeClient) Subscribe(ctx context.Context, srv Server, _ string, confirmed func(), deliver func(string, string)) error {
	sub := &fakeSub{deliver: deliver, lose: make(chan struct{})}
	f.mu.Lock()
	f.subs[srv.ID] = sub
	f.mu.Unlock()
	f.changed <- struct{}{}
	confirmed()
	defer func() {
		f.mu.Lock()
		if f.subs[srv.ID] == sub {
			delete(f.subs, srv.ID)
		}
		f.mu.Unlock()
		f.changed <- struct{}{}
	}()
	select {
	case <-ctx.Done():
		return nil
	case <-sub.lose:
		return errors.New("connection lost")
	}
}

// subscribed returns the servers with a live subscription, sorted.
func (f *fakeClient) subscribed() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for id := range f.subs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// waitSubscribed waits until exactly ids have a live subscription.
func (f *fakeClient) waitSubscribed(t *testing.T, ids ...string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !slices.Equal(f.subscribed(), ids) {
		select {
		case <-f.changed:
		case <-deadline:
			t.Fatalf("subscribed on %v, want %v", f.subscribed(), ids)
		}
	}
}

func (f *fakeClient) sub(id string) *fakeSub {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.subs[id]
}

// notify delivers a keyspace notification of a set of key on id.
func (f *fakeClient) notify(id, key string) {
	f.sub(id).deliver(KeyspaceChannelPattern(0, key), "set")
}

func nextEvent(t *testing.T, ch <-chan kv.Event) kv.Event {
	t.Helper()
	select {
	case e, ok := <-ch:
		if !ok {
			t.Fatal("the channel closed")
		}
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event")
		return kv.Event{}
	}
}

// TestStartFollows: a watch subscribes on the servers the client lists,
// moves to the servers it lists later (with an OpResync once the new
// subscription is live), subscribes again after a lost connection (with an
// OpResync), drops keys from a cache before their events, and ends with its
// context.
func TestStartFollows(t *testing.T) {
	var life lifecycle.Life
	life.Init()
	defer life.Close()
	f := newFakeClient("a", "b")
	var changed []string
	var mu sync.Mutex
	missed := 0
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := Start(ctx, &life, f, "*", Options{
		Backend: "fake", Log: zap.NewNop(), Interval: 10 * time.Millisecond,
		Wrap:    func(_ context.Context, op string, err error) error { return fmt.Errorf("%s: %w", op, err) },
		Changed: func(key string) { mu.Lock(); changed = append(changed, key); mu.Unlock() },
		Missed:  func() { mu.Lock(); missed++; mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	if e := nextEvent(t, ch); e.Op != kv.OpResync || e.Err != nil {
		t.Fatalf("first event %v, want a resync", e)
	}
	f.waitSubscribed(t, "a", "b")
	f.notify("a", "k1")
	if e := nextEvent(t, ch); e.Op != kv.OpSet || e.Key != "k1" {
		t.Fatalf("event %v, want a set of k1", e)
	}

	// A failover: b's place is taken by c.
	f.setServers("a", "c")
	f.waitSubscribed(t, "a", "c")
	if e := nextEvent(t, ch); e.Op != kv.OpResync || e.Err != nil {
		t.Fatalf("after the switch to c: %v, want a resync", e)
	}
	f.notify("c", "k2")
	if e := nextEvent(t, ch); e.Op != kv.OpSet || e.Key != "k2" {
		t.Fatalf("event %v, want a set of k2 from the new server", e)
	}

	// A lost connection.
	close(f.sub("a").lose)
	if e := nextEvent(t, ch); e.Op != kv.OpResync || e.Err != nil {
		t.Fatalf("after a lost connection: %v, want a resync", e)
	}
	f.waitSubscribed(t, "a", "c")

	mu.Lock()
	if !slices.Equal(changed, []string{"k1", "k2"}) || missed != 2 {
		t.Errorf("Changed saw %v and Missed was called %d times, want [k1 k2] and 2", changed, missed)
	}
	mu.Unlock()

	cancel()
	for range ch {
	}
	f.waitSubscribed(t)
}

// TestStartFails: Start fails when a server's setting lacks classes, and
// after Close.
func TestStartFails(t *testing.T) {
	var life lifecycle.Life
	life.Init()
	f := newFakeClient("a")
	o := Options{Backend: "fake", Log: zap.NewNop(),
		Wrap: func(_ context.Context, op string, err error) error { return fmt.Errorf("%s: %w", op, err) }}
	f.setting = "Ex"
	var nce *NotifyConfigError
	if _, err := Start(context.Background(), &life, f, "*", o); !errors.As(err, &nce) || nce.Missing != "Kg$l" {
		t.Errorf("Start on a server with notify-keyspace-events Ex: %v, want a NotifyConfigError missing Kg$l", err)
	}
	f.setting = "KEA"
	life.Close()
	if _, err := Start(context.Background(), &life, f, "*", o); !errors.Is(err, kv.ErrClosed) {
		t.Errorf("Start after Close: %v, want kv.ErrClosed", err)
	}
}
