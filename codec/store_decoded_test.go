package codec_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/codec"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// Typed reads over rueidiskv's cache, which keeps the values a Store
// decoded beside the cached bytes (store_decoded.go).

// nameDecodes counts the decodes of a countedName.
var nameDecodes atomic.Int64

// countedName is a string that counts how often it is decoded.
type countedName string

func (n *countedName) UnmarshalText(text []byte) error {
	nameDecodes.Add(1)
	*n = countedName(text)
	return nil
}

// decodedUser is a small struct without references, whose decodes count.
type decodedUser struct {
	ID    int64       `json:"id"`
	Name  countedName `json:"name"`
	Score float64     `json:"score"`
}

// refsUser holds references: a Store must never share a decoded one.
type refsUser struct {
	ID    int64          `json:"id"`
	Tags  []string       `json:"tags"`
	Attrs map[string]int `json:"attrs"`
	Best  *int           `json:"best"`
}

// idOnly reads the id of a decodedUser's JSON as a float.
type idOnly struct {
	ID float64 `json:"id"`
}

// validatedUsersOK makes every validatedUser valid, or none.
var validatedUsersOK atomic.Bool

// validatedUser is valid while validatedUsersOK is set; Validate also
// upper-cases its name.
type validatedUser struct {
	Name string `json:"name"`
}

func (u *validatedUser) Validate() error {
	if !validatedUsersOK.Load() {
		return errors.New("not now")
	}
	u.Name = strings.ToUpper(u.Name)
	return nil
}

// decodedFixture returns a cached rueidiskv store over a server of its own,
// a context, and a function that writes a key from another client.
func decodedFixture(t *testing.T) (*rueidiskv.Store, context.Context, func(key, value string)) {
	t.Helper()
	srv := redistest.Start(t, nil)
	s := openRueidis(t, srv, nil)
	other := openRueidis(t, srv, &rueidiskv.Options{DisableCache: true})
	ctx := backendtest.Context(t)
	return s, ctx, func(key, value string) {
		t.Helper()
		if err := other.Set(ctx, key, []byte(value)); err != nil {
			t.Fatal(err)
		}
	}
}

// mustGet returns the value of key in s, which must be found.
func mustGet[T any](ctx context.Context, t *testing.T, s *codec.Store[T], key string) T {
	t.Helper()
	v, found, err := s.Get(ctx, key)
	if err != nil || !found {
		t.Fatalf("Get(%q) = %+v, %v, %v; want a value", key, v, found, err)
	}
	return v
}

func TestDecodedValuesReused(t *testing.T) {
	kvs, ctx, _ := decodedFixture(t)
	s := codec.New[decodedUser](kvs, nil)
	want := decodedUser{ID: 1, Name: "ana", Score: 2.5}
	if err := s.Set(ctx, "u", want); err != nil {
		t.Fatal(err)
	}
	before := nameDecodes.Load()
	for i := range 5 {
		if got := mustGet(ctx, t, s, "u"); got != want {
			t.Fatalf("Get %d = %+v, want %+v", i, got, want)
		}
	}
	if n := nameDecodes.Load() - before; n != 1 {
		t.Errorf("5 Gets of a cached value decoded it %d times, want once", n)
	}
	// Another Store of the same type and options shares the decoded value.
	if got := mustGet(ctx, t, codec.New[decodedUser](kvs, nil), "u"); got != want {
		t.Errorf("Get through a second Store = %+v, want %+v", got, want)
	}
	if n := nameDecodes.Load() - before; n != 1 {
		t.Errorf("a second Store of the same type decoded the value again (%d decodes, want 1)", n)
	}
}

// TestDecodedValuesOtherClientsWrites: a decoded value goes with its bytes:
// once another client's write is invalidated, a Get returns the new value,
// and before that, only the old one; a write through the store is seen at
// once.
func TestDecodedValuesOtherClientsWrites(t *testing.T) {
	kvs, ctx, write := decodedFixture(t)
	s := codec.New[decodedUser](kvs, nil)
	const key = "other"
	for i := range 200 {
		old := decodedUser{ID: int64(i), Name: countedName(fmt.Sprint("old-", i))}
		if err := s.Set(ctx, key, old); err != nil {
			t.Fatal(err)
		}
		for range 2 { // the second Get reuses the decoded value
			if got := mustGet(ctx, t, s, key); got != old {
				t.Fatalf("Get after Set = %+v, want %+v", got, old)
			}
		}
		next := decodedUser{ID: int64(i), Name: countedName(fmt.Sprint("new-", i))}
		write(key, fmt.Sprintf(`{"id": %d, "name": "%s", "score": 0.0}`, next.ID, next.Name))
		written := time.Now()
		for {
			got := mustGet(ctx, t, s, key)
			if got == next {
				break
			}
			if got != old {
				t.Fatalf("write %d: Get = %+v, want %+v or %+v", i, got, old, next)
			}
			if time.Since(written) > 10*time.Second { // a hang, not a speed, bound
				t.Fatalf("write %d: the store still serves %+v ten seconds after another client wrote %+v", i, old, next)
			}
			time.Sleep(100 * time.Microsecond) // let the connection's reader deliver the invalidation
		}
	}
}

