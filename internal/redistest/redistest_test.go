package redistest

import (
	"errors"
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

func (r *recorder) Skipf(format string, args ...any)  { r.skipped = format }
func (r *recorder) Fatalf(format string, args ...any) { r.fatal = format }

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

// TestDockerCheck runs the Docker probe of the testcontainers fallback; it
// must answer (with a reason or "") without failing or panicking, whatever
// the machine has.
func TestDockerCheck(t *testing.T) {
	if reason := dockerUnavailable(); reason != "" {
		t.Logf("testcontainers fallback unavailable: %s", reason)
	} else {
		t.Log("a Docker engine answers: New would fall back to testcontainers")
	}
}

// TestNewWithoutRedis: with no address, no redis-server and no Docker, New
// skips (or fails with STOREKIT_REQUIRE_REDIS=1) and names what it tried.
func TestNewWithoutRedis(t *testing.T) {
	if dockerUnavailable() == "" {
		t.Skip("a Docker engine answers here, so New would use it")
	}
	t.Setenv(EnvAddr, "")
	t.Setenv("PATH", t.TempDir())
	for _, require := range []string{"", "1"} {
		t.Setenv(EnvRequire, require)
		r := &recorder{TB: t}
		if s := New(r); s != nil {
			t.Errorf("New found a server at %s", s.Addr())
		}
		got := r.skipped
		if require == "1" {
			got = r.fatal
		}
		if got == "" {
			t.Errorf("%s=%q: skipped=%q fatal=%q, want the one matching the setting", EnvRequire, require, r.skipped, r.fatal)
		}
	}
}
