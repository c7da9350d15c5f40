package codec_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cledar/storekit/codec"
)

func TestEnum(t *testing.T) {
	if name, ok := pyColors.Name(pyDarkBlue); name != "dark_blue" || !ok {
		t.Errorf("Name(pyDarkBlue) = %q, %v", name, ok)
	}
	if name, ok := pyColors.Name(0); name != "" || ok {
		t.Errorf("Name(0) = %q, %v", name, ok)
	}
	if b, err := pyColors.Marshal(pyGreen); string(b) != "green" || err != nil {
		t.Errorf("Marshal(pyGreen) = %q, %v", b, err)
	}
	if _, err := pyColors.Marshal(7); err == nil || !strings.Contains(err.Error(), "codec_test.pyColor(7)") {
		t.Errorf("Marshal(7): %v", err)
	}
	for _, in := range []string{"red", "RED", "Red", "rEd"} {
		var c pyColor
		if err := pyColors.Unmarshal([]byte(in), &c); err != nil || c != pyRed {
			t.Errorf("Unmarshal(%q) = %v, %v", in, c, err)
		}
	}
	c := pyGreen
	for _, in := range []string{"", "blue", "red ", "1"} {
		if err := pyColors.Unmarshal([]byte(in), &c); err == nil || c != pyGreen {
			t.Errorf("Unmarshal(%q) = %v, %v; want an error and no change", in, c, err)
		}
	}
}

func TestEnumJSON(t *testing.T) {
	type palette struct {
		Main   pyColor         `json:"main"`
		Others []pyColor       `json:"others"`
		Counts map[pyColor]int `json:"counts"`
	}
	p := palette{pyRed, []pyColor{pyGreen, pyDarkBlue}, map[pyColor]int{pyDarkBlue: 2}}
	b, err := codec.JSON[palette](nil).Encode(p)
	if want := `{"main": "red", "others": ["green", "dark_blue"], "counts": {"dark_blue": 2}}`; err != nil || string(b) != want {
		t.Errorf("Encode = %s, %v; want %s", b, err, want)
	}
	var back palette
	if err := json.Unmarshal([]byte(`{"main": "RED", "others": ["Green"], "counts": {"DARK_BLUE": 2}}`), &back); err != nil ||
		back.Main != pyRed || back.Others[0] != pyGreen || back.Counts[pyDarkBlue] != 2 {
		t.Errorf("Unmarshal = %+v, %v", back, err)
	}
}

// strEnum is an enum with a string underlying type.
type strEnum string

func TestNewEnumPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"duplicate": func() { codec.NewEnum(map[int]string{1: "A", 2: "a"}) },
		"empty":     func() { codec.NewEnum(map[strEnum]string{"x": ""}) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		})
	}
	e := codec.NewEnum(map[strEnum]string{"x": "X"})
	if _, err := e.Marshal("y"); err == nil || !strings.Contains(err.Error(), `codec_test.strEnum("y")`) {
		t.Errorf("Marshal: %v", err)
	}
	var any1 = codec.NewEnum(map[any]string{1: "one"})
	if _, err := any1.Marshal(nil); err == nil || !strings.Contains(err.Error(), "nil") {
		t.Errorf("Marshal(nil): %v", err)
	}
}
