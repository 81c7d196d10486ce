package wire

import (
	"bytes"
	"encoding/json"

	"github.com/provisiond/provisiond/provisioning"
)

// Field is one member of a JSON Merge Patch (RFC 7396), with its three states: absent (Set
// false: the member is left out, given the omitzero option), null (Set and Null) and a value.
type Field[T any] struct {
	Set   bool
	Null  bool
	Value T
}

// IsZero reports whether the member is absent; with the omitzero option it is then not written.
func (f Field[T]) IsZero() bool { return !f.Set }

// MarshalJSON implements json.Marshaler: null, or the value.
func (f Field[T]) MarshalJSON() ([]byte, error) {
	if f.Null {
		return []byte("null"), nil
	}
	return json.Marshal(f.Value)
}

// UnmarshalJSON implements json.Unmarshaler; it is called only for members that are present.
func (f *Field[T]) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*f = Field[T]{Set: true, Null: true}
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = Field[T]{Set: true, Value: v}
	return nil
}

// fromField converts a domain patch field, its value through conv.
func fromField[D, W any](f provisioning.Field[D], conv func(D) W) Field[W] {
	return Field[W]{Set: f.Set, Null: f.Null, Value: conv(f.Value)}
}

// domainField converts a wire patch field back, its value through conv.
func domainField[W, D any](f Field[W], conv func(W) D) provisioning.Field[D] {
	return provisioning.Field[D]{Set: f.Set, Null: f.Null, Value: conv(f.Value)}
}

func same[T any](v T) T { return v }
