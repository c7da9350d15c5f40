package codec_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/cledar/storekit/codec"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/kv"
)

// TestGetMultiEmptyCallsNothing checks §2.8: an empty key list returns []
// without calling the store.
func TestGetMultiEmptyCallsNothing(t *testing.T) {
	cs := &countingStore{Store: newMemory(t)}
	s := codec.New[pyUser](cs, nil)
	for _, keys := range [][]string{nil, {}} {
		res, err := s.GetMulti(backendtest.Context(t), keys)
		if err != nil || res == nil || len(res) != 0 {
			t.Errorf("GetMulti(%#v) = %#v, %v; want an empty list", keys, res, err)
		}
	}
	if n := cs.calls.Load(); n != 0 {
		t.Errorf("%d calls reached the store", n)
	}
}

// TestInvalidArguments checks that empty keys and patterns, and a
// non-positive TTL, are rejected before the store is called.
func TestInvalidArguments(t *testing.T) {
	ctx := backendtest.Context(t)
	cs := &countingStore{Store: newMemory(t)}
	s := codec.New[pyUser](cs, nil)
	_, _, errGet := s.Get(ctx, "")
	_, _, errRaw := s.GetRaw(ctx, "")
	_, errDel := s.Delete(ctx, "")
	var errScan error
	for _, err := range s.Scan(ctx, "") {
		errScan = err
	}
	_, errKeys := s.Keys(ctx, "")
	_, errMulti := s.GetMulti(ctx, []string{"a", "b", ""})
	cases := []struct {
		err  error
		want string
	}{
		{errGet, "Key must be a non-empty string"},
		{errRaw, "Key must be a non-empty string"},
		{s.Set(ctx, "", pyUser{}), "Key must be a non-empty string"},
		{s.SetWithTTL(ctx, "", pyUser{}, time.Second), "Key must be a non-empty string"},
		{s.SetWithTTL(ctx, "k", pyUser{}, 0), "TTL must be positive, got 0s"},
		{s.SetWithTTL(ctx, "k", pyUser{}, -time.Second), "TTL must be positive, got -1s"},
		{errDel, "Key must be a non-empty string"},
		{errKeys, "Pattern must be a non-empty string"},
		{errScan, "Pattern must be a non-empty string"},
		{errMulti, "Keys must be non-empty strings: keys[2] is empty"},
	}
	for i, c := range cases {
		if !errors.Is(c.err, kv.ErrInvalid) || c.err.Error() != c.want {
			t.Errorf("case %d: %v, want %q wrapping kv.ErrInvalid", i, c.err, c.want)
		}
	}
	if n := cs.calls.Load(); n != 0 {
		t.Errorf("%d calls reached the store", n)
	}
}

// TestErrorMapping checks the seed's mapping of store errors and its message
// texts: a connection error for an unavailable or closed store, an operation
// error naming the operation and key for anything else.
func TestErrorMapping(t *testing.T) {
	errConn := fmt.Errorf("fake: dial tcp: %w", kv.ErrUnavailable)
	errClosed := fmt.Errorf("fake: %w", kv.ErrClosed)
	errReply := errors.New("fake: ERR something")
	type call struct {
		name string
		do   func(ctx context.Context, s *codec.Store[pyUser]) error
		want string // the operation error's text before ": "
	}
	calls := []call{
		{"Get", func(ctx context.Context, s *codec.Store[pyUser]) error { _, _, err := s.Get(ctx, "k"); return err }, "Failed to get key 'k'"},
		{"GetRaw", func(ctx context.Context, s *codec.Store[pyUser]) error { _, _, err := s.GetRaw(ctx, "k"); return err }, "Failed to get key 'k'"},
		{"Set", func(ctx context.Context, s *codec.Store[pyUser]) error { return s.Set(ctx, "k", pyUser{}) }, "Failed to set key 'k'"},
		{"Delete", func(ctx context.Context, s *codec.Store[pyUser]) error { _, err := s.Delete(ctx, "k"); return err }, "Failed to delete key 'k'"},
		{"GetMulti", func(ctx context.Context, s *codec.Store[pyUser]) error {
			_, err := s.GetMulti(ctx, []string{"a", "b"})
			return err
		}, "Failed to mget keys"},
		{"Ping", func(ctx context.Context, s *codec.Store[pyUser]) error { return s.Ping(ctx) }, "Failed to ping Redis host h"},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			ctx := backendtest.Context(t)
			cs := &countingStore{Store: newMemory(t)}
			s := codec.New(cs, &codec.Options[pyUser]{Host: "h"})

			for _, cause := range []error{errConn, errClosed} {
				cs.fail = cause
				err := c.do(ctx, s)
				e := asError[*codec.ConnectionError](t, err)
				if e.Host != "h" || !errors.Is(err, cause) || err.Error() != "Error connecting to Redis host h: "+cause.Error() {
					t.Errorf("%q, want a connection error wrapping %v", err, cause)
				}
			}

			cs.fail = errReply
			err := c.do(ctx, s)
			e := asError[*codec.OperationError](t, err)
			if !errors.Is(err, errReply) || err.Error() != c.want+": "+errReply.Error() {
				t.Errorf("%q (%+v), want %q wrapping %v", err, e, c.want, errReply)
			}
		})
	}
}

