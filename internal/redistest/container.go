package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The testcontainers fallback of [New] is the command in the directory
// containerCmdDir beside this file, a module of its own (so that
// testcontainers, the Docker client and what they need stay out of
// storekit's module graph), run with `go run .` there. It answers with one
// line on its standard output (see its documentation) and removes its
// container when its standard input closes.
const (
	containerCmdDir = "rediscontainer"
	// containerImage is the image it runs.
	containerImage = "redis:7.0"
	// containerStartTimeout bounds the wait for its answer, which may
	// include compiling it and pulling the image the first time.
	containerStartTimeout = 5 * time.Minute
	// containerStopTimeout bounds the wait for it to remove its container
	// and exit once told to.
	containerStopTimeout = 45 * time.Second
	// stderrTail is how much of its standard error a message quotes.
	stderrTail = 4000
)

// noContainer holds why the fallback is unavailable once a run found it so:
// later tests of the same binary skip at once. Its lock also makes tests
// start containers one at a time, so that only one compiles the command.
var noContainer struct {
	sync.Mutex
	reason string
}

// startContainer returns a server in a container started for t and
// removed when t ends, or nil and why the fallback is unavailable: no
// Docker engine answers, or the command could not be built or run. It
// fails t when the command ran but could not start a container, or gave no
// answer in time.
func startContainer(t testing.TB) (*Server, string) {
	t.Helper()
	noContainer.Lock()
	defer noContainer.Unlock()
	if noContainer.reason == "" {
		s, reason := runContainer(t)
		if s != nil || reason == "" {
			return s, ""
		}
		noContainer.reason = reason
	}
	return nil, noContainer.reason
}

// runContainer runs the command once for startContainer.
func runContainer(t testing.TB) (*Server, string) {
	t.Helper()
	dir, err := containerDir()
	if err != nil {
		return nil, "the testcontainers fallback cannot run: " + err.Error()
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, "the testcontainers fallback cannot run: go is not on PATH"
	}
	p, err := launchContainerCmd(goBin, dir)
	if err != nil {
		return nil, fmt.Sprintf("the testcontainers fallback cannot run (go run in %s): %v", dir, err)
	}
	var line string
	select {
	case line = <-p.answer:
	case <-time.After(containerStartTimeout):
		p.stop()
		t.Fatalf("redistest: the testcontainers fallback (go run in %s) gave no answer within %v: %s",
			dir, containerStartTimeout, p.stderr)
		return nil, ""
	}
	verb, rest, _ := strings.Cut(line, " ")
	switch verb {
	case "addr":
		t.Cleanup(p.stop)
		s := &Server{t: t, addr: rest, owned: true}
		if err := s.ping(); err != nil {
			t.Fatalf("redistest: the Redis container at %s does not answer PING: %v", rest, err)
		}
		return s, ""
	case "unavailable":
		p.stop()
		return nil, rest
	case "error":
		p.stop()
		t.Fatalf("redistest: the testcontainers fallback: %s\n%s", rest, p.stderr)
		return nil, ""
	default:
		p.stop()
		return nil, fmt.Sprintf("the testcontainers fallback did not run (go run in %s): %s", dir, p.stderr)
	}
}

// containerDir returns the command's directory, found beside this file.
func containerDir() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("the harness's source file is unknown")
	}
	dir := filepath.Join(filepath.Dir(file), containerCmdDir)
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		return "", fmt.Errorf("its module is not at %s (was the harness built with -trimpath?): %w", dir, err)
	}
	return dir, nil
}

// A containerProc is a running `go run` of the command.
type containerProc struct {
	cmd    *exec.Cmd
	stdin  *os.File      // closing it tells the command to remove its container
	answer chan string   // the command's line, or "" if it exited without one
	exited chan struct{} // closed once `go run` has exited
	stderr *tailBuffer
	once   sync.Once
}

// launchContainerCmd starts `go run .` in dir with goBin.
func launchContainerCmd(goBin, dir string) (*containerProc, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	args := append([]string{"run", ".", "-image", containerImage, "--"}, serverArgs...)
	cmd := exec.Command(goBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	cmd.Stdin, cmd.Stdout = inR, outW
	p := &containerProc{
		cmd:    cmd,
		stdin:  inW,
		answer: make(chan string, 1),
		exited: make(chan struct{}),
		stderr: &tailBuffer{max: stderrTail},
	}
	cmd.Stderr = p.stderr
	// A process group of its own, so that a kill reaches the program that
	// go run starts as well.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, err
	}
	go func() {
		defer outR.Close()
		r := bufio.NewReader(outR)
		line, _ := r.ReadString('\n')
		p.answer <- strings.TrimSpace(line)
		_, _ = io.Copy(io.Discard, r) // whatever else it writes, until it exits
	}()
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// stop closes the command's standard input, which makes it remove its
// container and exit, and waits for that, killing its process group after
// containerStopTimeout. It may be called more than once.
func (p *containerProc) stop() {
	p.once.Do(func() {
		p.stdin.Close()
		select {
		case <-p.exited:
		case <-time.After(containerStopTimeout):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.exited
		}
	})
}

// A tailBuffer keeps the last max bytes written to it, for messages; it is
// safe for concurrent use.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (w *tailBuffer) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b = append(w.b, b...)
	if len(w.b) > w.max {
		w.b = w.b[len(w.b)-w.max:]
	}
	return len(b), nil
}

func (w *tailBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.TrimSpace(string(w.b))
}
