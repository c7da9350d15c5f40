package kv_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"testing"

	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/kv"
)

// plain hides every optional interface of the store it wraps.
type plain struct{ s kv.Store }

func (p plain) Get(ctx context.Context, k string) ([]byte, error)  { return p.s.Get(ctx, k) }
func (p plain) Set(ctx context.Context, k string, v []byte) error  { return p.s.Set(ctx, k, v) }
func (p plain) Delete(ctx context.Context, k string) (bool, error) { return p.s.Delete(ctx, k) }
func (p plain) Close() error                                       { return p.s.Close() }

func TestGetMultiFallbackAgreesWithFastPath(t *testing.T) {
	ctx := context.Background()
	s := memory.New(nil)
	defer s.Close()
	_ = s.Set(ctx, "a", []byte("1"))
	_ = s.Set(ctx, "empty", nil)
	_, _ = s.Append(ctx, "hist", []byte("h"))
	keys := []string{"a", "missing", "empty", "hist", "a"}

	fast, err := kv.GetMulti(ctx, s, keys)
	if err != nil {
		t.Fatal(err)
	}
	slow, err := kv.GetMulti(ctx, plain{s}, keys)
	if err != nil {
		t.Fatal(err)
	}
	want := []kv.Value{{Data: []byte("1"), Found: true}, {}, {Data: []byte{}, Found: true}, {}, {Data: []byte("1"), Found: true}}
	for name, got := range map[string][]kv.Value{"fast path": fast, "fallback": slow} {
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
		}
		for i := range want {
			if got[i].Found != want[i].Found || string(got[i].Data) != string(want[i].Data) {
				t.Errorf("%s: value %d (%q) = %+v, want %+v", name, i, keys[i], got[i], want[i])
			}
		}
	}
}

type failing struct{ plain }

var errBoom = errors.New("boom")

func (failing) Get(context.Context, string) ([]byte, error) { return nil, errBoom }

func TestGetMultiFallbackFailsOnOtherErrors(t *testing.T) {
	_, err := kv.GetMulti(context.Background(), failing{}, []string{"k"})
	if !errors.Is(err, errBoom) {
		t.Fatalf("err = %v, want the Get error", err)
	}
}

// dupScanner yields its keys twice, as Redis SCAN may.
type dupScanner struct {
	plain
	keys []string
	err  error
}

func (d dupScanner) Scan(ctx context.Context, pattern string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for range 2 {
			for _, k := range d.keys {
				if kv.Match(pattern, k) && !yield(k, nil) {
					return
				}
			}
		}
		if d.err != nil {
			yield("", d.err)
		}
	}
}

func TestKeysDedupesAndSorts(t *testing.T) {
	got, err := kv.Keys(context.Background(), dupScanner{keys: []string{"b", "a", "c", "x"}}, "[abc]")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Fatalf("Keys = %q, want %q", got, want)
	}
	_, err = kv.Keys(context.Background(), dupScanner{keys: []string{"a"}, err: errBoom}, "*")
	if !errors.Is(err, errBoom) {
		t.Fatalf("Keys error = %v, want the scan error", err)
	}
}

func TestKeysNeedsScanner(t *testing.T) {
	_, err := kv.Keys(context.Background(), plain{}, "*")
	if !errors.Is(err, kv.ErrNotSupported) {
		t.Fatalf("err = %v, want ErrNotSupported", err)
	}
}

func TestEventString(t *testing.T) {
	tests := []struct {
		e    kv.Event
		want string
	}{
		{kv.Event{Op: kv.OpResync}, "resync"},
		{kv.Event{Op: kv.OpSet, Key: "user:1"}, `set "user:1"`},
		{kv.Event{Op: kv.OpResync, Err: errBoom}, "resync: boom"},
		{kv.Event{Op: kv.Op(200)}, "Op(200)"},
	}
	for _, tt := range tests {
		if got := tt.e.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.e, got, tt.want)
		}
	}
}

func TestRetryable(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{kv.ErrUnavailable, true},
		{fmt.Errorf("backend: get %q: %w: %w", "k", kv.ErrFull, errors.New("OOM")), true},
		{fmt.Errorf("x: %w", kv.ErrUnavailable), true},
		{kv.ErrPermission, false},
		{kv.ErrNotFound, false},
		{kv.ErrConflict, false},
		{kv.ErrWrongType, false},
		{kv.ErrInvalid, false},
		{kv.ErrNotSupported, false},
		{kv.ErrClosed, false},
		{context.DeadlineExceeded, false},
		{errors.New("other"), false},
		{nil, false},
	} {
		if got := kv.Retryable(tt.err); got != tt.want {
			t.Errorf("Retryable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
