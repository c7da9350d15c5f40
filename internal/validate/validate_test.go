package validate

import (
	"errors"
	"testing"
	"time"

	"github.com/cledar/storekit/kv"
)

func TestValidate(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		bad  bool
	}{
		{"TTL(1ns)", TTL(time.Nanosecond), false},
		{"TTL(0)", TTL(0), true},
		{"TTL(-1s)", TTL(-time.Second), true},
		{"Version(1)", Version(1), false},
		{"Version(0)", Version(0), true},
		{"Before(1)", Before(1), false},
		{"Before(-3)", Before(-3), true},
		{"OptionalTTL(0)", OptionalTTL(0), false},
		{"OptionalTTL(1ms)", OptionalTTL(time.Millisecond), false},
		{"OptionalTTL(-1ns)", OptionalTTL(-1), true},
		{"Expect(0)", Expect(0), false},
		{"Expect(-1)", Expect(-1), true},
	} {
		if tt.bad != errors.Is(tt.err, kv.ErrInvalid) || tt.bad != (tt.err != nil) {
			t.Errorf("%s = %v, want an error wrapping kv.ErrInvalid: %v", tt.name, tt.err, tt.bad)
		}
	}
	if got := TTL(-time.Second).Error(); got != "ttl -1s is not positive: kv: invalid argument" {
		t.Errorf("TTL(-1s) text = %q", got)
	}
}
