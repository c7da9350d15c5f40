package redisproto

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cledar/storekit/kv"
)

func TestAddrAndDescribe(t *testing.T) {
	for _, tt := range []struct {
		host string
		port int
		want string
	}{
		{"", 0, "localhost:6379"},
		{"redis.internal", 0, "redis.internal:6379"},
		{"", 7000, "localhost:7000"},
		{"::1", 6380, "[::1]:6380"},
	} {
		if got := Addr(tt.host, tt.port); got != tt.want {
			t.Errorf("Addr(%q, %d) = %q, want %q", tt.host, tt.port, got, tt.want)
		}
	}
	got := DescribeServer("h:1", 2, "alice", true, true)
	if want := `redis://h:1/2 user="alice" password=REDACTED tls=true`; got != want {
		t.Errorf("DescribeServer = %q, want %q", got, want)
	}
	if got := DescribeServer("h:1", 0, "", false, false); strings.Contains(got, "password") {
		t.Errorf("DescribeServer without a password = %q", got)
	}
	if got := Redact("a secret and a secret", "secret"); got != "a REDACTED and a REDACTED" {
		t.Errorf("Redact = %q", got)
	}
	if got := Redact("text", ""); got != "text" {
		t.Errorf("Redact with no secret = %q", got)
	}
}

func TestInitError(t *testing.T) {
	native := errors.New("auth failed for hunter2-pw")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	err := InitError(cancelled, "somebackend", nil, native, "", "hunter2-pw")
	if strings.Contains(err.Error(), "hunter2-pw") {
		t.Errorf("InitError text holds the password: %v", err)
	}
	for _, target := range []error{kv.ErrUnavailable, native, context.Canceled} {
		if !errors.Is(err, target) {
			t.Errorf("InitError %v does not wrap %v", err, target)
		}
	}
	if !strings.HasPrefix(err.Error(), "somebackend: could not initialize Redis client: ") {
		t.Errorf("InitError text = %q", err)
	}
	// The context's error is not repeated when the native error holds it.
	err = InitError(cancelled, "b", context.Canceled, context.Canceled, "", "")
	if strings.Count(err.Error(), "context canceled") != 1 || !errors.Is(err, kv.ErrUnavailable) {
		t.Errorf("InitError text = %q, want the context error once and kv.ErrUnavailable", err)
	}
	// A denial wraps kv.ErrPermission, says what to grant, and keeps only
	// the first line of the native text.
	native = errors.New("NOPERM this user has no permissions to run the 'client|tracking' command: [CLIENT TRACKING ON OPTIN]\nset DisableCache")
	err = InitError(context.Background(), "b", kv.ErrPermission, native, "app", "")
	want := `b: could not initialize Redis client: kv: permission denied: the ACL user "app" may not run CLIENT TRACKING, ` +
		"which the store needs: grant it with ACL SETUSER app +client|tracking (client-side caching needs " +
		"+client|tracking and +client|caching), or set DisableCache: NOPERM this user has no permissions to run " +
		"the 'client|tracking' command: [CLIENT TRACKING ON OPTIN]"
	if err.Error() != want || !errors.Is(err, kv.ErrPermission) || errors.Is(err, kv.ErrUnavailable) || !errors.Is(err, native) {
		t.Errorf("InitError of a denial = %q\nwant %q, wrapping kv.ErrPermission and the native error only", err, want)
	}
}

func TestInitHint(t *testing.T) {
	for _, tt := range []struct{ msg, user, want string }{
		{"WRONGPASS invalid username-password pair or user is disabled.", "u",
			"the server refused the user name and password: check Username and Password"},
		{"NOAUTH Authentication required.", "", "the server requires a password: set Password"},
		{"NOPERM this user has no permissions to run the 'ping' command", "",
			`the ACL user "default" may not run PING, which the store needs: grant it with ACL SETUSER default +ping`},
		{"NOPERM User app has no permissions to run the 'config|get' command", "app",
			`the ACL user "app" may not run CONFIG GET, which the store needs: grant it with ACL SETUSER app +config|get`},
		{"NOPERM no permissions", "app",
			`the ACL user "app" may not run a command the store needs: grant it with ACL SETUSER app`},
		{"ERR something else", "app", ""},
		{"dial tcp: connection refused", "", ""},
	} {
		if got := InitHint(tt.msg, tt.user); got != tt.want {
			t.Errorf("InitHint(%q, %q) = %q, want %q", tt.msg, tt.user, got, tt.want)
		}
	}
}

func TestClientInfoDB(t *testing.T) {
	for _, tt := range []struct {
		info string
		db   int
		ok   bool
	}{
		{"id=3 addr=127.0.0.1:5000 laddr=127.0.0.1:6379 fd=8 name= age=0 idle=0 flags=N db=0 sub=0 psub=0\n", 0, true},
		{"id=3 db=12 sub=0", 12, true},
		{"id=3 name=db=7 db=2", 2, true}, // fields are matched whole
		{"id=3 sub=0", 0, false},
		{"db=x", 0, false},
		{"db=-1", 0, false},
		{"", 0, false},
	} {
		db, ok := ClientInfoDB(tt.info)
		if db != tt.db || ok != tt.ok {
			t.Errorf("ClientInfoDB(%q) = %d, %v; want %d, %v", tt.info, db, ok, tt.db, tt.ok)
		}
	}
}

