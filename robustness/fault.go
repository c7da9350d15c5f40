package robustness

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cledar/storekit/internal/redistest"
)

// Inject runs fault on the test's goroutine, records it in every history
// of hs (which share one clock, see History.Sibling) as a Fault named name
// spanning the call, and returns once fault
// has. A lossy fault is a failover that may lose acknowledged writes.
func Inject(hs []*History, name string, lossy bool, fault func()) {
	start := hs[0].Now()
	fault()
	end := hs[0].Now()
	for _, h := range hs {
		h.AddFault(Fault{Name: name, Start: start, End: end, Lossy: lossy})
	}
}

// Pause stops srv's process with SIGSTOP for d, as a stalled machine or a
// long pause of the server would, then resumes it with SIGCONT. The
// server's clients see their calls hang until it resumes. The process is
// resumed when tb ends, should the test fail while it is stopped.
func Pause(tb testing.TB, srv *redistest.Server, d time.Duration) {
	tb.Helper()
	pid := serverPID(tb, srv)
	resume := func() { _ = syscall.Kill(pid, syscall.SIGCONT) }
	tb.Cleanup(resume)
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		tb.Fatalf("pause redis-server %d: %v", pid, err)
	}
	time.Sleep(d)
	resume()
}

// serverPID returns the process id of srv, as it reports in INFO server.
func serverPID(tb testing.TB, srv *redistest.Server) int {
	tb.Helper()
	if !srv.Owned() {
		tb.Fatalf("cannot pause %s: not a server of this test", srv.Addr())
	}
	reply, err := srv.Do("INFO", "server")
	if err != nil {
		tb.Fatalf("INFO server on %s: %v", srv.Addr(), err)
	}
	info, _ := reply.(string)
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			pid, err := strconv.Atoi(v)
			if err != nil {
				tb.Fatalf("INFO server on %s: process_id %q: %v", srv.Addr(), v, err)
			}
			return pid
		}
	}
	tb.Fatalf("INFO server on %s reports no process_id", srv.Addr())
	return 0
}

// TerminateBackends ends, with pg_terminate_backend, every server process
// of the connections whose application_name is app, other than the one
// that asks, and returns how many it ended: the test's own connections,
// found by the name pgtest.Pool gave them, never anyone else's.
func TerminateBackends(tb testing.TB, pool *pgxpool.Pool, app string) int {
	tb.Helper()
	if app == "" {
		tb.Fatal("TerminateBackends needs an application name")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var n int
	// The asking connection is itself one of the pool's; it may be taken
	// from a pool whose other connections were just ended, so try again.
	var err error
	for range 5 {
		err = pool.QueryRow(ctx,
			`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			 WHERE application_name = $1 AND pid <> pg_backend_pid()`, app).Scan(&n)
		if err == nil {
			return n
		}
	}
	tb.Fatal(fmt.Errorf("terminate the backends of %s: %w", app, err))
	return 0
}
