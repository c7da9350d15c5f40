package typename_test

import (
	"testing"

	"github.com/cledar/storekit/internal/typename"
)

type user struct{}

func TestOf(t *testing.T) {
	for got, want := range map[string]string{
		typename.Of[user]():           "user",
		typename.Of[*user]():          "user",
		typename.Of[**user]():         "user",
		typename.Of[int]():            "int",
		typename.Of[map[string]int](): "map[string]int",
		typename.Of[[]*user]():        "[]*typename_test.user",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
