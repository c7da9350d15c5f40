package pgtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A Server is a PostgreSQL server of a test's own, started by [Start]: tests
// may restart, stop and start it, which they must never do to the shared
// server of [URL].
type Server struct {
	bin  string // the directory of initdb, pg_ctl and postgres
	dir  string // holds the data directory, the socket and the log
	port int
	user string // the system user the server runs as; "" for this process's
}

// serverWait bounds each start, stop and restart of a Server: pg_ctl -w
// waits this long at most, and the command is killed a little later.
const serverWait = 60 * time.Second

// Start creates a database cluster in a new temporary directory and starts
// a server on it, on a free port of 127.0.0.1 (its unix socket in that
// directory too), trusting the user postgres, with fsync off. The server is
// stopped and the directory removed when tb ends.
//
// The binaries are those of pg_config --bindir, else of the newest
// /usr/lib/postgresql/*/bin. Without initdb, tb is skipped, or fails when
// STOREKIT_REQUIRE_POSTGRES=1. initdb refuses to run as root: a test run
// as root runs the server's commands as the system user postgres, through
// runuser.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin := binDir()
	if bin == "" {
		unavailable(tb, noBinaries)
	}
	return start(tb, bin)
}

// noBinaries says that [binDir] found no PostgreSQL programs.
const noBinaries = "no PostgreSQL binaries (initdb) for a server of the test's own: install PostgreSQL or put pg_config on the PATH"

// start is [Start] with the programs in the directory bin.
func start(tb testing.TB, bin string) *Server {
	tb.Helper()
	s := &Server{bin: bin}
	if os.Geteuid() == 0 {
		s.user = "postgres"
		if _, err := user.Lookup(s.user); err != nil {
			unavailable(tb, "running as root, a server of the test's own needs the system user postgres: "+err.Error())
		}
		if _, err := exec.LookPath("runuser"); err != nil {
			unavailable(tb, "running as root, a server of the test's own needs runuser: "+err.Error())
		}
	}
	dir, err := os.MkdirTemp("", "storekit-pg-")
	if err != nil {
		tb.Fatal(err)
	}
	s.dir = dir
	tb.Cleanup(s.cleanup(tb))
	if s.user != "" {
		if err := chown(dir, s.user); err != nil {
			tb.Fatal(err)
		}
	}
	s.run(tb, "initdb", "-D", s.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	s.configure(tb, fmt.Sprintf("listen_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n"+
		"fsync = off\nfull_page_writes = off\nmax_connections = 200\n", s.dir))
	// Another process may take the free port before the server does: try
	// another then.
	for attempt := 1; ; attempt++ {
		s.port = freePort(tb)
		s.configure(tb, fmt.Sprintf("port = %d\n", s.port))
		err := s.command("pg_ctl", s.ctlArgs("start")...)
		if err == nil {
			return s
		}
		if attempt == 3 {
			tb.Fatalf("start a PostgreSQL server: %v\nserver log:\n%s", err, s.logTail())
		}
	}
}

// configure appends settings to the server's postgresql.conf, where a
// setting overrides any earlier one of the same name.
func (s *Server) configure(tb testing.TB, settings string) {
	tb.Helper()
	f, err := os.OpenFile(filepath.Join(s.data(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		tb.Fatal(err)
	}
	_, err = f.WriteString("\n" + settings)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		tb.Fatal(err)
	}
}

// unavailable skips tb with msg, or fails it when
// STOREKIT_REQUIRE_POSTGRES=1.
func unavailable(tb testing.TB, msg string) {
	tb.Helper()
	if os.Getenv("STOREKIT_REQUIRE_POSTGRES") == "1" {
		tb.Fatal(msg)
		return
	}
	tb.Skip(msg)
}

// URL returns the connection string of the server, as the user postgres, to
// the database postgres.
func (s *Server) URL() string {
	return "postgres://postgres@127.0.0.1:" + strconv.Itoa(s.port) + "/postgres?sslmode=disable"
}

// Restart restarts the server as pg_ctl restart -m fast does: it ends every
// session, shuts down cleanly and starts again on the same port.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.ctl(tb, "restart", "-m", "fast")
}

// Stop stops the server at once, as a crash would (pg_ctl stop -m
// immediate): the next start recovers from the write-ahead log. The server
// commits synchronously, so no commit it acknowledged is lost, but for
// those of sessions with synchronous_commit off, such as the pools of
// [PoolOn].
func (s *Server) Stop(tb testing.TB) {
	tb.Helper()
	s.ctl(tb, "stop", "-m", "immediate")
}

// Start starts the server again, on the same port, after [Server.Stop]; it
// returns once the server accepts connections.
func (s *Server) Start(tb testing.TB) {
	tb.Helper()
	s.ctl(tb, "start")
}

// ctl runs pg_ctl action on the server's data directory, waiting for it to
// complete.
func (s *Server) ctl(tb testing.TB, action string, args ...string) {
	tb.Helper()
	s.run(tb, "pg_ctl", append(s.ctlArgs(action), args...)...)
}

// ctlArgs returns the arguments of pg_ctl action that wait for it to
// complete, on the server's data directory and log.
func (s *Server) ctlArgs(action string) []string {
	return []string{action, "-w", "-t", strconv.Itoa(int(serverWait / time.Second)), "-D", s.data(), "-l", s.log()}
}

// run runs one of the server's programs, as the server's user, and fails tb
// with its output and the server's log when it fails.
func (s *Server) run(tb testing.TB, program string, args ...string) {
	tb.Helper()
	if err := s.command(program, args...); err != nil {
		tb.Fatalf("%s %s: %v\nserver log:\n%s", program, strings.Join(args, " "), err, s.logTail())
	}
}

// command runs program with args, as the server's user, in the server's
// directory, killing it if it runs past serverWait and a little more.
func (s *Server) command(program string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), serverWait+15*time.Second)
	defer cancel()
	path := filepath.Join(s.bin, program)
	var cmd *exec.Cmd
	if s.user != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", s.user, "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = s.dir
	cmd.Env = serverEnv()
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w: %s", err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

