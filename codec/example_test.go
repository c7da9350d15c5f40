package codec_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/codec"
	"github.com/cledar/storekit/kv"
)

// User is the model of the examples, as in the Python original's README.
type User struct {
	UserID int    `json:"user_id"`
	Name   string `json:"name"`
}

// The synchronous usage of the Python original's README. On Redis, the store
// would be goredis.New(redis.NewClient(&redis.Options{Addr: "localhost:6379"}), nil)
// or rueidiskv.New(client, nil); everything else is the same.
func ExampleNew() {
	ctx := context.Background()
	store := memory.New(nil)
	defer store.Close()

	users := codec.New[User](store, nil)

	// Health check.
	fmt.Println("alive:", users.IsAlive(ctx))

	// Write a typed value (serialized to JSON) and read it back.
	if err := users.Set(ctx, "user:1", User{UserID: 1, Name: "Alice"}); err != nil {
		panic(err)
	}
	user, found, err := users.Get(ctx, "user:1")
	fmt.Printf("%+v %v %v\n", user, found, err)

	// Raw access: what Redis holds, as Python's json.dumps writes it.
	raw, _, _ := users.GetRaw(ctx, "user:1")
	fmt.Println(string(raw))

	// A string is stored verbatim.
	greetings := codec.New[string](store, nil)
	_ = greetings.Set(ctx, "greeting", "hello")
	raw, _, _ = greetings.GetRaw(ctx, "greeting")
	fmt.Println(string(raw))

	// List keys by pattern and bulk-fetch.
	_ = users.Set(ctx, "user:2", User{UserID: 2, Name: "Bob"})
	keys, _ := users.Keys(ctx, "user:*")
	bulk, _ := users.GetMulti(ctx, keys)
	for _, r := range bulk {
		fmt.Printf("%s %+v\n", r.Key, r.Value)
	}

	// Delete.
	deleted, _ := greetings.Delete(ctx, "greeting")
	fmt.Println("deleted:", deleted)

	// A missing key is not an error.
	_, found, err = users.Get(ctx, "user:3")
	fmt.Println(found, err)
	// Output:
	// alive: true
	// {UserID:1 Name:Alice} true <nil>
	// {"user_id": 1, "name": "Alice"}
	// hello
	// user:1 {UserID:1 Name:Alice}
	// user:2 {UserID:2 Name:Bob}
	// deleted: true
	// false <nil>
}

// The Python original's asynchronous service: in Go, one Store shared by
// goroutines, here run with an errgroup (10 concurrent set + get_raw pairs,
// as in the original's integration test).
func Example_concurrent() {
	store := memory.New(nil)
	defer store.Close()
	values := codec.New[string](store, nil)

	g, ctx := errgroup.WithContext(context.Background())
	got := make([]string, 10)
	for i := range got {
		g.Go(func() error {
			key := fmt.Sprintf("concurrent:%d", i)
			if err := values.Set(ctx, key, fmt.Sprintf("value-%d", i)); err != nil {
				return err
			}
			raw, _, err := values.GetRaw(ctx, key)
			got[i] = string(raw)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		panic(err)
	}
	fmt.Println(got)
	// Output:
	// [value-0 value-1 value-2 value-3 value-4 value-5 value-6 value-7 value-8 value-9]
}

// The Python original's FastAPI example as a net/http service: GET
// /users/{id} and POST /users over one Store.
func Example_httpService() {
	store := memory.New(nil) // the service's store: opened at startup, closed at shutdown
	defer store.Close()
	users := codec.New[User](store, nil)

	writeJSON := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.Atoi(r.PathValue("id"))
		if err != nil {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": "user_id must be an integer"})
			return
		}
		user, found, err := users.Get(r.Context(), fmt.Sprintf("user:%d", id))
		switch {
		case err != nil:
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "storage failure"})
		case !found:
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "User not found"})
		default:
			writeJSON(w, http.StatusOK, user)
		}
	})
	mux.HandleFunc("POST /users", func(w http.ResponseWriter, r *http.Request) {
		var user User
		if err := json.NewDecoder(r.Body).Decode(&user); err != nil {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": "invalid user"})
			return
		}
		if err := users.Set(r.Context(), fmt.Sprintf("user:%d", user.UserID), user); err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "storage failure"})
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"status": "created", "user": user})
	})

	srv := httptest.NewServer(mux)
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()
	show := func(resp *http.Response, err error) {
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Println(resp.StatusCode, strings.TrimSpace(string(body)))
	}
	show(client.Post(srv.URL+"/users", "application/json", strings.NewReader(`{"user_id": 1, "name": "Alice"}`)))
	show(client.Get(srv.URL + "/users/1"))
	show(client.Get(srv.URL + "/users/2"))
	show(client.Get(srv.URL + "/users/abc"))
	// Output:
	// 201 {"status":"created","user":{"user_id":1,"name":"Alice"}}
	// 200 {"user_id":1,"name":"Alice"}
	// 404 {"error":"User not found"}
	// 422 {"error":"user_id must be an integer"}
}