func TestForEach(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{0, 1, 2, 7, 100} {
		for _, limit := range []int{0, 1, 3, 200} {
			var (
				mu      sync.Mutex
				seen    = make([]int, n)
				running atomic.Int64
				peak    atomic.Int64
			)
			err := ForEach(ctx, n, limit, func(_ context.Context, i int) error {
				r := running.Add(1)
				for p := peak.Load(); r > p && !peak.CompareAndSwap(p, r); p = peak.Load() {
				}
				time.Sleep(100 * time.Microsecond)
				running.Add(-1)
				mu.Lock()
				seen[i]++
				mu.Unlock()
				return nil
			})
			if err != nil {
				t.Fatalf("ForEach(n=%d, limit=%d) = %v", n, limit, err)
			}
			for i, c := range seen {
				if c != 1 {
					t.Errorf("ForEach(n=%d, limit=%d) ran %d %d times", n, limit, i, c)
				}
			}
			if limit > 0 && peak.Load() > int64(limit) {
				t.Errorf("ForEach(n=%d, limit=%d) ran %d at once", n, limit, peak.Load())
			}
		}
	}

	boom := errors.New("boom")
	var after atomic.Int64
	err := ForEach(ctx, 50, 2, func(ctx context.Context, i int) error {
		if i == 3 {
			return boom
		}
		if i > 10 {
			after.Add(1)
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Errorf("ForEach with a failing call = %v, want boom", err)
	}
	if after.Load() > 2 {
		t.Errorf("%d calls ran long after the first error", after.Load())
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := ForEach(cancelled, 5, 2, func(context.Context, int) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("ForEach with a cancelled context = %v", err)
	}
	// Every call done: nil, even if ctx ends right after.
	short, cancel2 := context.WithCancel(ctx)
	err = ForEach(short, 3, 3, func(context.Context, int) error { return nil })
	cancel2()
	if err != nil {
		t.Errorf("ForEach = %v, want nil", err)
	}
}

func TestLifecycle(t *testing.T) {
	var l Lifecycle
	l.Init()
	ctx := context.Background()
	if err := l.Check(ctx); err != nil {
		t.Fatalf("Check on an open store = %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := l.Check(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("Check with a cancelled context = %v, want context.Canceled", err)
	}
	wctx, wcancel, done, err := l.StartWatch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer wcancel()
	var finished atomic.Bool
	go func() {
		<-wctx.Done() // Close ends the watch
		finished.Store(true)
		done()
	}()
	if !l.Close() {
		t.Error("first Close reported the store closed already")
	}
	if !finished.Load() {
		t.Error("Close returned before the watch called done")
	}
	select {
	case <-l.Closing():
	default:
		t.Error("Closing is still open after Close")
	}
	if l.Close() {
		t.Error("second Close reported closing the store")
	}
	if err := l.Check(ctx); !errors.Is(err, kv.ErrClosed) {
		t.Errorf("Check after Close = %v, want kv.ErrClosed", err)
	}
	if _, _, _, err := l.StartWatch(ctx); !errors.Is(err, kv.ErrClosed) {
		t.Errorf("StartWatch after Close = %v, want kv.ErrClosed", err)
	}
}

func TestScanNodes(t *testing.T) {
	// Two servers of two pages each; the cursor of a page is its number.
	pages := [][][]string{{{"a", "b"}, {"c"}}, {{}, {"d"}}}
	page := func(i int, cursor uint64) ([]string, uint64, error) {
		next := cursor + 1
		if int(next) == len(pages[i]) {
			next = 0
		}
		return pages[i][cursor], next, nil
	}
	scan := func(check func() error, page func(int, uint64) ([]string, uint64, error), stopAfter int) ([]string, error) {
		var keys []string
		var err error
		ScanNodes(len(pages), check, page, func(k string, e error) bool {
			if e != nil {
				err = e
				return false
			}
			keys = append(keys, k)
			return len(keys) != stopAfter
		})
		return keys, err
	}
	ok := func() error { return nil }
	if keys, err := scan(ok, page, -1); err != nil || strings.Join(keys, "") != "abcd" {
		t.Errorf("ScanNodes = %q, %v; want abcd", keys, err)
	}
	if keys, err := scan(ok, page, 2); err != nil || strings.Join(keys, "") != "ab" {
		t.Errorf("ScanNodes stopped after 2 = %q, %v; want ab", keys, err)
	}
	boom := errors.New("boom")
	checks := 0
	failThird := func() error {
		if checks++; checks == 3 {
			return boom
		}
		return nil
	}
	if keys, err := scan(failThird, page, -1); err != boom || strings.Join(keys, "") != "abc" {
		t.Errorf("ScanNodes with the third check failing = %q, %v; want abc, boom", keys, err)
	}
	failing := func(i int, cursor uint64) ([]string, uint64, error) {
		if i == 1 {
			return nil, 0, boom
		}
		return page(i, cursor)
	}
	if keys, err := scan(ok, failing, -1); err != boom || strings.Join(keys, "") != "abc" {
		t.Errorf("ScanNodes with the second server failing = %q, %v; want abc, boom", keys, err)
	}
}
