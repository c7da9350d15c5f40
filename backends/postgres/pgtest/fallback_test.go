package pgtest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/cledar/storekit/internal/containercmd"
)

// nowhere returns a connection string to a port of 127.0.0.1 that nothing
// listens on, standing for a missing local server.
func nowhere(t *testing.T) string {
	return "postgres://postgres@127.0.0.1:" + strconv.Itoa(freePort(t)) + "/postgres?sslmode=disable"
}

// TestFallbackLocal: a local server that answers is the one used.
func TestFallbackLocal(t *testing.T) {
	if err := ping(DefaultURL); err != nil {
		unavailable(t, "no local PostgreSQL server at "+DefaultURL+": "+err.Error())
	}
	if got := fallback(t, DefaultURL, t.TempDir()); got != DefaultURL {
		t.Errorf("fallback = %q, want the local server %q", got, DefaultURL)
	}
}

// TestFallbackStart: without a local server, and with PostgreSQL's
// programs, the server is one of the test's own, set up as Start sets it
// up, which answers at the URL returned.
func TestFallbackStart(t *testing.T) {
	bin := binDir()
	if bin == "" {
		unavailable(t, noBinaries)
	}
	local := nowhere(t)
	url := fallback(t, local, bin)
	if url == local || url == DefaultURL {
		t.Fatalf("fallback = %q, want a server of the test's own", url)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("the fallback's server at %s: %v", url, err)
	}
	defer conn.Close(ctx)
	var fsync, dir string
	if err := conn.QueryRow(ctx, `SELECT current_setting('fsync'), current_setting('data_directory')`).Scan(&fsync, &dir); err != nil {
		t.Fatal(err)
	}
	if fsync != "off" || !strings.Contains(dir, "storekit-pg-") {
		t.Errorf("the fallback's server: fsync=%q, data directory %q; want off, and one of Start's", fsync, dir)
	}
}

// A recorder is a testing.TB that records a skip or a failure instead of
// ending the test.
type recorder struct {
	testing.TB
	skipped, fatal string
}

func (r *recorder) Skip(args ...any)                  { r.skipped = fmt.Sprint(args...) }
func (r *recorder) Fatal(args ...any)                 { r.fatal = fmt.Sprint(args...) }
func (r *recorder) Fatalf(format string, args ...any) { r.fatal = fmt.Sprintf(format, args...) }

// TestFallbackNoDocker: without a local server, PostgreSQL's programs or a
// Docker engine, the container fallback is unavailable, and the test is
// skipped (or fails, with STOREKIT_REQUIRE_POSTGRES=1) with a message
// that names each thing tried and why the container could not run.
func TestFallbackNoDocker(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+t.TempDir()+"/no-docker.sock")
	t.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	saved := containers
	containers = new(containercmd.Runner)
	t.Cleanup(func() { containers = saved })
	local := nowhere(t)
	for _, require := range []string{"", "1"} {
		t.Setenv("STOREKIT_REQUIRE_POSTGRES", require)
		r := &recorder{TB: t}
		if url := fallback(r, local, ""); url != "" {
			t.Fatalf("STOREKIT_REQUIRE_POSTGRES=%q: fallback = %q with no Docker engine, want none", require, url)
		}
		got, other := r.skipped, r.fatal
		if require == "1" {
			got, other = r.fatal, r.skipped
		}
		for _, want := range []string{"STOREKIT_POSTGRES_URL is not set", local, noBinaries, "no Docker engine for testcontainers: "} {
			if !strings.Contains(got, want) || other != "" {
				t.Errorf("STOREKIT_REQUIRE_POSTGRES=%q: skipped=%q fatal=%q, want the one matching the setting, saying %q",
					require, r.skipped, r.fatal, want)
			}
		}
	}
}
