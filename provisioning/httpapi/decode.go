package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/provisiond/provisiond/provisioning"
)

// decode reads the body (with the size and media type checks) and decodes it into dst.
//
// Bodies are decoded before the request is authorized, on purpose: authorization is the
// Provisioner's alone (the host's Authorizer, behind whatever wraps the Provisioner), and this
// layer could not decide it first without a second, possibly different, copy of that decision.
// The order is harmless because by then the caller is authenticated and counted against its
// partner's rate limit (authed runs first), the body is at most maxBody bytes, and decoding
// costs time and memory linear in the body's size with small constants and nesting bounded
// by provisioning.MaxJSONDepth (see syntax.go); nothing is stored or looked up. A caller
// without the permission learns only whether its own body is well formed.
func (s *server) decode(w http.ResponseWriter, r *http.Request, dst any, mediaTypes ...string) error {
	body, err := readBody(w, r, s.maxBody, mediaTypes...)
	if err != nil {
		return err
	}
	return decodeObject(body, dst)
}

// readBody checks the Content-Type against the accepted media types and reads at most limit
// bytes of body.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, mediaTypes ...string) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !slices.Contains(mediaTypes, mt) {
		return nil, httpError(codeUnsupportedMedia, "Content-Type must be %s", strings.Join(mediaTypes, " or "))
	}
	if r.ContentLength > limit {
		return nil, httpError(codeBodyTooLarge, "the body must be at most %d bytes", limit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, httpError(codeBodyTooLarge, "the body must be at most %d bytes", limit)
	case err != nil:
		return nil, httpError(provisioning.CodeBadRequest, "the body could not be read")
	}
	return body, nil
}

// maxUnknownListed bounds the unknown keys a problem lists: a body of a hundred thousand
// invented keys gets a short answer, whose detail still counts them all.
const maxUnknownListed = 20

// decodeObject decodes a JSON object into the struct dst strictly: the text must be one valid
// JSON object with no duplicate keys at any depth, nested at most provisioning.MaxJSONDepth
// levels, and nothing after it; every key must name a field of dst (by its json tag); every
// value must have the field's type. Syntax problems are codeInvalidJSON; unknown keys (the
// first maxUnknownListed) and wrong types are reported together, per field, as CodeInvalid.
// The members are decoded as the syntax check passes them, so no copy of the body is made.
func decodeObject(body []byte, dst any) error {
	v := reflect.ValueOf(dst).Elem()
	fields := fieldsOf(v.Type())
	problems := map[string]string{}
	unknown := 0
	err := checkObject(body, func(key string, val []byte) {
		f, ok := fields[key]
		switch {
		case !ok:
			if unknown++; unknown <= maxUnknownListed {
				problems[key] = "unknown field"
			}
		case decodeField(val, v.Field(f.index)) != nil:
			problems[key] = "must be " + f.want
		}
	})
	switch {
	case err != nil:
		return err
	case unknown > maxUnknownListed:
		e := provisioning.InvalidFields(problems)
		e.Message = fmt.Sprintf("%d fields are invalid, %d of them unknown; the first %d unknown are listed",
			len(problems)-maxUnknownListed+unknown, unknown, maxUnknownListed)
		return e
	case len(problems) > 0:
		return provisioning.InvalidFields(problems)
	}
	return nil
}

var (
	stringMap = reflect.TypeFor[map[string]string]()
	rawList   = reflect.TypeFor[[]json.RawMessage]()
)

// decodeField decodes one value, checked by checkObject, into a struct field. An object of
// strings must hold strings only: encoding/json would quietly turn a null member into "". A
// list of raw values is cut out of val, not copied.
func decodeField(val json.RawMessage, dst reflect.Value) error {
	switch {
	case dst.Type() == stringMap:
		return decodeStrings(val, dst)
	case dst.Type() == rawList && val[0] == '[':
		dst.Set(reflect.ValueOf(splitArray(val)))
		return nil
	}
	return json.Unmarshal(val, dst.Addr().Interface())
}

// decodeStrings decodes an object of strings, null members refused, into dst.
func decodeStrings(val json.RawMessage, dst reflect.Value) error {
	var m map[string]*string
	if err := json.Unmarshal(val, &m); err != nil || m == nil {
		return err
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if v == nil {
			return errors.New("null member")
		}
		out[k] = *v
	}
	dst.Set(reflect.ValueOf(out))
	return nil
}

// splitArray returns the elements of the JSON array val (checked by checkObject) as slices of
// it: counted first, so the list is made once at its size.
func splitArray(val []byte) []json.RawMessage {
	n := 0
	_ = walk(val, 0, func(string, []byte) { n++ })
	out := make([]json.RawMessage, 0, n)
	_ = walk(val, 0, func(_ string, v []byte) { out = append(out, v) })
	return out
}

// field is a decodable struct field: its index and a description of the JSON it takes.
type field struct {
	index int
	want  string
}

var fieldCache sync.Map // reflect.Type → map[string]field

// fieldsOf maps the json names of t's fields to their index and expected JSON type.
func fieldsOf(t reflect.Type) map[string]field {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]field)
	}
	m := map[string]field{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		m[name] = field{index: i, want: describe(f.Type)}
	}
	fieldCache.Store(t, m)
	return m
}

// describe says in words which JSON a Go type takes.
func describe(t reflect.Type) string {
	if t.Kind() == reflect.Struct && strings.HasPrefix(t.Name(), "Field[") {
		if v, ok := t.FieldByName("Value"); ok {
			return describe(v.Type) + " or null"
		}
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.Map:
		if t.Elem().Kind() == reflect.String || (t.Elem().Kind() == reflect.Pointer && t.Elem().Elem().Kind() == reflect.String) {
			return "an object of strings"
		}
		return "an object"
	case reflect.Slice:
		return "an array"
	case reflect.Pointer:
		return describe(t.Elem())
	}
	return fmt.Sprintf("a %s", t.Kind())
}
