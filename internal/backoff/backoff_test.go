package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestDelayBounds(t *testing.T) {
	p := Policy{Min: time.Millisecond, Max: 20 * time.Millisecond}
	for attempt := range 40 {
		ceil := min(p.Max, p.Min<<min(attempt, 30))
		for range 200 {
			if d := p.Delay(attempt); d < 0 || d > ceil {
				t.Fatalf("Delay(%d) = %v, want within [0, %v]", attempt, d, ceil)
			}
		}
	}
}

func TestDelayGrows(t *testing.T) {
	p := Policy{Min: time.Millisecond, Max: time.Second}
	var first, later time.Duration
	for range 500 {
		first = max(first, p.Delay(0))
		later = max(later, p.Delay(8))
	}
	if first > time.Millisecond || later <= 10*time.Millisecond {
		t.Fatalf("largest delays: attempt 0 %v, attempt 8 %v; want <= 1ms and > 10ms", first, later)
	}
}

func TestWaitEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := Policy{Min: time.Hour, Max: time.Hour}
	if err := p.Wait(ctx, 3); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with a cancelled context = %v, want context.Canceled", err)
	}
}
