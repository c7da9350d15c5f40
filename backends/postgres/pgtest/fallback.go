package pgtest

import (
	"testing"

	"github.com/cledar/storekit/internal/containercmd"
)

// containerArgs are the arguments of the container command (see
// package containercmd) for a postgres server set up as [Start] sets up
// its own: fsync off, room for many connections.
var containerArgs = []string{"-kind", "postgres", "-image", "postgres:15", "--",
	"-c", "fsync=off", "-c", "full_page_writes=off", "-c", "max_connections=200"}

// containers runs the container fallback of [URL]: once it is found
// unavailable, later tests of the same binary skip at once. A variable so
// that a test can run it afresh.
var containers = new(containercmd.Runner)

// fallback returns the server of [URL] when STOREKIT_POSTGRES_URL is not
// set: local when a server answers there, else one started for tb by
// [Start] with the programs in the directory bin when bin is not "", else
// one in a container. Without any, it skips tb, or fails it when
// STOREKIT_REQUIRE_POSTGRES=1, saying what it tried, and returns "".
func fallback(tb testing.TB, local, bin string) string {
	tb.Helper()
	err := ping(local)
	if err == nil {
		return local
	}
	if bin != "" {
		return start(tb, bin).URL()
	}
	addr, stop, reason, cerr := containers.Run(containerArgs...)
	if cerr != nil {
		tb.Fatalf("pgtest: %v", cerr)
		return ""
	}
	if reason != "" {
		unavailable(tb, "no PostgreSQL server for the tests: STOREKIT_POSTGRES_URL is not set, "+
			"none answers at "+local+" ("+err.Error()+"), "+noBinaries+", and "+reason)
		return ""
	}
	tb.Cleanup(stop)
	url := "postgres://postgres@" + addr + "/postgres?sslmode=disable"
	if err := ping(url); err != nil {
		tb.Fatalf("pgtest: the PostgreSQL container at %s does not answer: %v", addr, err)
	}
	return url
}
