package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// A step is one numbered line of the walk-through. Its body makes the calls
// a user would write; it returns the line to show, followed by the checks
// (want) of what the calls returned, or why it was skipped.
type step struct {
	name string
	run  func(context.Context) (*result, error)
}

// A result is what a step shows, and whether what it got is right.
type result struct {
	line string // printed once every check has passed
	bad  error  // the first check that failed
	// skip, when set, says why the step could not run, and fix what would
	// let it.
	skip, fix string
}

// shown returns a result that shows the formatted line.
func shown(format string, args ...any) *result {
	return &result{line: fmt.Sprintf(format, args...)}
}

// skipped returns the result of a step the store or server cannot run:
// why, shortly, and the flag or setting that would let it run, or "".
func skipped(reason, fix string) *result { return &result{skip: reason, fix: fix} }

// want checks what the step got: unless ok, the step fails with the
// formatted message, and the demo ends with it.
func (r *result) want(ok bool, format string, args ...any) *result {
	if !ok && r.bad == nil {
		r.bad = fmt.Errorf(format, args...)
	}
	return r
}

// A tally counts the steps of a demo.
type tally struct {
	total, done, passed int
	// skippedSteps are the numbers of the skipped steps, by name.
	skippedSteps []numbered
	failedStep   string
	// reasons are the reasons of the skips so far, by the first step
	// skipped for each.
	reasons map[string]int
	fixes   []string
}

// A numbered step is a step's name and number.
type numbered struct {
	name string
	n    int
}

// steps runs each step in turn and prints its line, numbered: what it
// showed once its checks have passed, why it was skipped, or why it failed.
// It returns the first error or failed check, after which no step runs.
func (d *demo) steps(ctx context.Context, steps ...step) error {
	for _, st := range steps {
		r, err := st.run(ctx)
		if err == nil {
			err = r.bad
		}
		d.done++
		switch {
		case err != nil:
			d.failedStep = st.name
			line := fmt.Sprintf("%2d. %s: FAILED: %v", d.done, st.name, err)
			if fix := fixOf(err); fix != "" {
				line += "; fix: " + fix
			}
			fmt.Fprintln(d.out, line)
			return err
		case r.skip != "":
			line := fmt.Sprintf("%2d. %s: skipped: %s", d.done, st.name, r.skip)
			if r.fix != "" {
				line += "; fix: " + r.fix
			}
			if first, ok := d.reasons[r.skip]; ok {
				line = fmt.Sprintf("%2d. %s: skipped: as step %d", d.done, st.name, first)
			}
			d.skip(st.name, d.done, r.skip, r.fix)
			fmt.Fprintln(d.out, line)
		default:
			d.passed++
			fmt.Fprintf(d.out, "%2d. %s\n", d.done, r.line)
		}
	}
	return nil
}

// skip counts step n, skipped for reason, and the fix that would let it
// run.
func (d *demo) skip(name string, n int, reason, fix string) {
	d.skippedSteps = append(d.skippedSteps, numbered{name, n})
	if _, ok := d.reasons[reason]; !ok {
		if d.reasons == nil {
			d.reasons = map[string]int{}
		}
		d.reasons[reason] = n
	}
	if fix != "" && !slices.Contains(d.fixes, fix) {
		d.fixes = append(d.fixes, fix)
	}
}

// skipAll skips steps, which need one that was skipped, on one line.
func (d *demo) skipAll(steps []step, reason string) {
	if len(steps) == 0 {
		return
	}
	first := d.done + 1
	var names []string
	for _, st := range steps {
		d.done++
		d.skip(st.name, d.done, reason, "")
		names = append(names, st.name)
	}
	section, _, _ := strings.Cut(names[0], ": ")
	for i, name := range names[1:] {
		names[i+1] = strings.TrimPrefix(name, section+": ")
	}
	fmt.Fprintf(d.out, "%d-%d. %s: skipped: %s\n", first, d.done, strings.Join(names, ", "), reason)
}

// skippedSections names the skipped steps by section, with their numbers,
// such as "watch (step 8), config store (steps 11-17)".
func (d *demo) skippedSections() string {
	var parts []string
	for i := 0; i < len(d.skippedSteps); {
		section, _, _ := strings.Cut(d.skippedSteps[i].name, ": ")
		j := i + 1
		for j < len(d.skippedSteps) && strings.HasPrefix(d.skippedSteps[j].name, section+": ") &&
			d.skippedSteps[j].n == d.skippedSteps[j-1].n+1 {
			j++
		}
		if j == i+1 {
			parts = append(parts, fmt.Sprintf("%s (step %d)", d.skippedSteps[i].name, d.skippedSteps[i].n))
		} else {
			parts = append(parts, fmt.Sprintf("%s (steps %d-%d)", section, d.skippedSteps[i].n, d.skippedSteps[j-1].n))
		}
		i = j
	}
	return strings.Join(parts, ", ")
}

// summary prints how many steps ran, passed, were skipped (which, and the
// fix) and failed; it says all is well only when every step passed.
func (d *demo) summary() {
	if d.passed == d.total {
		fmt.Fprintf(d.out, "demo finished: all %d steps passed\n", d.total)
		return
	}
	counts := fmt.Sprintf("%d steps: %d passed, %d skipped", d.total, d.passed, len(d.skippedSteps))
	if d.failedStep != "" {
		fmt.Fprintf(d.out, "demo failed: %s, 1 failed (%s), %d not run\n", counts, d.failedStep, d.total-d.done)
	} else {
		fmt.Fprintf(d.out, "demo incomplete: %s\n", counts)
	}
	if len(d.skippedSteps) > 0 {
		fmt.Fprintf(d.out, "skipped: %s\n", d.skippedSections())
	}
	if len(d.fixes) > 0 {
		fmt.Fprintf(d.out, "to run them: %s\n", strings.Join(d.fixes, "; "))
	}
}

// outcome is the demo's error: the step's error when one failed (the output
// told it), incomplete when steps were skipped, else nil.
func (d *demo) outcome(err error) error {
	switch {
	case err != nil:
		return fmt.Errorf("%w: %w", errReported, err)
	case len(d.skippedSteps) > 0:
		return &incompleteError{skipped: len(d.skippedSteps)}
	}
	return nil
}

// An incompleteError is a demo that skipped steps; its output said which.
type incompleteError struct{ skipped int }

func (e *incompleteError) Error() string { return fmt.Sprintf("demo skipped %d steps", e.skipped) }

// Is makes the error one whose story the output told.
func (e *incompleteError) Is(target error) bool { return target == errReported }
