package redistest

import (
	"testing"

	"github.com/cledar/storekit/internal/containercmd"
)

// The testcontainers fallback of [New] is the command in the directory
// rediscontainer beside this file, run through package containercmd.
const (
	// containerImage is the image it runs.
	containerImage = "redis:7.0"
)

// containers runs the fallback: once it is found unavailable, later tests
// of the same binary skip at once, and tests start containers one at a
// time, so that only one compiles the command.
var containers containercmd.Runner

// startContainer returns a server in a container started for t and
// removed when t ends, or nil and why the fallback is unavailable: no
// Docker engine answers, or the command could not be built or run. It
// fails t when the command ran but could not start a container, or gave no
// answer in time.
func startContainer(t testing.TB) (*Server, string) {
	t.Helper()
	addr, stop, reason, err := containers.Run(append([]string{"-image", containerImage, "--"}, serverArgs...)...)
	if err != nil {
		t.Fatalf("redistest: %v", err)
		return nil, ""
	}
	if reason != "" {
		return nil, reason
	}
	t.Cleanup(stop)
	s := &Server{t: t, addr: addr, owned: true}
	if err := s.ping(); err != nil {
		t.Fatalf("redistest: the Redis container at %s does not answer PING: %v", addr, err)
	}
	return s, ""
}
