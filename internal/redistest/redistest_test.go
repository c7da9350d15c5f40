package redistest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestStartKillRestart(t *testing.T) {
	s := Start(t, nil)
	if !s.Owned() || !s.Running() {
		t.Fatalf("Start: Owned=%v Running=%v, want both true", s.Owned(), s.Running())
	}
	if got := s.MustDo("PING"); got != "PONG" {
		t.Fatalf("PING = %v, want PONG", got)
	}
	// The defaults are in force: no persistence, keyspace events on.
	for param, want := range map[string]string{"save": "", "appendonly": "no", "notify-keyspace-events": "AKE"} {
		got := s.MustDo("CONFIG", "GET", param)
		if arr, _ := got.([]any); len(arr) != 2 || arr[1] != want {
			t.Errorf("CONFIG GET %s = %v, want %q", param, got, want)
		}
	}
	s.MustDo("SET", "k", "v")

	s.Kill()
	if s.Running() {
		t.Error("Running after Kill")
	}
	if _, err := s.Do("PING"); err == nil {
		t.Fatal("PING after Kill succeeded")
	}
	s.Kill() // no-op once stopped

	s.Restart()
	if got := s.MustDo("PING"); got != "PONG" {
		t.Fatalf("PING after Restart = %v, want PONG", got)
	}
	if got := s.MustDo("GET", "k"); got != nil {
		t.Errorf("GET k after Restart = %v, want nil (no persistence)", got)
	}
	s.Restart() // restart a running server
	s.MustDo("PING")
	s.Stop()
	s.Stop() // idempotent
	if s.Running() {
		t.Error("Running after Stop")
	}
}

func TestStartOptions(t *testing.T) {
	s := Start(t, &Options{Args: []string{"--notify-keyspace-events", ""}, Password: "s3cret-pw"})
	got := s.MustDo("CONFIG", "GET", "notify-keyspace-events")
	if arr, _ := got.([]any); len(arr) != 2 || arr[1] != "" {
		t.Errorf("CONFIG GET notify-keyspace-events = %v, want \"\" (Args override the defaults)", got)
	}
	noAuth := &Server{t: t, addr: s.Addr()}
	_, err := noAuth.Do("GET", "k")
	var re ReplyError
	if !errors.As(err, &re) || !strings.HasPrefix(string(re), "NOAUTH") {
		t.Errorf("GET without password: err = %v, want a NOAUTH reply", err)
	}
	s.Restart() // the password survives a restart, and the ready check copes with it
	s.MustDo("PING")
}

func TestNewFromEnv(t *testing.T) {
	own := Start(t, nil)
	t.Setenv(EnvAddr, own.Addr())
	s := New(t)
	if s.Addr() != own.Addr() || s.Owned() {
		t.Errorf("New with %s set: Addr=%s Owned=%v, want %s and false", EnvAddr, s.Addr(), s.Owned(), own.Addr())
	}
}

func TestNew(t *testing.T) {
	t.Setenv(EnvAddr, "")
	s := New(t)
	if !s.Owned() {
		t.Error("New without STOREKIT_REDIS_ADDR: Owned = false, want true")
	}
	if got := s.MustDo("PING"); got != "PONG" {
		t.Errorf("PING = %v, want PONG", got)
	}
}

// recorder is a testing.TB whose Skipf and Fatalf only record.
type recorder struct {
	testing.TB
	skipped, fatal string
}

func (r *recorder) Skipf(format string, args ...any)  { r.skipped = fmt.Sprintf(format, args...) }
func (r *recorder) Fatalf(format string, args ...any) { r.fatal = fmt.Sprintf(format, args...) }

func TestSkipOrFail(t *testing.T) {
	t.Setenv(EnvRequire, "")
	r := &recorder{TB: t}
	skip(r, "nothing here")
	if r.skipped == "" || r.fatal != "" {
		t.Errorf("without %s: skipped=%q fatal=%q, want a skip", EnvRequire, r.skipped, r.fatal)
	}
	t.Setenv(EnvRequire, "1")
	r = &recorder{TB: t}
	skip(r, "nothing here")
	if r.fatal == "" || r.skipped != "" {
		t.Errorf("with %s=1: skipped=%q fatal=%q, want a failure", EnvRequire, r.skipped, r.fatal)
	}
}

func TestStartCluster(t *testing.T) {
	c := StartCluster(t, 3)
	if len(c.Addrs()) != 3 {
		t.Fatalf("Addrs = %v, want 3", c.Addrs())
	}
	// Every slot is served: a key lands on exactly one master.
	owners := 0
	for _, s := range c.Servers {
		if _, err := s.Do("SET", "foo", "1"); err == nil {
			owners++
		} else if !strings.HasPrefix(err.Error(), "MOVED") {
			t.Errorf("SET foo on %s: %v, want OK or MOVED", s.Addr(), err)
		}
	}
	if owners != 1 {
		t.Errorf("%d masters accepted SET foo, want 1", owners)
	}
}

// TestContainerFallback runs the testcontainers fallback: with a Docker
// engine it gives a server in a container, started with the harness's
// arguments; without one it gives the reason, the same on a second call,
// without failing the test.
func TestContainerFallback(t *testing.T) {
	s, reason := startContainer(t)
	if s == nil {
		if reason == "" {
			t.Fatal("startContainer gave neither a server nor a reason")
		}
		t.Logf("testcontainers fallback unavailable: %s", reason)
		if _, again := startContainer(t); again != reason {
			t.Errorf("second call: reason %q, want the first one %q", again, reason)
		}
		return
	}
	if !s.Owned() || reason != "" {
		t.Errorf("container at %s: Owned=%v reason=%q, want true and none", s.Addr(), s.Owned(), reason)
	}
	got := s.MustDo("CONFIG", "GET", "notify-keyspace-events")
	if arr, _ := got.([]any); len(arr) != 2 || arr[1] != "AKE" {
		t.Errorf("CONFIG GET notify-keyspace-events = %v, want AKE", got)
	}
}

// TestNewWithoutRedis: with no address and no redis-server, New falls back
// to a container; without a Docker engine it skips (or fails with
// STOREKIT_REQUIRE_REDIS=1), naming what it tried.
func TestNewWithoutRedis(t *testing.T) {
	// A PATH of go and the C compiler alone, for the fallback's go run
	// (with the compiler, cgo stays on and the build cache serves).
	path := t.TempDir()
	for _, tool := range []string{"go", "gcc", "clang"} {
		bin, err := exec.LookPath(tool)
		if err != nil {
			continue // the fallback says what is missing
		}
		if err := os.Symlink(bin, filepath.Join(path, tool)); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv(EnvAddr, "")
	t.Setenv("PATH", path)
	for _, require := range []string{"", "1"} {
		t.Setenv(EnvRequire, require)
		r := &recorder{TB: t}
		if s := New(r); s != nil {
			if got := s.MustDo("PING"); got != "PONG" || r.skipped != "" || r.fatal != "" {
				t.Errorf("New's container at %s: PING = %v, skipped=%q fatal=%q", s.Addr(), got, r.skipped, r.fatal)
			}
			continue
		}
		got, other := r.skipped, r.fatal
		if require == "1" {
			got, other = r.fatal, r.skipped
		}
		_, reason := startContainer(t)
		for _, want := range []string{EnvAddr + " is not set", "redis-server is not on PATH", reason} {
			if !strings.Contains(got, want) || other != "" {
				t.Errorf("%s=%q: skipped=%q fatal=%q, want the one matching the setting, saying %q",
					EnvRequire, require, r.skipped, r.fatal, want)
			}
		}
	}
}
