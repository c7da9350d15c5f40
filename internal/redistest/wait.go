package redistest

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Timings of the harness's polling.
const (
	// askTimeout bounds one command of a poll, so that a stopped or paused
	// server makes the poll retry instead of hang.
	askTimeout = 3 * time.Second
	// pollInterval is the pause between two checks of a poll.
	pollInterval = 50 * time.Millisecond
)

// ask is [Server.Do] bounded by askTimeout.
func (s *Server) ask(args ...string) (any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), askTimeout)
	defer cancel()
	return s.DoContext(ctx, args...)
}

// waitUntil calls check until it returns nil, and returns nil then, or the
// last error once timeout has passed.
func waitUntil(timeout time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(pollInterval)
	}
}

// role returns the first element of s's ROLE reply: "master", "slave" or
// "sentinel".
func role(s *Server) (string, error) {
	v, err := s.ask("ROLE")
	if err != nil {
		return "", fmt.Errorf("%s: ROLE: %w", s.Addr(), err)
	}
	arr, _ := v.([]any)
	if len(arr) == 0 {
		return "", fmt.Errorf("%s: malformed ROLE reply %v", s.Addr(), v)
	}
	r, _ := arr[0].(string)
	return r, nil
}

// infoField returns the value of field in an INFO reply, or "".
func infoField(info, field string) string {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v
		}
	}
	return ""
}
