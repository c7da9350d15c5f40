// Package redistest finds or starts a real Redis server for tests. It is
// imported only by _test.go files.
//
// [New] returns a server to run tests against, found in this order:
//
//  1. the address in the environment variable STOREKIT_REDIS_ADDR, used as
//     is (the tests never flush it, so they must keep to their own keys);
//  2. a redis-server binary on PATH, started on a free loopback port in a
//     temporary directory (on tmpfs when there is one, see [Start]) with
//     --save "" --appendonly no --notify-keyspace-events KEA, and stopped
//     when the test ends;
//  3. a container of the official image through testcontainers-go, when a
//     Docker engine answers: the command in the directory rediscontainer
//     beside this package, a module of its own so that testcontainers stays
//     out of storekit's module graph, run with `go run` and stopped when the
//     test ends;
//  4. none: the test is skipped with the reason, or fails when the
//     environment variable STOREKIT_REQUIRE_REDIS is set to 1.
//
// [Start] always starts its own redis-server, for tests that kill, restart or
// reconfigure it. For failover tests:
//
//   - [StartCluster] starts a local Redis Cluster of masters, and
//     [StartClusterWith] one with replicas; a [Cluster] kills a master and
//     waits until a replica has taken over ([Cluster.KillMaster]), fails
//     over gracefully ([Cluster.Failover]) and brings a killed node back
//     ([Cluster.Rejoin]).
//   - [StartSentinel] starts a master, its replicas and Redis Sentinel
//     processes watching them; a [Sentinel] reports the current master,
//     fails over ([Sentinel.Failover]), kills the master and waits for the
//     sentinels to promote a replica ([Sentinel.KillMaster]), and brings a
//     killed server back as a replica ([Sentinel.Rejoin]).
//   - [StartProxy] puts a TCP [Proxy] in front of a server that forwards
//     until told to black-hole every connection, as a network partition
//     would, or to reset them.
//
// Every wait is bounded generously (tens of seconds), so that a hang fails
// the test while a slow machine does not; none measures speed. Every
// process and goroutine started here stops when the test ends.
//
// [Server.Do] and [Server.Subscribe] talk to a server with a minimal RESP
// client of their own, so the harness depends on no Redis client library.
package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Environment variables that steer [New].
const (
	// EnvAddr names a Redis server (host:port) to use instead of starting one.
	EnvAddr = "STOREKIT_REDIS_ADDR"
	// EnvRequire, set to 1, turns "no Redis available" from a skip into a
	// test failure.
	EnvRequire = "STOREKIT_REQUIRE_REDIS"
)

// Timeouts of the harness: generous, because a 2-core machine running tests
// under -race can be slow.
const (
	readyTimeout = 15 * time.Second
	stopTimeout  = 5 * time.Second
	startTries   = 5
)

// serverArgs are the redis-server arguments of every server started here,
// after --port, --dir and --bind.
var serverArgs = []string{
	"--save", "",
	"--appendonly", "no",
	"--notify-keyspace-events", "KEA",
	"--daemonize", "no",
}

// A Server is a Redis server for a test.
type Server struct {
	t        testing.TB
	addr     string
	owned    bool
	password string

	// The rest is set only for a redis-server process started here.
	bin  string
	dir  string
	args []string // full argument list, --port included

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
}

// Options configure a server started by [Start].
type Options struct {
	// Args are extra redis-server arguments, appended after the defaults so
	// that they override them: for example
	// []string{"--notify-keyspace-events", ""}.
	Args []string
	// Password, when set, is the server's requirepass; [Server.Do]
	// authenticates with it.
	Password string

	// clusterPort adds --cluster-port with a free port of its own: the
	// default, the port plus 10000, does not exist for ports above 55535,
	// which the kernel hands out.
	clusterPort bool
}

