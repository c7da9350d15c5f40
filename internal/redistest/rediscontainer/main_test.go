package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestRunNoDocker: with DOCKER_HOST naming a socket that does not exist, the
// command writes one "unavailable" line that says why, and exits 0, for
// either kind of server.
func TestRunNoDocker(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+t.TempDir()+"/no-docker.sock")
	t.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	for _, args := range [][]string{
		{"--", "--save", ""},
		{"-kind", "postgres", "--", "-c", "fsync=off"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(args, strings.NewReader(""), &stdout, &stderr)
		lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
		if code != 0 || len(lines) != 1 || !strings.HasPrefix(lines[0], "unavailable no Docker engine for testcontainers: ") ||
			len(lines[0]) == len("unavailable no Docker engine for testcontainers: ") {
			t.Errorf("run %q: exit %d, stdout %q (stderr %q), want exit 0 and one unavailable line with a reason",
				args, code, stdout.String(), stderr.String())
		}
	}
}

// TestRunBadKind: a -kind other than redis or postgres is a usage error
// that names it, and writes no line.
func TestRunBadKind(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"-kind", "mysql"}, strings.NewReader(""), &stdout, &stderr)
	if code != 2 || stdout.Len() != 0 || !strings.Contains(stderr.String(), `"mysql"`) {
		t.Errorf("run: exit %d, stdout %q, stderr %q; want 2, nothing, and the kind named", code, stdout.String(), stderr.String())
	}
}

// TestRunBadFlag: an unknown flag is a usage error, and writes no line.
func TestRunBadFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"-no-such-flag"}, strings.NewReader(""), &stdout, &stderr)
	if code != 2 || stdout.Len() != 0 || !strings.Contains(stderr.String(), "no-such-flag") {
		t.Errorf("run: exit %d, stdout %q, stderr %q; want 2, nothing, and the flag named", code, stdout.String(), stderr.String())
	}
}
