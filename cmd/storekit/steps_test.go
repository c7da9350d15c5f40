package main

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

// TestSteps checks that steps prints each step's line once its checks have
// passed, and stops at the first failed check or error, printing nothing for
// that step.
func TestSteps(t *testing.T) {
	var out bytes.Buffer
	d := &demo{out: &out}
	ran := 0
	fine := func(context.Context) (*result, error) {
		ran++
		return shown("step %d", ran).want(true, "unused"), nil
	}
	wrong := func(context.Context) (*result, error) {
		ran++
		return shown("wrong").want(true, "unused").want(false, "got %d", 2).want(false, "later"), nil
	}
	err := d.steps(context.Background(), fine, fine, wrong, fine)
	if err == nil || err.Error() != "demo: got 2" || ran != 3 || out.String() != " 1. step 1\n 2. step 2\n" {
		t.Errorf("steps: %v after %d steps, printed %q; want demo: got 2 after 3, two lines", err, ran, out.String())
	}

	boom := errors.New("boom")
	failed := func(context.Context) (*result, error) { return nil, boom }
	out.Reset()
	if err := d.steps(context.Background(), failed, fine); err != boom || out.Len() != 0 {
		t.Errorf("steps: %v, printed %q; want boom, nothing printed", err, out.String())
	}
}