// TestNotSupported checks the errors of calls that need a capability the
// store lacks: an operation error wrapping kv.ErrNotSupported.
func TestNotSupported(t *testing.T) {
	ctx := backendtest.Context(t)
	cs := &countingStore{Store: newMemory(t)} // only kv.Store
	s := codec.New[pyUser](cs, nil)
	err := s.SetWithTTL(ctx, "k", pyUser{}, time.Second)
	if e := asError[*codec.OperationError](t, err); e.Op != codec.OperationSet || !errors.Is(err, kv.ErrNotSupported) ||
		!strings.HasPrefix(err.Error(), "Failed to set key 'k': ") {
		t.Errorf("SetWithTTL: %v", err)
	}
	_, err = s.Keys(ctx, "user:*")
	if e := asError[*codec.OperationError](t, err); e.Op != codec.OperationListKeys || e.Key != "user:*" || !errors.Is(err, kv.ErrNotSupported) ||
		!strings.HasPrefix(err.Error(), "Failed to list keys for pattern 'user:*': ") {
		t.Errorf("Keys: %v", err)
	}
	n := 0
	for k, err := range s.Scan(ctx, "user:*") {
		n++
		if k != "" || !errors.Is(err, kv.ErrNotSupported) {
			t.Errorf("Scan yielded %q, %v", k, err)
		}
	}
	if n != 1 {
		t.Errorf("Scan yielded %d times, want once", n)
	}
	if cs.calls.Load() != 0 {
		t.Errorf("the store was called")
	}
}

// TestGetMultiFallback checks GetMulti on a store without kv.MultiGetter.
func TestGetMultiFallback(t *testing.T) {
	ctx := backendtest.Context(t)
	cs := &countingStore{Store: newMemory(t)}
	s := codec.New[pyUser](cs, nil)
	mustNil(t, s.Set(ctx, "a", pyUser{1, "a"}))
	mustNil(t, cs.Set(ctx, "b", []byte("junk")))
	res, err := s.GetMulti(ctx, []string{"a", "b", "c"})
	if err != nil || len(res) != 3 || !res[0].Found || res[1].Err == nil || res[2].Found || res[2].Err != nil {
		t.Fatalf("GetMulti = %+v, %v", res, err)
	}
}

// brokenMulti returns the wrong number of values.
type brokenMulti struct{ kv.Store }

func (brokenMulti) GetMulti(context.Context, []string) ([]kv.Value, error) {
	return []kv.Value{{}}, nil
}

func TestGetMultiWrongLength(t *testing.T) {
	_, err := codec.New[pyUser](brokenMulti{newMemory(t)}, nil).GetMulti(backendtest.Context(t), []string{"a", "b"})
	asError[*codec.OperationError](t, err)
}