// Bulk reads tolerate per-key failures: each key has its own result, a
// value, a miss, or a failed value (the Python original's FailedValue).
func ExampleStore_GetMulti() {
	ctx := context.Background()
	store := memory.New(nil)
	defer store.Close()
	users := codec.New[User](store, nil)

	_ = users.Set(ctx, "user:1", User{UserID: 1, Name: "Alice"})
	_ = store.Set(ctx, "user:2", []byte(`{"user_id": "two"}`)) // written by someone else
	_ = store.Set(ctx, "user:4", []byte(`{broken`))

	results, err := users.GetMulti(ctx, []string{"user:1", "user:2", "user:3", "user:4"})
	if err != nil {
		panic(err) // the whole read failed
	}
	for _, r := range results {
		switch {
		case r.Err != nil:
			fmt.Println(r.Key, "failed:", r.Err)
		case !r.Found:
			fmt.Println(r.Key, "missing")
		default:
			fmt.Printf("%s %+v\n", r.Key, r.Value)
		}
	}
	// Output:
	// user:1 {UserID:1 Name:Alice}
	// user:2 failed: Validation failed for key 'user:2' and model 'User': json: cannot unmarshal string into Go struct field User.user_id of type int
	// user:3 missing
	// user:4 failed: Failed to decode JSON for key 'user:4': invalid character 'b' looking for beginning of object key string
}

// A failed call names its operation: an [*codec.OperationError] holds an
// [codec.Operation], and wraps the kv error beneath.
func ExampleOperationError() {
	ctx := context.Background()
	store := memory.New(nil)
	defer store.Close()
	users := codec.New[User](store, nil)

	// "user:1" holds a history, not a plain value.
	_, _ = store.Append(ctx, "user:1", []byte(`{"user_id": 1, "name": "Alice"}`))

	_, _, err := users.Get(ctx, "user:1")
	var opErr *codec.OperationError
	if errors.As(err, &opErr) && opErr.Op == codec.OperationGet {
		fmt.Println("get failed:", opErr.Key, errors.Is(err, kv.ErrWrongType))
	}
	fmt.Println(err)
	// Output:
	// get failed: user:1 true
	// Failed to get key 'user:1': memory: get "user:1": kv: wrong kind of value for key
}

// Account has a Validate method, which every read calls after decoding.
type Account struct {
	Email string `json:"email"`
}

// Validate implements codec.Validator.
func (a Account) Validate() error {
	if !strings.Contains(a.Email, "@") {
		return errors.New("email must contain @")
	}
	return nil
}

func ExampleValidator() {
	ctx := context.Background()
	store := memory.New(nil)
	defer store.Close()
	accounts := codec.New[Account](store, nil)

	_ = store.Set(ctx, "account:1", []byte(`{"email": "nobody"}`))
	_, _, err := accounts.Get(ctx, "account:1")
	fmt.Println(err)

	var de *codec.DeserializationError
	fmt.Println(errors.As(err, &de), de.Key, de.Model, errors.Is(err, codec.ErrValidation))

	// An invalid value is not written either.
	err = accounts.Set(ctx, "account:2", Account{Email: "nobody"})
	fmt.Println(err)
	var se *codec.SerializationError
	_, found, _ := accounts.GetRaw(ctx, "account:2")
	fmt.Println(errors.As(err, &se), errors.Is(err, codec.ErrValidation), found)
	// Output:
	// Validation failed for key 'account:1' and model 'Account': email must contain @
	// true account:1 Account true
	// Validation failed for key 'account:2' and model 'Account': email must contain @
	// true true false
}

// JSON writes what Python's json.dumps writes: spaces after separators,
// non-ASCII characters escaped, strings and numbers as plain text.
func ExampleJSON() {
	type Profile struct {
		Name  string   `json:"name"`
		Tags  []string `json:"tags"`
		Score float64  `json:"score"`
	}
	b, _ := codec.JSON[Profile](nil).Encode(Profile{Name: "Zoë", Tags: []string{"a", "b"}, Score: 0.5})
	fmt.Println(string(b))
	b, _ = codec.JSON[float64](nil).Encode(100)
	fmt.Println(string(b))

	strict := codec.JSON[Profile](&codec.JSONOptions{Strict: true})
	_, err := strict.Decode([]byte(`{"name": "Zoë", "admin": true}`))
	fmt.Println(err)
	// Output:
	// {"name": "Zo\u00eb", "tags": ["a", "b"], "score": 0.5}
	// 100.0
	// json: unknown field "admin"
}

