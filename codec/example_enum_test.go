package codec_test

import (
	"context"
	"fmt"

	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/codec"
)

// Color is an enum written as the Python original writes an Enum member:
// its lowercased name.
type Color int

const (
	Red Color = iota + 1
	Green
	DarkBlue
)

var colors = codec.NewEnum(map[Color]string{Red: "RED", Green: "GREEN", DarkBlue: "DARK_BLUE"})

// MarshalText implements encoding.TextMarshaler.
func (c Color) MarshalText() ([]byte, error) { return colors.Marshal(c) }

// UnmarshalText implements encoding.TextUnmarshaler.
func (c *Color) UnmarshalText(text []byte) error { return colors.Unmarshal(text, c) }

// String implements fmt.Stringer.
func (c Color) String() string {
	if name, ok := colors.Name(c); ok {
		return name
	}
	return fmt.Sprintf("Color(%d)", int(c))
}

// Car is a model with an enum field.
type Car struct {
	Model string `json:"model"`
	Color Color  `json:"color"`
}

func ExampleEnum() {
	ctx := context.Background()
	store := memory.New(nil)
	defer store.Close()
	cars := codec.New[Car](store, nil)

	_ = cars.Set(ctx, "car:1", Car{Model: "T", Color: DarkBlue})
	raw, _, _ := cars.GetRaw(ctx, "car:1")
	fmt.Println(string(raw))

	// Names read back in any case, as a Python service may write them.
	_ = store.Set(ctx, "car:2", []byte(`{"model": "S", "color": "Green"}`))
	car, _, err := cars.Get(ctx, "car:2")
	fmt.Println(car.Model, car.Color, err)

	_, _, err = cars.Get(ctx, "car:3") // missing: no error
	fmt.Println(err)
	_ = store.Set(ctx, "car:3", []byte(`{"model": "X", "color": "purple"}`))
	_, _, err = cars.Get(ctx, "car:3")
	fmt.Println(err)
	// Output:
	// {"model": "T", "color": "dark_blue"}
	// S green <nil>
	// <nil>
	// Validation failed for key 'car:3' and model 'Car': codec: "purple" is not the name of a member of codec_test.Color
}