// TestPingFallback checks Ping on a store without a Ping method: a read of a
// reserved key, whose absence, value or type all count as alive.
func TestPingFallback(t *testing.T) {
	ctx := backendtest.Context(t)
	m := newMemory(t)
	cs := &countingStore{Store: m}
	s := codec.New[pyUser](cs, nil)
	if err := s.Ping(ctx); err != nil || cs.calls.Load() != 1 {
		t.Errorf("Ping = %v after %d calls", err, cs.calls.Load())
	}
	mustNil(t, m.Set(ctx, "storekit:codec:ping", []byte("x")))
	mustNil(t, s.Ping(ctx))
	_, err := m.Append(ctx, "storekit:codec:ping", []byte("y"))
	mustNil(t, err)
	mustNil(t, s.Ping(ctx))
	cs.fail = context.DeadlineExceeded
	if s.IsAlive(ctx) {
		t.Error("IsAlive with a failing store")
	}
	if err := s.Ping(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Ping = %v", err)
	}
}

// TestContextEnded checks that a call whose context has ended fails with an
// operation error wrapping the context's error.
func TestContextEnded(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := codec.New[pyUser](newMemory(t), nil)
	err := s.Set(ctx, "k", pyUser{})
	if asError[*codec.OperationError](t, err); !errors.Is(err, context.Canceled) {
		t.Errorf("Set: %v", err)
	}
}

func TestDefaultHost(t *testing.T) {
	m := newMemory(t)
	mustNil(t, m.Close())
	err := codec.New[pyUser](m, nil).Ping(backendtest.Context(t))
	if want := "Error connecting to Redis host *memory.Store: "; !strings.HasPrefix(fmt.Sprint(err), want) {
		t.Errorf("%v, want it to start with %q", err, want)
	}
}

func TestModelName(t *testing.T) {
	ctx := backendtest.Context(t)
	m := newMemory(t)
	mustNil(t, m.Set(ctx, "k", []byte("{")))
	model := func(err error) string { return asError[*codec.DeserializationError](t, err).Model }
	_, _, err := codec.New[**pyUser](m, nil).Get(ctx, "k")
	if got := model(err); got != "pyUser" {
		t.Errorf("Model of **pyUser = %q", got)
	}
	_, _, err = codec.New[[]pyUser](m, nil).Get(ctx, "k")
	if got := model(err); got != "[]codec_test.pyUser" {
		t.Errorf("Model of []pyUser = %q", got)
	}
}

func TestNewNilStore(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New(nil) did not panic")
		}
	}()
	codec.New[pyUser](nil, nil)
}

// TestScanStopsEarly checks that Scan stops when the loop breaks.
func TestScanStopsEarly(t *testing.T) {
	ctx := backendtest.Context(t)
	s := codec.New[string](newMemory(t), nil)
	for i := range 5 {
		mustNil(t, s.Set(ctx, fmt.Sprint("k", i), "v"))
	}
	n := 0
	for _, err := range s.Scan(ctx, "k*") {
		mustNil(t, err)
		n++
		break
	}
	if n != 1 {
		t.Errorf("%d iterations", n)
	}
}

// TestCustomCodec checks that Options.Codec is used, and that its own
// validation errors are reported as such.
func TestCustomCodec(t *testing.T) {
	ctx := backendtest.Context(t)
	s := codec.New(newMemory(t), &codec.Options[string]{Codec: upperCodec{}})
	mustNil(t, s.Set(ctx, "k", "abc"))
	if b, _, _ := s.GetRaw(ctx, "k"); string(b) != "ABC" {
		t.Errorf("stored %q", b)
	}
	if v, _, err := s.Get(ctx, "k"); err != nil || v != "abc" {
		t.Errorf("Get = %q, %v", v, err)
	}
	mustNil(t, s.Set(ctx, "k", ""))
	_, _, err := s.Get(ctx, "k")
	if asError[*codec.DeserializationError](t, err); !strings.HasPrefix(err.Error(), "Validation failed for key 'k' and model 'string'") {
		t.Errorf("Get: %v", err)
	}
}

