// Package typename names Go types the way storekit's errors show them.
package typename

import "reflect"

// Of returns the name of T without its package and without pointers:
// "User" for *pkg.User, and the type's literal, such as "map[string]int",
// for a type without a name. codec.DeserializationError.Model holds it.
func Of[T any]() string {
	t := reflect.TypeFor[T]()
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Name() != "" {
		return t.Name()
	}
	return t.String()
}