// TestDecodedValuesNotShared: a T with references is decoded on every Get,
// so that changing what one Get returned does not change the next.
func TestDecodedValuesNotShared(t *testing.T) {
	kvs, ctx, _ := decodedFixture(t)
	s := codec.New[refsUser](kvs, nil)
	best := 7
	if err := s.Set(ctx, "refs", refsUser{ID: 1, Tags: []string{"a"}, Attrs: map[string]int{"x": 1}, Best: &best}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		got := mustGet(ctx, t, s, "refs")
		if len(got.Tags) != 1 || got.Tags[0] != "a" || got.Attrs["x"] != 1 || len(got.Attrs) != 1 || got.Best == nil || *got.Best != 7 {
			t.Fatalf("Get %d = %+v: a change to an earlier result shows", i, got)
		}
		got.Tags[0] = "changed"
		got.Attrs["x"] = 100
		got.Attrs["y"] = 2
		*got.Best = 0
	}
}

// TestDecodedValuesTags: Stores of different types, or of different codec
// options, over one key, each get their own decoding.
func TestDecodedValuesTags(t *testing.T) {
	kvs, ctx, write := decodedFixture(t)
	users := codec.New[decodedUser](kvs, nil)
	ids := codec.New[idOnly](kvs, nil)
	strict := codec.New[idOnly](kvs, &codec.Options[idOnly]{Codec: codec.JSON[idOnly](&codec.JSONOptions{Strict: true})})
	write("k", `{"id": 3, "name": "bo", "score": 1.5}`)
	for i := range 3 {
		if got, want := mustGet(ctx, t, users, "k"), (decodedUser{ID: 3, Name: "bo", Score: 1.5}); got != want {
			t.Fatalf("round %d: Store[decodedUser].Get = %+v, want %+v", i, got, want)
		}
		if got, want := mustGet(ctx, t, ids, "k"), (idOnly{ID: 3}); got != want {
			t.Fatalf("round %d: Store[idOnly].Get = %+v, want %+v", i, got, want)
		}
		// The strict codec refuses the unknown fields, although a
		// lenient Store of the same type decoded the bytes.
		var de *codec.DeserializationError
		if _, _, err := strict.Get(ctx, "k"); !errors.As(err, &de) || !errors.Is(err, codec.ErrValidation) {
			t.Fatalf("round %d: strict Get = %v, want a DeserializationError matching ErrValidation", i, err)
		}
	}
}

// TestDecodedValuesValidated: Validate runs on every Get, on the value it
// returns, although the decoded value is kept.
func TestDecodedValuesValidated(t *testing.T) {
	kvs, ctx, _ := decodedFixture(t)
	s := codec.New[validatedUser](kvs, nil)
	validatedUsersOK.Store(true)
	t.Cleanup(func() { validatedUsersOK.Store(true) })
	if err := s.Set(ctx, "v", validatedUser{Name: "ana"}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if got := mustGet(ctx, t, s, "v"); got.Name != "ANA" {
			t.Fatalf("Get = %+v, want the name Validate upper-cased", got)
		}
	}
	validatedUsersOK.Store(false)
	if _, found, err := s.Get(ctx, "v"); found || !errors.Is(err, codec.ErrValidation) {
		t.Fatalf("Get of a value now invalid = %v, %v; want a validation failure", found, err)
	}
	validatedUsersOK.Store(true)
	if got := mustGet(ctx, t, s, "v"); got.Name != "ANA" {
		t.Fatalf("Get = %+v, want the name Validate upper-cased", got)
	}
}

// TestDecodedValuesErrors: what cannot be decoded fails every Get, a
// missing key is not found, and a key of another type is an error.
func TestDecodedValuesErrors(t *testing.T) {
	kvs, ctx, write := decodedFixture(t)
	s := codec.New[decodedUser](kvs, nil)
	write("bad", `{"id": `)
	for range 2 {
		var de *codec.DeserializationError
		if _, found, err := s.Get(ctx, "bad"); found || !errors.As(err, &de) || de.Key != "bad" {
			t.Fatalf("Get of bad JSON = %v, %v; want a DeserializationError", found, err)
		}
	}
	write("bad", `{"id": 4, "name": "fixed", "score": 0.0}`)
	backendtest.Eventually(t, "reading the fixed value", func() error {
		_, _, err := s.Get(ctx, "bad")
		return err
	})
	for range 2 {
		if v, found, err := s.Get(ctx, "absent"); found || err != nil || v != (decodedUser{}) {
			t.Fatalf("Get of a missing key = %+v, %v, %v; want not found", v, found, err)
		}
	}
	if _, err := kvs.Append(ctx, "list", []byte("x")); err != nil {
		t.Fatal(err)
	}
	var oe *codec.OperationError
	if _, _, err := s.Get(ctx, "list"); !errors.As(err, &oe) || !errors.Is(err, kv.ErrWrongType) {
		t.Fatalf("Get of a history = %v, want an OperationError wrapping kv.ErrWrongType", err)
	}
	if _, _, err := s.Get(ctx, ""); !errors.Is(err, kv.ErrInvalid) {
		t.Fatalf("Get of an empty key = %v, want kv.ErrInvalid", err)
	}
	_ = kvs.Close()
	var ce *codec.ConnectionError
	if _, _, err := s.Get(ctx, "bad"); !errors.As(err, &ce) || !errors.Is(err, kv.ErrClosed) {
		t.Fatalf("Get from a closed store = %v, want a ConnectionError wrapping kv.ErrClosed", err)
	}
}