// New returns a Redis server for t (see the package documentation for where
// it comes from). A server it starts is stopped when t ends.
func New(t testing.TB) *Server {
	t.Helper()
	if addr := os.Getenv(EnvAddr); addr != "" {
		s := &Server{t: t, addr: addr}
		if err := s.ping(); err != nil {
			t.Fatalf("redistest: %s=%s does not answer PING: %v", EnvAddr, addr, err)
		}
		return s
	}
	if bin, err := exec.LookPath("redis-server"); err == nil {
		return start(t, bin, nil)
	}
	s, reason := startContainer(t)
	if s == nil {
		skip(t, "no Redis server for this test: %s is not set, redis-server is not on PATH, and %s", EnvAddr, reason)
	}
	return s
}

// Start starts a redis-server of its own for t, with the default arguments
// followed by opts.Args, and stops it when t ends. Its directory, of its
// own, is on tmpfs (/dev/shm) when there is one, else t.TempDir. It skips t (or fails it,
// with STOREKIT_REQUIRE_REDIS=1) when no redis-server binary is on PATH.
// opts may be nil.
func Start(t testing.TB, opts *Options) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		skip(t, "this test starts its own Redis, but redis-server is not on PATH: %v", err)
	}
	return start(t, bin, opts)
}

func skip(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := "redistest: " + fmt.Sprintf(format, args...)
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("%s (%s=1 requires a Redis server)", msg, EnvRequire)
		return
	}
	t.Skipf("SKIPPED, NO REDIS: %s (set %s=1 to make this a failure)", msg, EnvRequire)
}

// Addr returns the server's host:port.
func (s *Server) Addr() string { return s.addr }

// Owned reports whether the server belongs to this test (started by the
// harness, so it may be flushed, killed or reconfigured), as opposed to one
// named by STOREKIT_REDIS_ADDR.
func (s *Server) Owned() bool { return s.owned }

// Password returns the server's requirepass set through [Options], or "".
func (s *Server) Password() string { return s.password }

// Do sends one command on a new connection and returns the reply: a string
// for simple and bulk strings, an int64, a []any, nil for a nil reply, or a
// [ReplyError] for an error reply.
func (s *Server) Do(args ...string) (any, error) {
	return do(context.Background(), s.addr, s.password, args...)
}

// DoContext is [Server.Do] bounded by ctx: dialing, sending and reading
// the reply give up at ctx's deadline with a timeout error. Without a
// deadline, Do's default of 10 seconds applies.
func (s *Server) DoContext(ctx context.Context, args ...string) (any, error) {
	return do(ctx, s.addr, s.password, args...)
}

// MustDo is [Server.Do] that fails the test on any error.
func (s *Server) MustDo(args ...string) any {
	s.t.Helper()
	v, err := s.Do(args...)
	if err != nil {
		s.t.Fatalf("redistest: %s: %v", strings.Join(args, " "), err)
	}
	return v
}

func (s *Server) ping() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := do(ctx, s.addr, "", "PING")
	var re ReplyError
	if errors.As(err, &re) && !strings.HasPrefix(string(re), "LOADING") {
		err = nil // NOAUTH and the like: the server is up
	}
	return err
}

// start runs redis-server on a free port, retrying on a port collision.
func start(t testing.TB, bin string, opts *Options) *Server {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	return startProcess(t, bin, opts.Password, func(dir string, port int) ([]string, error) {
		args := append([]string{"--port", strconv.Itoa(port), "--dir", dir, "--bind", "127.0.0.1"}, serverArgs...)
		if opts.clusterPort {
			bus, err := freePort()
			if err != nil {
				return nil, err
			}
			args = append(args, "--cluster-port", strconv.Itoa(bus))
		}
		args = append(args, opts.Args...)
		if opts.Password != "" {
			args = append(args, "--requirepass", opts.Password)
		}
		return args, nil
	})
}

