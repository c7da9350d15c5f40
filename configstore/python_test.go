package configstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cledar/storekit/backends/goredis"
	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/codec"
	"github.com/cledar/storekit/configstore"
	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// A Python service (the original RedisConfigStore) and configstore share
// configuration in Redis. testdata/python/make_fixtures.py runs the Python
// store's write path and writes fixtures/layout.json, the Redis keys it
// leaves; the tests below load those keys into a store and read them with
// configstore, and do the same operations with configstore and have the
// script check the keys Go leaves.
const (
	pyScript     = "testdata/python/make_fixtures.py"
	pyFixtureDir = "testdata/python/fixtures"
	pyLayoutName = "layout.json"

	// The prefixes of the script's two stores, one per model.
	pyExamplePrefix = "example:"
	pyRichPrefix    = "rich:"

	// pyUnorderedKey is the one case that is not byte-identical, the
	// script's NOT_BYTE_IDENTICAL: Python wrote a dict's keys in insertion
	// order, Go writes them sorted.
	pyUnorderedKey    = pyExamplePrefix + "unordered"
	pyUnorderedPython = `"data": {"ratio": 2.0, "limit": 10, "feature": true}`
	pyUnorderedGo     = `"data": {"feature": true, "limit": 10, "ratio": 2.0}`
)

// pyExampleConfig is the Python example's ExampleConfig.
type pyExampleConfig struct {
	Name  string         `json:"name"`
	Index int            `json:"index"`
	Data  map[string]any `json:"data"`
}

// pyRichConfig is the script's RichConfig. Empty lists and dicts must be
// non-nil to be written as [] and {} (a nil one is null, which Python
// would read as None). Its limits dict holds ints and floats, which a
// map[string]any keeps apart.
type pyRichConfig struct {
	Title     string         `json:"title"`
	Enabled   bool           `json:"enabled"`
	Ratio     float64        `json:"ratio"`
	Threshold *float64       `json:"threshold"`
	Owner     *string        `json:"owner"`
	Tags      []string       `json:"tags"`
	Limits    map[string]any `json:"limits"`
	Nested    map[string]any `json:"nested"`
}

func pyPtr[T any](v T) *T { return &v }

// pyExampleWant returns the versions of the script's example: keys, oldest
// first, as Go reads them (JSON numbers in a map[string]any are
// json.Numbers).
func pyExampleWant() map[string][]pyExampleConfig {
	return map[string][]pyExampleConfig{
		"app": {
			{Name: "app", Index: 0, Data: map[string]any{}},
			{Name: "app", Index: 1, Data: map[string]any{"feature": true, "limit": json.Number("10")}},
			{Name: "app", Index: 2, Data: map[string]any{"feature": false, "limit": json.Number("20"), "owners": []any{"ana", "bo"}}},
		},
		"single": {{Name: "single", Index: 7, Data: map[string]any{"mode": "fast"}}},
		"legacy": {{Name: "legacy", Index: 1, Data: map[string]any{"source": "SET"}}},
		"converted": {
			{Name: "converted", Index: 1, Data: map[string]any{"source": "SET"}},
			{Name: "converted", Index: 2, Data: map[string]any{"source": "update"}},
		},
		"unordered": {{Name: "unordered", Index: 3, Data: map[string]any{
			"ratio": json.Number("2.0"), "limit": json.Number("10"), "feature": true,
		}}},
		"unicode": {
			{Name: "Zażółć gęślą jaźń", Index: 1, Data: map[string]any{"city": "Kraków"}},
			{Name: "Zażółć gęślą jaźń \U0001F680", Index: 2, Data: map[string]any{
				"city": "Kraków", "greeting": "こんにちは", "quote": "\"q\" \\ \t\n <>&", "ключ": "значение",
			}},
		},
	}
}

// pyRichWant returns the versions of the script's rich: keys.
func pyRichWant() map[string][]pyRichConfig {
	return map[string][]pyRichConfig{
		"service": {
			{Title: "service", Ratio: 0.5, Tags: []string{}, Limits: map[string]any{}, Nested: map[string]any{}},
			{
				Title:     "Usługa \u2014 café \u2615 \U0001F680",
				Enabled:   true,
				Ratio:     0.25,
				Threshold: pyPtr(-12.75),
				Owner:     pyPtr("Zoë"),
				Tags:      []string{"α", "β", "emoji \U0001F389"},
				Limits:    map[string]any{"burst": json.Number("5"), "rate": json.Number("2.5"), "timeout": json.Number("0.001")},
				Nested: map[string]any{
					"a":     map[string]any{"b": []any{json.Number("1"), json.Number("2.5"), "x", nil, true, false, map[string]any{"c": []any{}}}},
					"empty": map[string]any{},
					"pi":    json.Number("3.141592653589793"),
					"z":     nil,
				},
			},
		},
		"float_integral": {{Title: "integral float", Enabled: true, Ratio: 1.0, Tags: []string{}, Limits: map[string]any{}, Nested: map[string]any{}}},
	}
}