// upperCodec stores strings in upper case and refuses to read empty ones.
type upperCodec struct{}

func (upperCodec) Encode(v string) ([]byte, error) { return []byte(strings.ToUpper(v)), nil }

func (upperCodec) Decode(b []byte) (string, error) {
	if len(b) == 0 {
		return "", fmt.Errorf("%w: empty", codec.ErrValidation)
	}
	return strings.ToLower(string(b)), nil
}

// TestLogging checks that failures are logged with their key, and values
// never.
func TestLogging(t *testing.T) {
	ctx := backendtest.Context(t)
	core, logs := observer.New(zap.DebugLevel)
	m := newMemory(t)
	s := codec.New(m, &codec.Options[pyUser]{Logger: zap.New(core), Host: "h"})
	mustNil(t, s.Set(ctx, "ok", pyUser{1, "secret-name"}))
	if _, _, err := s.Get(ctx, "ok"); err != nil {
		t.Fatal(err)
	}
	if n := logs.Len(); n != 0 {
		t.Errorf("%d log entries for successful calls", n)
	}
	mustNil(t, m.Set(ctx, "bad", []byte(`{"name": "secret-value"`)))
	_, _, _ = s.Get(ctx, "bad")
	_, _ = s.GetMulti(ctx, []string{"bad"})
	_ = codec.New(m, &codec.Options[*pyUser]{Logger: zap.New(core)}).Set(ctx, "nil", nil)
	mustNil(t, m.Close())
	_ = s.IsAlive(ctx)
	want := []string{"JSON Decode error.", "JSON Decode error.", "Serialization error before setting Redis key.",
		"Redis connection error during health check. Can't ping Redis host h"}
	entries := logs.AllUntimed()
	if len(entries) != len(want) {
		t.Fatalf("%d log entries, want %d: %v", len(entries), len(want), entries)
	}
	for i, e := range entries {
		if e.Message != want[i] || e.Level != zap.ErrorLevel {
			t.Errorf("entry %d: %s %q, want error %q", i, e.Level, e.Message, want[i])
		}
		if s := fmt.Sprint(e.ContextMap()); strings.Contains(s, "secret") {
			t.Errorf("entry %d logs a value: %s", i, s)
		}
	}
	if k := entries[0].ContextMap()["key"]; k != "bad" {
		t.Errorf("entry 0 logs key %v", k)
	}
}

// TestErrorTexts checks each error type's text, with and without a cause.
func TestErrorTexts(t *testing.T) {
	cause := errors.New("cause")
	for _, c := range []struct {
		err  error
		want string
	}{
		{&codec.ConnectionError{Host: "redis.local"}, "Error connecting to Redis host redis.local"},
		{&codec.ConnectionError{Host: "redis.local", Err: cause}, "Error connecting to Redis host redis.local: cause"},
		{&codec.SerializationError{Key: "k"}, "Failed to serialize value for Redis key 'k'"},
		{&codec.DeserializationError{Key: "k", Model: "M", Err: cause}, "Failed to decode JSON for key 'k': cause"},
		{&codec.DeserializationError{Key: "k", Model: "M", Err: fmt.Errorf("%w: x", codec.ErrValidation)},
			"Validation failed for key 'k' and model 'M': codec: validation failed: x"},
		{&codec.OperationError{Op: codec.OperationGet, Key: "k"}, "Failed to get key 'k'"},
		{&codec.OperationError{Op: codec.OperationSet, Key: "k", Err: cause}, "Failed to set key 'k': cause"},
		{&codec.OperationError{Op: codec.OperationDelete, Key: "k"}, "Failed to delete key 'k'"},
		{&codec.OperationError{Op: codec.OperationGetMulti}, "Failed to mget keys"},
		{&codec.OperationError{Op: codec.OperationListKeys, Key: "user:*"}, "Failed to list keys for pattern 'user:*'"},
		{&codec.OperationError{Op: codec.OperationPing, Host: "h"}, "Failed to ping Redis host h"},
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("%#v: %q, want %q", c.err, got, c.want)
		}
	}
}
