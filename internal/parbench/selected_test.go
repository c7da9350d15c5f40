package parbench

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestSplitPattern(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		want    [][]string
	}{
		{".", [][]string{{"."}}},
		{"Stores/Get/par=8/impl=goredis$", [][]string{{"Stores", "Get", "par=8", "impl=goredis$"}}},
		{"Stores/(Get|Set)/par=|Lock|Cluster", [][]string{{"Stores", "(Get|Set)", "par="}, {"Lock"}, {"Cluster"}}},
		{`a[/|]b\/c/d`, [][]string{{`a[/|]b\/c`, "d"}}},
	} {
		if got := splitPattern(tc.pattern); !slices.EqualFunc(got, tc.want, slices.Equal) {
			t.Errorf("splitPattern(%q) = %q, want %q", tc.pattern, got, tc.want)
		}
	}
}

// TestSelected runs BenchmarkSelectedProbe in a process of its own with
// several -test.bench patterns, and checks that Selected chose the leaves
// that the testing package then ran.
func TestSelected(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the test binary")
	}
	for _, pattern := range []string{
		".",
		"SelectedProbe/Op/par=1/impl=store$",
		"SelectedProbe/Op/par=1/impl=store",
		"SelectedProbe/Op/par=8/impl=store",
		"SelectedProbe/(Op|Other)/par=[18]/impl=raw|SelectedProbe/Op/par=1/impl=cached",
		"Lock|SelectedProbe/Op/par=",
		"SelectedProbe/Op/par=1/impl=nothing",
	} {
		out, err := exec.Command(os.Args[0], "-test.run", "^$", "-test.bench", pattern, "-test.benchtime", "1x").CombinedOutput()
		if err != nil {
			t.Fatalf("-test.bench %q: %v\n%s", pattern, err, out)
		}
		var selected, ran []string
		for _, line := range strings.Split(string(out), "\n") {
			if leaf, ok := strings.CutPrefix(line, "selected "); ok {
				selected = append(selected, leaf)
			}
			if leaf, ok := strings.CutPrefix(line, "ran "); ok && !slices.Contains(ran, leaf) {
				ran = append(ran, leaf)
			}
		}
		if !slices.Equal(selected, ran) {
			t.Errorf("-test.bench %q: Selected chose %q, the testing package ran %q", pattern, selected, ran)
		}
	}
}

// BenchmarkSelectedProbe prints the leaves Selected chooses and those that
// run, for TestSelected.
func BenchmarkSelectedProbe(b *testing.B) {
	b.Run("Op/par=1", func(b *testing.B) {
		leaves := []string{"impl=raw", "impl=store", "impl=store-cached"}
		for _, leaf := range leaves {
			if Selected(b, leaf) {
				fmt.Println("selected", leaf)
			}
		}
		for _, leaf := range leaves {
			b.Run(leaf, func(*testing.B) { fmt.Println("ran", leaf) })
		}
	})
}