func ExampleTime() {
	type Event struct {
		At   codec.Time `json:"at"`
		Name string     `json:"name"`
	}
	launch := Event{At: codec.Time{Time: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)}, Name: "launch"}
	b, _ := codec.JSON[Event](nil).Encode(launch)
	fmt.Println(string(b))

	// A naive time (a Python datetime without tzinfo) has no offset.
	naive := codec.Time{Time: time.Date(2025, 1, 1, 12, 0, 0, 250000000, codec.Naive)}
	text, _ := naive.MarshalText()
	fmt.Println(string(text))

	// Reading takes isoformat and RFC 3339.
	for _, s := range []string{"2025-01-01T12:00:00.5+02:00", "2025-01-01T12:00:00Z", "2025-01-01 12:00:00"} {
		var t codec.Time
		if err := t.UnmarshalText([]byte(s)); err != nil {
			panic(err)
		}
		fmt.Println(t.Format(time.RFC3339Nano), t.Location() == codec.Naive)
	}
	// Output:
	// {"at": "2025-01-01T12:00:00+00:00", "name": "launch"}
	// 2025-01-01T12:00:00.250000
	// 2025-01-01T12:00:00.5+02:00 false
	// 2025-01-01T12:00:00Z false
	// 2025-01-01T12:00:00Z true
}

// Numbers read into an interface (here the values of a map[string]any) are
// json.Numbers that keep the exact text another service wrote: an integer
// beyond 2^53 keeps every digit and a float stays a float, so a value read
// and written back is what was read. Floats are written as Python writes
// them, with NaN and the infinities as json.dumps writes them.
func ExampleJSON_numbers() {
	c := codec.JSON[map[string]any](nil)
	v, err := c.Decode([]byte(`{"id": 9223372036854775807, "ratio": 2.0, "score": NaN}`))
	if err != nil {
		panic(err)
	}
	id := v["id"].(json.Number)
	n, _ := id.Int64()
	fmt.Printf("%T %d\n", id, n)
	b, _ := c.Encode(v)
	fmt.Println(string(b))

	type Reading struct {
		Value float64   `json:"value"`
		Peaks []float32 `json:"peaks"`
	}
	b, _ = codec.JSON[Reading](nil).Encode(Reading{Value: 2, Peaks: []float32{1e16, 1e-5, float32(math.Inf(1))}})
	fmt.Println(string(b))
	// Output:
	// json.Number 9223372036854775807
	// {"id": 9223372036854775807, "ratio": 2.0, "score": NaN}
	// {"value": 2.0, "peaks": [1e+16, 1e-05, Infinity]}
}

// DisallowNaN refuses NaN and the infinities, which JSON (RFC 8259) does not
// have, on both sides: as Python's json.dumps(..., allow_nan=False) on
// writes, and on reads of what another service wrote.
func ExampleJSONOptions_disallowNaN() {
	c := codec.JSON[map[string]float64](&codec.JSONOptions{DisallowNaN: true})
	_, err := c.Encode(map[string]float64{"score": math.Inf(1)})
	fmt.Println(err)
	_, err = c.Decode([]byte(`{"score": NaN}`))
	fmt.Println(err)

	var nf *codec.NonFiniteError
	fmt.Println(errors.As(err, &nf), nf.Value, nf.Offset)
	// Output:
	// codec: Infinity is not allowed (JSONOptions.DisallowNaN)
	// codec: NaN is not allowed (JSONOptions.DisallowNaN) at offset 10
	// true NaN 10
}

// JSON's codec is a Comparer: two documents are the same value when they
// hold the same JSON, whatever their spacing and key order, with an integer
// never equal to a float, as Python's json.loads reads them.
func ExampleComparer() {
	c := codec.JSON[map[string]any](nil).(codec.Comparer)
	fmt.Println(c.Equal([]byte(`{"b": [1, 2.5], "a": "\u00e9"}`), []byte(`{"a":"é","b":[1,2.5]}`)))
	fmt.Println(c.Equal([]byte(`{"n": 1}`), []byte(`{"n": 1.0}`)))
	// Output:
	// true
	// false
}