// startProcess runs bin in a new temporary directory with the arguments
// that mkArgs returns for that directory and a free port, retrying with
// another port on a collision, and stops the process when t ends.
func startProcess(t testing.TB, bin, password string, mkArgs func(dir string, port int) ([]string, error)) *Server {
	t.Helper()
	dir := tempDir(t)
	var lastErr error
	for range startTries {
		port, err := freePort()
		if err != nil {
			t.Fatalf("redistest: pick a port: %v", err)
		}
		args, err := mkArgs(dir, port)
		if err != nil {
			t.Fatalf("redistest: %v", err)
		}
		s := &Server{
			t:        t,
			addr:     net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
			owned:    true,
			password: password,
			bin:      bin,
			dir:      dir,
			args:     args,
		}
		err = s.launch()
		if err == nil {
			t.Cleanup(s.Stop)
			return s
		}
		lastErr = err
		if !strings.Contains(err.Error(), "Address already in use") {
			break
		}
	}
	t.Fatalf("redistest: start %s: %v", filepath.Base(bin), lastErr)
	return nil
}

// shmDir is where tempDir makes directories when it can: tmpfs on Linux.
const shmDir = "/dev/shm"

// tempDir returns a new directory for one process, removed when t ends. It
// is on tmpfs when there is one: a cluster node fsyncs its nodes.conf and a
// sentinel its sentinel.conf on every change, and on a busy disk an fsync
// can block the process for seconds, long enough for the other nodes to
// flag it as failing or for the sentinel to enter TILT mode and stop
// acting for a while.
func tempDir(t testing.TB) string {
	t.Helper()
	if st, err := os.Stat(shmDir); err == nil && st.IsDir() {
		if dir, err := os.MkdirTemp(shmDir, "redistest-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// launch starts the process and waits until it answers PING. On failure the
// process is gone and the error holds the end of its log.
func (s *Server) launch() error {
	logPath := filepath.Join(s.dir, "redis.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, s.args...)
	cmd.Dir = s.dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(exited)
	}()

	deadline := time.Now().Add(readyTimeout)
	for {
		err = s.ping()
		if err == nil {
			s.mu.Lock()
			s.cmd, s.exited = cmd, exited
			s.mu.Unlock()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("redis-server %s exited early: %s", strings.Join(s.args, " "), logTail(logPath))
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("redis-server on %s did not answer PING within %v (last error: %v): %s",
				s.addr, readyTimeout, err, logTail(logPath))
		}
	}
}

// logs returns the end of the log of each of servers, to explain a
// failover that did not happen.
func logs(servers []*Server) string {
	var b strings.Builder
	for _, s := range servers {
		if s.dir != "" {
			fmt.Fprintf(&b, "%s %s\n", s.addr, logTail(filepath.Join(s.dir, "redis.log")))
		}
	}
	return b.String()
}

func logTail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "log: " + strings.TrimSpace(string(b))
}

// Kill stops the server abruptly with SIGKILL, as a crash would, and waits
// until the process is gone. Clients see their connections reset. Kill,
// Stop and Restart work on a redis-server process started by this package,
// and fail the test for any other server.
func (s *Server) Kill() {
	s.t.Helper()
	s.signal(syscall.SIGKILL, stopTimeout)
}

// Stop stops the server with SIGTERM, then SIGKILL if it has not exited
// within a few seconds. It does nothing if the server is not running, and is
// called when the test ends.
func (s *Server) Stop() {
	s.t.Helper()
	if !s.signal(syscall.SIGTERM, stopTimeout) {
		s.signal(syscall.SIGKILL, stopTimeout)
	}
}

// signal sends sig to the process and reports whether it exited within d.
func (s *Server) signal(sig syscall.Signal, d time.Duration) bool {
	s.t.Helper()
	if s.bin == "" {
		s.t.Fatalf("redistest: cannot stop %s: it is not a redis-server process started by this test (use Start)", s.addr)
	}
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil {
		return true
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
		s.mu.Lock()
		if s.cmd == cmd {
			s.cmd, s.exited = nil, nil
		}
		s.mu.Unlock()
		return true
	case <-time.After(d):
		return false
	}
}

// Restart stops the server if it runs and starts it again on the same port
// with the same arguments, then waits until it answers PING. Data is lost
// and runtime CONFIG SET changes are undone. It fails the test if another
// process took the port in between.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	if err := s.launch(); err != nil {
		s.t.Fatalf("redistest: restart: %v", err)
	}
}

// Running reports whether the server process is running.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd != nil
}