// pyKey is one Redis key of a layout file: a list (RPUSH order, newest
// last) or a plain string set by SET.
type pyKey struct {
	Type    string   `json:"type"`
	Entries []string `json:"entries,omitempty"`
	Value   *string  `json:"value,omitempty"`
}

// versions returns the key's versions as the Python store counts them: the
// list's entries, or the plain string as version 1.
func (k pyKey) versions() []string {
	if k.Type == "string" && k.Value != nil {
		return []string{*k.Value}
	}
	return k.Entries
}

// pyReadLayout reads a layout file written by the script.
func pyReadLayout(t *testing.T, path string) map[string]pyKey {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var layout map[string]pyKey
	if err := dec.Decode(&layout); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for key, k := range layout {
		if !(k.Type == "list" && len(k.Entries) > 0 && k.Value == nil || k.Type == "string" && k.Value != nil && k.Entries == nil) {
			t.Fatalf("%s: key %q is neither a list of entries nor a string: %+v", path, key, k)
		}
	}
	return layout
}

// pyFixture returns the committed layout, after checking that it holds the
// keys, and the number of versions, that pyExampleWant and pyRichWant know.
func pyFixture(t *testing.T) map[string]pyKey {
	t.Helper()
	layout := pyReadLayout(t, filepath.Join(pyFixtureDir, pyLayoutName))
	known := map[string]int{}
	for k, vs := range pyExampleWant() {
		known[pyExamplePrefix+k] = len(vs)
	}
	for k, vs := range pyRichWant() {
		known[pyRichPrefix+k] = len(vs)
	}
	for key, k := range layout {
		if n, ok := known[key]; !ok || n != len(k.versions()) {
			t.Errorf("fixture key %q has %d versions; the Go test expects %d (0: unknown key)", key, len(k.versions()), n)
		}
	}
	for key := range known {
		if _, ok := layout[key]; !ok {
			t.Errorf("the Go test expects key %q, the fixture has none: run python3 %s write", key, pyScript)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return layout
}

// pyPython returns the path of python3. Without one the test is skipped,
// or fails with STOREKIT_REQUIRE_REDIS=1, which CI sets and where it
// installs python3.
func pyPython(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv(redistest.EnvRequire) == "1" {
			t.Fatalf("python3 is not on PATH (%s=1 requires it)", redistest.EnvRequire)
		}
		t.Skipf("SKIPPED, NO PYTHON: python3 is not on PATH (set %s=1 to make this a failure)", redistest.EnvRequire)
	}
	return p
}

func pyCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// A pyRaw is a kv.Store and raw access to it, as a Python service (or
// redis-cli) has: keys are layout keys, which ns prefixes in the store.
type pyRaw struct {
	store kv.Store
	ns    string
	// rpush appends entries to a list, as the Python store's update does.
	rpush func(t *testing.T, key string, entries ...string)
	// set writes a plain string (SET).
	set func(t *testing.T, key, value string)
	// dump returns the key as Redis holds it; Type is "none" when missing.
	dump func(t *testing.T, key string) pyKey
	// keys returns the layout keys present, sorted.
	keys func(t *testing.T) []string
}

func pyMust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// pyMemory is the in-memory store: a list is a history (Append), a plain
// string a value (Set).
func pyMemory(t *testing.T) pyRaw {
	s := memory.New(nil)
	t.Cleanup(func() { _ = s.Close() })
	ctx := pyCtx(t)
	return pyRaw{
		store: s,
		rpush: func(t *testing.T, key string, entries ...string) {
			for _, e := range entries {
				_, err := s.Append(ctx, key, []byte(e))
				pyMust(t, err)
			}
		},
		set: func(t *testing.T, key, value string) { pyMust(t, s.Set(ctx, key, []byte(value))) },
		dump: func(t *testing.T, key string) pyKey {
			v, err := s.Get(ctx, key)
			switch {
			case err == nil:
				return pyKey{Type: "string", Value: pyPtr(string(v))}
			case errors.Is(err, kv.ErrNotFound):
				return pyKey{Type: "none"}
			case !errors.Is(err, kv.ErrWrongType):
				t.Fatal(err)
			}
			h, err := s.History(ctx, key)
			pyMust(t, err)
			k := pyKey{Type: "list", Entries: []string{}}
			for _, e := range h {
				k.Entries = append(k.Entries, string(e))
			}
			return k
		},
		keys: func(t *testing.T) []string {
			keys, err := kv.Keys(ctx, s, "*")
			pyMust(t, err)
			return keys
		},
	}
}

// pyRedis is a real Redis through backends/goredis; the raw access uses
// redistest's own client, with plain RPUSH, SET, TYPE, LRANGE and GET, as
// redis-py does. Keys live under a namespace of the test's own, so that a
// shared server (STOREKIT_REDIS_ADDR) is safe; they are deleted at the end.
func pyRedis(t *testing.T) pyRaw {
	srv := redistest.New(t)
	ns := fmt.Sprintf("storekit-pytest:%d:", time.Now().UnixNano())
	do := func(t *testing.T, args ...string) any {
		t.Helper()
		v, err := srv.Do(args...)
		if err != nil {
			t.Fatalf("redis %s: %v", strings.Join(args, " "), err)
		}
		return v
	}
	strs := func(t *testing.T, v any) []string {
		t.Helper()
		list, ok := v.([]any)
		if !ok {
			t.Fatalf("reply %#v is not an array", v)
		}
		out := make([]string, len(list))
		for i, x := range list {
			if out[i], ok = x.(string); !ok {
				t.Fatalf("reply element %#v is not a string", x)
			}
		}
		return out
	}
	raw := pyRaw{
		ns: ns,
		rpush: func(t *testing.T, key string, entries ...string) {
			do(t, append([]string{"RPUSH", ns + key}, entries...)...)
		},
		set: func(t *testing.T, key, value string) { do(t, "SET", ns+key, value) },
		dump: func(t *testing.T, key string) pyKey {
			switch typ := do(t, "TYPE", ns+key); typ {
			case "list":
				return pyKey{Type: "list", Entries: strs(t, do(t, "LRANGE", ns+key, "0", "-1"))}
			case "string":
				v, ok := do(t, "GET", ns+key).(string)
				if !ok {
					t.Fatalf("GET %s: not a string", ns+key)
				}
				return pyKey{Type: "string", Value: &v}
			default:
				return pyKey{Type: fmt.Sprint(typ)}
			}
		},
	}
	raw.keys = func(t *testing.T) []string {
		keys := strs(t, do(t, "KEYS", ns+"*"))
		for i, k := range keys {
			keys[i] = strings.TrimPrefix(k, ns)
		}
		slices.Sort(keys)
		return keys
	}
	t.Cleanup(func() {
		if keys, err := srv.Do("KEYS", ns+"*"); err == nil {
			for _, k := range keys.([]any) {
				_, _ = srv.Do("DEL", k.(string))
			}
		}
	})
	s := goredis.New(redis.NewClient(&redis.Options{Addr: srv.Addr(), Password: srv.Password()}),
		&goredis.Options{CloseClient: true})
	t.Cleanup(func() { _ = s.Close() })
	raw.store = s
	return raw
}

// pyBackends are the stores the tests run on.
var pyBackends = []struct {
	name string
	new  func(t *testing.T) pyRaw
}{
	{"memory", pyMemory},
	{"redis", pyRedis},
}

// pyOpen returns a configstore of T over raw, with the prefix of one of the
// script's stores, closed at cleanup.
func pyOpen[T any](t *testing.T, raw pyRaw, prefix string) *configstore.Store[T] {
	t.Helper()
	s, err := configstore.New(pyCtx(t), raw.store, &configstore.Options[T]{Prefix: raw.ns + prefix})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// pyLoad writes layout into raw exactly as the Python store left it in
// Redis: RPUSH of the entries, in order, or SET of the plain string.
func pyLoad(t *testing.T, raw pyRaw, layout map[string]pyKey) {
	t.Helper()
	for key, k := range layout {
		if k.Type == "list" {
			raw.rpush(t, key, k.Entries...)
		} else {
			raw.set(t, key, *k.Value)
		}
	}
	pyCheckRaw(t, raw, layout)
}

// pyCheckRaw checks that raw holds exactly the keys of layout.
func pyCheckRaw(t *testing.T, raw pyRaw, layout map[string]pyKey) {
	t.Helper()
	keys := raw.keys(t)
	if want := slices.Sorted(maps.Keys(layout)); !slices.Equal(keys, want) {
		t.Fatalf("keys %q, want %q", keys, want)
	}
	for _, key := range keys {
		if got := raw.dump(t, key); !reflect.DeepEqual(got, layout[key]) {
			t.Errorf("%s: Redis holds %s, want %s", key, pyShow(got), pyShow(layout[key]))
		}
	}
}

func pyShow(k pyKey) string {
	b, _ := json.Marshal(k)
	return string(b)
}

// pyVerify reads every key of want with s, whose prefix is prefix, and
// checks it against the layout as the Python store reads it: the latest
// version is the last entry, the version is the number of entries (LLEN,
// or 1 for a plain string).
func pyVerify[T any](t *testing.T, s *configstore.Store[T], layout map[string]pyKey, prefix string, want map[string][]T) {
	t.Helper()
	ctx := pyCtx(t)
	for _, key := range slices.Sorted(maps.Keys(want)) {
		versions := want[key]
		n := int64(len(layout[prefix+key].versions()))
		if n != int64(len(versions)) {
			t.Fatalf("%s: the fixture has %d versions, want %d", key, n, len(versions))
		}
		latest := versions[len(versions)-1]
		v, version, err := s.Fetch(ctx, key)
		if err != nil || version != n || !reflect.DeepEqual(v, latest) {
			t.Errorf("Fetch(%q) = %#v, %d, %v; want %#v, %d", key, v, version, err, latest, n)
		}
		if got, err := s.Version(ctx, key); err != nil || got != n {
			t.Errorf("Version(%q) = %d, %v; want %d", key, got, err, n)
		}
		if got, ok := s.CachedVersion(key); !ok || got != n {
			t.Errorf("CachedVersion(%q) = %d, %v; want %d", key, got, ok, n)
		}
		if got, version, ok := s.Latest(key); !ok || version != n || !reflect.DeepEqual(got, latest) {
			t.Errorf("Latest(%q) = %#v, %d, %v; want %#v, %d", key, got, version, ok, latest, n)
		}
		for i, w := range versions {
			if got, err := s.At(ctx, key, int64(i+1)); err != nil || !reflect.DeepEqual(got, w) {
				t.Errorf("At(%q, %d) = %#v, %v; want %#v", key, i+1, got, err, w)
			}
		}
		if _, err := s.At(ctx, key, n+1); !errors.Is(err, kv.ErrNotFound) {
			t.Errorf("At(%q, %d) error %v, want kv.ErrNotFound", key, n+1, err)
		}
		h, err := s.History(ctx, key)
		if err != nil || len(h) != len(versions) {
			t.Errorf("History(%q) = %d entries, %v; want %d", key, len(h), err, len(versions))
			continue
		}
		for i, e := range h {
			if e.Version != int64(i+1) || e.Err != nil || !reflect.DeepEqual(e.Value, versions[i]) {
				t.Errorf("History(%q)[%d] = %d %#v %v; want %d %#v", key, i, e.Version, e.Value, e.Err, i+1, versions[i])
			}
		}
	}
}

// TestPyPythonWritesGoReads loads the keys the Python store wrote and reads
// them with configstore, then updates a plain key and checks that it
// became the list Python would have made.
func TestPyPythonWritesGoReads(t *testing.T) {
	layout := pyFixture(t)
	for _, b := range pyBackends {
		t.Run(b.name, func(t *testing.T) {
			raw := b.new(t)
			pyLoad(t, raw, layout)
			ex := pyOpen[pyExampleConfig](t, raw, pyExamplePrefix)
			rich := pyOpen[pyRichConfig](t, raw, pyRichPrefix)
			pyVerify(t, ex, layout, pyExamplePrefix, pyExampleWant())
			pyVerify(t, rich, layout, pyRichPrefix, pyRichWant())
			pyCheckRaw(t, raw, layout) // reading wrote nothing

			// A plain string (version 1) becomes a list of two, the old
			// value first, as the Python store's update makes it.
			ctx := pyCtx(t)
			key := pyExamplePrefix + "legacy"
			old := *layout[key].Value
			next := pyExampleConfig{Name: "legacy", Index: 2, Data: map[string]any{"source": "storekit"}}
			version, err := ex.Update(ctx, "legacy", next)
			if err != nil || version != 2 {
				t.Fatalf("Update(legacy) = %d, %v; want version 2", version, err)
			}
			want := pyKey{Type: "list", Entries: []string{old, `{"name": "legacy", "index": 2, "data": {"source": "storekit"}}`}}
			if got := raw.dump(t, key); !reflect.DeepEqual(got, want) {
				t.Errorf("after Update, Redis holds %s, want %s", pyShow(got), pyShow(want))
			}
			if v, version, err := ex.Fetch(ctx, "legacy"); err != nil || version != 2 || !reflect.DeepEqual(v, next) {
				t.Errorf("Fetch(legacy) = %#v, %d, %v; want %#v, 2", v, version, err, next)
			}
			if v, err := ex.At(ctx, "legacy", 1); err != nil || !reflect.DeepEqual(v, pyExampleWant()["legacy"][0]) {
				t.Errorf("At(legacy, 1) = %#v, %v; want the plain value", v, err)
			}
		})
	}
}

// pyReencode decodes a value of the layout key with the default codec of
// its model and encodes it again.
func pyReencode(t *testing.T, key, entry string) string {
	t.Helper()
	var (
		out []byte
		err error
	)
	switch {
	case strings.HasPrefix(key, pyExamplePrefix):
		out, err = pyRoundTrip[pyExampleConfig](entry)
	case strings.HasPrefix(key, pyRichPrefix):
		out, err = pyRoundTrip[pyRichConfig](entry)
	default:
		t.Fatalf("key %q has no known prefix", key)
	}
	if err != nil {
		t.Fatalf("%s: %q: %v", key, entry, err)
	}
	return string(out)
}

func pyRoundTrip[T any](entry string) ([]byte, error) {
	c := codec.JSON[T](nil)
	v, err := c.Decode([]byte(entry))
	if err != nil {
		return nil, err
	}
	return c.Encode(v)
}

// TestPyByteIdentity decodes every value the Python store wrote into its Go
// type and encodes it again with codec.JSON: the bytes must be Python's,
// but for the pinned exception, a dict whose keys Python wrote unsorted.
func TestPyByteIdentity(t *testing.T) {
	layout := pyFixture(t)
	for _, key := range slices.Sorted(maps.Keys(layout)) {
		for i, entry := range layout[key].versions() {
			got := pyReencode(t, key, entry)
			if key != pyUnorderedKey {
				if got != entry {
					t.Errorf("%s version %d: Go writes\n%s\nPython wrote\n%s", key, i+1, got, entry)
				}
				continue
			}
			if !strings.Contains(entry, pyUnorderedPython) {
				t.Fatalf("%s: the fixture no longer holds %s: %s", key, pyUnorderedPython, entry)
			}
			if want := strings.Replace(entry, pyUnorderedPython, pyUnorderedGo, 1); got != want {
				t.Errorf("%s: Go writes\n%s\nwant (Python's with %s for %s)\n%s", key, got, pyUnorderedGo, pyUnorderedPython, want)
			}
		}
	}
}

// pyUpdateSame fetches every key of want and updates it with the value it
// read: nothing is written, not even a plain key converted, and the
// version is the one read.
func pyUpdateSame[T any](t *testing.T, raw pyRaw, s *configstore.Store[T], prefix string, want map[string][]T,
	layout map[string]pyKey) {
	t.Helper()
	ctx := pyCtx(t)
	for _, key := range slices.Sorted(maps.Keys(want)) {
		full := prefix + key
		v, version, err := s.Fetch(ctx, key)
		if err != nil {
			t.Fatalf("Fetch(%q): %v", key, err)
		}
		got, err := s.Update(ctx, key, v)
		if err != nil {
			t.Fatalf("Update(%q): %v", key, err)
		}
		if got != version {
			t.Errorf("Update(%q) of the value read = version %d, want %d (identical, nothing written)", key, got, version)
		}
		if k := raw.dump(t, full); !reflect.DeepEqual(k, layout[full]) {
			t.Errorf("%s: Redis holds %s, want it unchanged: %s", full, pyShow(k), pyShow(layout[full]))
		}
	}
}

// TestPyIdenticalUpdate updates every key the Python store wrote with the
// value configstore reads from it: nothing is written, the integral float
// (rich:float_integral) and the dict Python wrote with unsorted keys
// (example:unordered), whose bytes Go would write otherwise, included.
func TestPyIdenticalUpdate(t *testing.T) {
	layout := pyFixture(t)
	for _, b := range pyBackends {
		t.Run(b.name, func(t *testing.T) {
			raw := b.new(t)
			pyLoad(t, raw, layout)
			ex := pyOpen[pyExampleConfig](t, raw, pyExamplePrefix)
			rich := pyOpen[pyRichConfig](t, raw, pyRichPrefix)
			pyUpdateSame(t, raw, ex, pyExamplePrefix, pyExampleWant(), layout)
			pyUpdateSame(t, raw, rich, pyRichPrefix, pyRichWant(), layout)
		})
	}
}

// pyMustUpdate updates key and checks the version returned.
func pyMustUpdate[T any](t *testing.T, s *configstore.Store[T], key string, v T, want int64) {
	t.Helper()
	got, err := s.Update(pyCtx(t), key, v)
	if err != nil || got != want {
		t.Fatalf("Update(%q) = %d, %v; want version %d", key, got, err, want)
	}
}

// pyEncode is v as codec.JSON writes it.
func pyEncode[T any](t *testing.T, v T) string {
	t.Helper()
	b, err := codec.JSON[T](nil).Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPyGoWritesPythonReads does the script's OPERATIONS with configstore
// in a real Redis (and SET for the plain keys), dumps the keys with plain
// TYPE, LRANGE and GET, and has the script check them as the Python store
// reads them, byte for byte against what Python writes.
func TestPyGoWritesPythonReads(t *testing.T) {
	py := pyPython(t)
	raw := pyRedis(t)
	ex := pyOpen[pyExampleConfig](t, raw, pyExamplePrefix)
	rich := pyOpen[pyRichConfig](t, raw, pyRichPrefix)
	exw, richw := pyExampleWant(), pyRichWant()

	for i, v := range exw["app"] {
		pyMustUpdate(t, ex, "app", v, int64(i+1))
	}
	pyMustUpdate(t, ex, "app", exw["app"][2], 3) // identical: nothing written
	pyMustUpdate(t, ex, "single", exw["single"][0], 1)
	raw.set(t, pyExamplePrefix+"legacy", pyEncode(t, exw["legacy"][0]))
	raw.set(t, pyExamplePrefix+"converted", pyEncode(t, exw["converted"][0]))
	pyMustUpdate(t, ex, "converted", exw["converted"][1], 2)
	for i, v := range exw["unicode"] {
		pyMustUpdate(t, ex, "unicode", v, int64(i+1))
	}
	pyMustUpdate(t, ex, "unordered", exw["unordered"][0], 1)
	for i, v := range richw["service"] {
		pyMustUpdate(t, rich, "service", v, int64(i+1))
	}
	pyMustUpdate(t, rich, "float_integral", richw["float_integral"][0], 1)

	layout := map[string]pyKey{}
	for _, key := range raw.keys(t) {
		layout[key] = raw.dump(t, key)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	pyMust(t, enc.Encode(layout))
	dir := t.TempDir()
	pyMust(t, os.WriteFile(filepath.Join(dir, pyLayoutName), buf.Bytes(), 0o644))

	out, err := exec.Command(py, pyScript, "check", dir).CombinedOutput()
	t.Logf("%s check:\n%s", pyScript, out)
	if err != nil {
		t.Fatalf("Python does not read Go's keys as the Python store would: %v", err)
	}
	if !bytes.Contains(out, []byte("python check: all cases ok")) {
		t.Fatalf("%s check did not report success", pyScript)
	}
}

// TestPyFixturesCurrent regenerates the fixtures with Python and checks
// that the committed ones are the same.
func TestPyFixturesCurrent(t *testing.T) {
	py := pyPython(t)
	dir := t.TempDir()
	if out, err := exec.Command(py, pyScript, "write", dir).CombinedOutput(); err != nil {
		t.Fatalf("%s write: %v\n%s", pyScript, err, out)
	}
	list := func(dir string) []string {
		paths, err := filepath.Glob(filepath.Join(dir, "*"))
		pyMust(t, err)
		for i, p := range paths {
			paths[i] = filepath.Base(p)
		}
		slices.Sort(paths)
		return paths
	}
	fresh, committed := list(dir), list(pyFixtureDir)
	if !slices.Equal(fresh, committed) {
		t.Fatalf("python writes %v, committed are %v: run python3 %s write", fresh, committed, pyScript)
	}
	for _, name := range fresh {
		a, _ := os.ReadFile(filepath.Join(dir, name))
		b, _ := os.ReadFile(filepath.Join(pyFixtureDir, name))
		if !bytes.Equal(a, b) {
			t.Errorf("%s: python writes\n%s\ncommitted is\n%s\nrun python3 %s write", name, a, b, pyScript)
		}
	}
}