// serverEnv returns this process's environment without the PG variables,
// which would point the server's programs elsewhere, and with the C locale.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "LC_") && !strings.HasPrefix(kv, "LANG=") {
			env = append(env, kv)
		}
	}
	return append(env, "LC_ALL=C")
}

// cleanup returns the function that stops the server, if it runs, and
// removes its directory.
func (s *Server) cleanup(tb testing.TB) func() {
	return func() {
		if _, err := os.Stat(filepath.Join(s.data(), "postmaster.pid")); err == nil {
			if err := s.command("pg_ctl", append(s.ctlArgs("stop"), "-m", "immediate")...); err != nil {
				tb.Errorf("stop the test's PostgreSQL server: %v", err)
			}
		}
		if err := os.RemoveAll(s.dir); err != nil {
			tb.Errorf("remove the test's PostgreSQL server's directory: %v", err)
		}
	}
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }
func (s *Server) log() string  { return filepath.Join(s.dir, "server.log") }

// logTail returns the end of the server's log, for a failure's message.
func (s *Server) logTail() string {
	b, err := os.ReadFile(s.log())
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	const most = 4000
	if len(b) > most {
		b = b[len(b)-most:]
	}
	return string(b)
}

// binDir returns the directory of PostgreSQL's programs, or "" when there
// is no initdb.
func binDir() string {
	var dirs []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dirs = append(dirs, strings.TrimSpace(string(out)))
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// Newest first: "9.6" < "10" < "15" compared as versions.
	sort.Slice(found, func(i, j int) bool { return versionOf(found[i]) > versionOf(found[j]) })
	for _, dir := range append(dirs, found...) {
		if info, err := os.Stat(filepath.Join(dir, "initdb")); err == nil && !info.IsDir() {
			return dir
		}
	}
	return ""
}

// versionOf returns the major version in a path /usr/lib/postgresql/N/bin,
// as a number that orders versions (N times 100 plus the minor part).
func versionOf(dir string) int {
	major, minor, _ := strings.Cut(filepath.Base(filepath.Dir(dir)), ".")
	m, _ := strconv.Atoi(major)
	n, _ := strconv.Atoi(minor)
	return m*100 + n
}

// freePort returns a TCP port of 127.0.0.1 that nothing listens on now.
func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// chown gives dir to the system user name.
func chown(dir, name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return err
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return err
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return err
	}
	return os.Chown(dir, uid, gid)
}
