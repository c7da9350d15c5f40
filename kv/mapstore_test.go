package kv_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cledar/storekit/kv"
)

// A mapStore is a Store and a Conditional over a map guarded by a mutex:
// enough of a backend to test the helpers without depending on one. It logs
// every write it makes, and its hooks fail a write or slip in a concurrent
// one.
type mapStore struct {
	mu   sync.Mutex
	data map[string][]byte
	log  []string // "set k", "setttl k 1s", "del k", "cas k", "sia k", in order

	// failOn makes a Set, SetWithTTL or Delete of this key fail with errBoom.
	failOn string
	// beforeCond, if set, is called (without the lock) before each
	// conditional write, so that a test can write in between.
	beforeCond func(key string)
}

func newMapStore() *mapStore { return &mapStore{data: make(map[string][]byte)} }

func (m *mapStore) Get(ctx context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.data[key]
	if !ok {
		return nil, fmt.Errorf("get %s: %w", kv.QuoteKey(key), kv.ErrNotFound)
	}
	return append([]byte{}, v...), nil
}

func (m *mapStore) Set(ctx context.Context, key string, value []byte) error {
	return m.write("set "+key, key, value)
}

func (m *mapStore) Delete(ctx context.Context, key string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if key == m.failOn {
		return false, errBoom
	}
	_, ok := m.data[key]
	delete(m.data, key)
	m.log = append(m.log, "del "+key)
	return ok, nil
}

func (m *mapStore) Close() error { return nil }

// write stores value at key and logs entry, unless key is failOn.
func (m *mapStore) write(entry, key string, value []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if key == m.failOn {
		return errBoom
	}
	m.data[key] = append([]byte{}, value...)
	m.log = append(m.log, entry)
	return nil
}

func (m *mapStore) SetIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	m.hook(key)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.data[key]; ok {
		return false, nil
	}
	m.data[key] = append([]byte{}, value...)
	m.log = append(m.log, "sia "+key)
	return true, nil
}

func (m *mapStore) CompareAndSwap(ctx context.Context, key string, old, new []byte, ttl time.Duration) (bool, error) {
	m.hook(key)
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.data[key]; !ok || !bytes.Equal(v, old) {
		return false, nil
	}
	m.data[key] = append([]byte{}, new...)
	m.log = append(m.log, "cas "+key)
	return true, nil
}

func (m *mapStore) CompareAndDelete(ctx context.Context, key string, old []byte) (bool, error) {
	m.hook(key)
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.data[key]; !ok || !bytes.Equal(v, old) {
		return false, nil
	}
	delete(m.data, key)
	m.log = append(m.log, "cad "+key)
	return true, nil
}

func (m *mapStore) hook(key string) {
	if m.beforeCond != nil {
		m.beforeCond(key)
	}
}

// writes returns the log of writes so far.
func (m *mapStore) writes() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.log...)
}

// value returns what key holds, and whether it exists.
func (m *mapStore) value(key string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.data[key]
	return string(v), ok
}

// A ttlStore is a mapStore that is an Expirer too.
type ttlStore struct{ *mapStore }

func (t ttlStore) SetWithTTL(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	return t.write(fmt.Sprintf("setttl %s %v", key, ttl), key, value)
}

func (t ttlStore) TTL(ctx context.Context, key string) (time.Duration, error) {
	return 0, kv.ErrNotSupported
}

// A bulkStore is a mapStore that is a BulkWriter, and records the calls.
type bulkStore struct {
	*mapStore
	items []kv.Item
	keys  []string
}

func (b *bulkStore) SetMulti(ctx context.Context, items []kv.Item) error {
	b.items = append(b.items, items...)
	return nil
}

func (b *bulkStore) DeleteMulti(ctx context.Context, keys []string) (int, error) {
	b.keys = append(b.keys, keys...)
	return 42, nil
}

var (
	_ kv.Conditional = (*mapStore)(nil)
	_ kv.Expirer     = ttlStore{}
	_ kv.BulkWriter  = (*bulkStore)(nil)
)
