package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// TestSteps checks that steps numbers and prints each step's line, says why
// one was skipped (once per reason) and which fix would let it run, stops at
// the first failure, and that the summary counts it all and says all is
// well only when every step passed.
func TestSteps(t *testing.T) {
	fine := step{"fine", func(context.Context) (*result, error) {
		return shown("a fine step").want(true, "unused"), nil
	}}
	noEvents := func(name string) step {
		return step{name, func(context.Context) (*result, error) { return skipped("no events", "turn them on"), nil }}
	}
	wrong := step{"wrong", func(context.Context) (*result, error) {
		return shown("wrong").want(true, "unused").want(false, "got %d", 2).want(false, "later"), nil
	}}

	var out bytes.Buffer
	d := &demo{out: &out, tally: tally{total: 6}}
	err := d.steps(context.Background(), fine, noEvents("watch"), fine, noEvents("config: open"))
	d.skipAll([]step{{"config: fetch", nil}, {"config: history", nil}}, "needs the config store (step 4)")
	d.summary()
	want := ` 1. a fine step
 2. watch: skipped: no events; fix: turn them on
 3. a fine step
 4. config: open: skipped: as step 2
5-6. config: fetch, history: skipped: needs the config store (step 4)
demo incomplete: 6 steps: 2 passed, 4 skipped
skipped: watch (step 2), config (steps 4-6)
to run them: turn them on
`
	if err != nil || out.String() != want || d.outcome(nil) == nil || exitCode(d.outcome(nil)) != exitIncomplete {
		t.Errorf("steps with skips: %v, printed\n%s\nwant\n%s", err, out.String(), want)
	}

	out.Reset()
	d = &demo{out: &out, tally: tally{total: 4}}
	err = d.steps(context.Background(), fine, wrong, fine, fine)
	d.summary()
	want = ` 1. a fine step
 2. wrong: FAILED: got 2
demo failed: 4 steps: 1 passed, 0 skipped, 1 failed (wrong), 2 not run
`
	if err == nil || err.Error() != "got 2" || out.String() != want || exitCode(d.outcome(err)) != exitFailed {
		t.Errorf("steps with a failure: %v, printed\n%s\nwant\n%s", err, out.String(), want)
	}

	boom := errors.New("boom")
	out.Reset()
	d = &demo{out: &out, tally: tally{total: 2}}
	failed := step{"failed", func(context.Context) (*result, error) { return nil, boom }}
	if err := d.steps(context.Background(), failed, fine); !errors.Is(err, boom) || out.String() != " 1. failed: FAILED: boom\n" {
		t.Errorf("steps: %v, printed %q; want boom, one line", err, out.String())
	}

	out.Reset()
	d = &demo{out: &out, tally: tally{total: 2}}
	if err := d.steps(context.Background(), fine, fine); err != nil || d.outcome(nil) != nil {
		t.Fatal(err)
	}
	d.summary()
	if !strings.HasSuffix(out.String(), "demo finished: all 2 steps passed\n") {
		t.Errorf("summary of passed steps: %q", out.String())
	}
}
