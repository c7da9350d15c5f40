package containercmd

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
	"time"
)

const (
	// StartTimeout bounds the wait for the command's answer, which may
	// include compiling it and pulling the image the first time.
	StartTimeout = 5 * time.Minute
	// stopTimeout bounds the wait for it to remove its container and exit
	// once told to.
	stopTimeout = 45 * time.Second
	// stderrTail is how much of its standard error a message quotes.
	stderrTail = 4000
)

// A Runner runs the command for one harness. Once a run found the fallback
// unavailable, later runs give the same reason at once; its lock also makes
// runs one at a time, so that only one compiles the command. The zero
// Runner is ready to use.
type Runner struct {
	mu     sync.Mutex
	reason string
}

// Run runs the command with args (those of the command, such as
// "-kind", "postgres", "--", server arguments) and returns one of:
//
//   - the address of the server in the container, and stop, which removes
//     the container and waits for the command to exit (at most a little
//     over a minute; it may be called more than once);
//   - why the fallback is unavailable: no Docker engine answers, or the
//     command could not be built or run;
//   - an error, when the command ran but could not start a container, or
//     gave no answer within StartTimeout.
func (r *Runner) Run(args ...string) (addr string, stop func(), reason string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reason != "" {
		return "", nil, r.reason, nil
	}
	addr, stop, reason, err = run(args)
	r.reason = reason
	return addr, stop, reason, err
}

// run runs the command once for Run.
func run(args []string) (addr string, stop func(), reason string, err error) {
	dir, err := cmdDir()
	if err != nil {
		return "", nil, "the testcontainers fallback cannot run: " + err.Error(), nil
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", nil, "the testcontainers fallback cannot run: go is not on PATH", nil
	}
	p, err := launch(goBin, dir, args)
	if err != nil {
		return "", nil, fmt.Sprintf("the testcontainers fallback cannot run (go run in %s): %v", dir, err), nil
	}
	var line string
	select {
	case line = <-p.answer:
	case <-time.After(StartTimeout):
		p.stop()
		return "", nil, "", fmt.Errorf("the testcontainers fallback (go run in %s) gave no answer within %v: %s",
			dir, StartTimeout, p.stderr)
	}
	verb, rest, _ := strings.Cut(line, " ")
	switch verb {
	case "addr":
		return rest, p.stop, "", nil
	case "unavailable":
		p.stop()
		return "", nil, rest, nil
	case "error":
		p.stop()
		return "", nil, "", fmt.Errorf("the testcontainers fallback: %s\n%s", rest, p.stderr)
	default:
		p.stop()
		return "", nil, fmt.Sprintf("the testcontainers fallback did not run (go run in %s): %s", dir, p.stderr), nil
	}
}

// cmdDir returns the command's directory, found from this file's. It is
// missing when the harness runs from the module cache, whose storekit holds
// no nested module, or was built with -trimpath.
func cmdDir() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("the harness's source file is unknown")
	}
	dir := filepath.Join(filepath.Dir(file), "..", "redistest", "rediscontainer")
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		return "", fmt.Errorf("its module is not at %s (was the harness built with -trimpath, or is it in the module cache?): %w", dir, err)
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

// launch starts `go run . args...` in dir with goBin.
func launch(goBin, dir string, args []string) (*containerProc, error) {
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
	cmd := exec.Command(goBin, append([]string{"run", "."}, args...)...)
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
// stopTimeout. It may be called more than once.
func (p *containerProc) stop() {
	p.once.Do(func() {
		p.stdin.Close()
		select {
		case <-p.exited:
		case <-time.After(stopTimeout):
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
