package containercmd

import (
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: the
// readers of a command's output must end with it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestRunNoDocker: without a Docker engine, Run gives the command's reason,
// no address and no error, and gives the same reason at once on a second
// call, whatever its arguments.
func TestRunNoDocker(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+t.TempDir()+"/no-docker.sock")
	t.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	var r Runner
	addr, stop, reason, err := r.Run("-kind", "postgres")
	if addr != "" || stop != nil || err != nil || !strings.HasPrefix(reason, "no Docker engine for testcontainers: ") {
		t.Fatalf("Run: addr %q, stop set %v, reason %q, err %v; want only a reason naming Docker", addr, stop != nil, reason, err)
	}
	if _, _, again, err := r.Run(); again != reason || err != nil {
		t.Errorf("second Run: reason %q, err %v; want the first reason %q", again, err, reason)
	}
}

// TestRunBadArgs: a command that exits without its line, here on a usage
// error, makes the fallback unavailable, with the command's standard error
// in the reason.
func TestRunBadArgs(t *testing.T) {
	var r Runner
	_, _, reason, err := r.Run("-kind", "mysql")
	if err != nil || !strings.Contains(reason, "did not run") || !strings.Contains(reason, `"mysql"`) {
		t.Errorf("Run: reason %q, err %v; want a reason quoting the usage error", reason, err)
	}
}
