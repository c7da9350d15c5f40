package codec

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
)

// An Enum holds the member names of an enumerated type E, so that E can be
// written as the Python original writes an Enum member, its lowercased name
// (Color.RED → "red"), and read back. Build one with [NewEnum] and give E the
// methods that encoding/json and [Store] look for:
//
//	type Color int
//
//	const (
//		Red Color = iota + 1
//		Green
//	)
//
//	var colors = codec.NewEnum(map[Color]string{Red: "RED", Green: "GREEN"})
//
//	func (c Color) MarshalText() ([]byte, error)    { return colors.Marshal(c) }
//	func (c *Color) UnmarshalText(text []byte) error { return colors.Unmarshal(text, c) }
//
// Reading ignores case. An enum that mirrors a Python IntEnum or StrEnum,
// whose members Python writes as their values, needs no Enum: leave E
// without these methods and it is written as its number or string.
//
// An Enum is immutable and safe for concurrent use.
type Enum[E comparable] struct {
	names   map[E]string // lowercased
	members map[string]E // by lowercased name
}

// NewEnum returns the Enum of the members in names, each mapped to its name
// (in any case). It panics if a name is empty or two names are equal once
// lowercased: names is meant to be a literal in the program.
func NewEnum[E comparable](names map[E]string) *Enum[E] {
	e := &Enum[E]{names: make(map[E]string, len(names)), members: make(map[string]E, len(names))}
	for m, name := range names {
		lower := strings.ToLower(name)
		if lower == "" {
			panic(fmt.Sprintf("codec: NewEnum: %s has an empty name", describe(m)))
		}
		if _, dup := e.members[lower]; dup {
			panic(fmt.Sprintf("codec: NewEnum: two members of %T are named %q", m, lower))
		}
		e.names[m] = lower
		e.members[lower] = m
	}
	return e
}

// Name returns the lowercased name of v and whether v is a member.
func (e *Enum[E]) Name(v E) (string, bool) {
	name, ok := e.names[v]
	return name, ok
}

// Marshal returns the lowercased name of v, for a MarshalText method. It
// fails if v is not a member.
func (e *Enum[E]) Marshal(v E) ([]byte, error) {
	name, ok := e.names[v]
	if !ok {
		return nil, fmt.Errorf("codec: %s is not a member of its enum", describe(v))
	}
	return []byte(name), nil
}

// Unmarshal sets *v to the member named text, in any case, for an
// UnmarshalText method. It fails if no member has that name.
func (e *Enum[E]) Unmarshal(text []byte, v *E) error {
	m, ok := e.members[string(text)]
	if !ok {
		m, ok = e.members[string(bytes.ToLower(text))]
	}
	if !ok {
		return fmt.Errorf("codec: %q is not the name of a member of %T", text, *v)
	}
	*v = m
	return nil
}

// describe formats v by its underlying value: fmt would call its String
// method, which may itself call the Enum.
func describe(v any) string {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Invalid:
		return "nil"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fmt.Sprintf("%s(%d)", rv.Type(), rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return fmt.Sprintf("%s(%d)", rv.Type(), rv.Uint())
	case reflect.String:
		return fmt.Sprintf("%s(%q)", rv.Type(), rv.String())
	}
	return "a value of type " + rv.Type().String()
}
