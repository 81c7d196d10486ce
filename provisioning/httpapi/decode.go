package httpapi

import (
	"bytes"
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

// decodeObject decodes a JSON object into the struct dst strictly: the text must be one valid
// JSON object with no duplicate keys at any depth and nothing after it; every key must name a
// field of dst (by its json tag); every value must have the field's type. Syntax problems are
// codeInvalidJSON; unknown keys and wrong types are reported together, per field, as
// CodeInvalid.
func decodeObject(body []byte, dst any) error {
	if err := checkSyntax(body); err != nil {
		return err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return httpError(codeInvalidJSON, "the body must be a JSON object")
	}
	v := reflect.ValueOf(dst).Elem()
	fields := fieldsOf(v.Type())
	problems := map[string]string{}
	for key, val := range raw {
		f, ok := fields[key]
		if !ok {
			problems[key] = "unknown field"
			continue
		}
		if err := decodeField(val, v.Field(f.index)); err != nil {
			problems[key] = "must be " + f.want
		}
	}
	if len(problems) > 0 {
		return provisioning.InvalidFields(problems)
	}
	return nil
}

var stringMap = reflect.TypeFor[map[string]string]()

// decodeField decodes one value into a struct field. An object of strings must hold strings
// only: encoding/json would quietly turn a null member into "".
func decodeField(val json.RawMessage, dst reflect.Value) error {
	if dst.Type() == stringMap {
		var m map[string]*string
		if err := json.Unmarshal(val, &m); err != nil {
			return err
		}
		for _, v := range m {
			if v == nil {
				return errors.New("null member")
			}
		}
	}
	return json.Unmarshal(val, dst.Addr().Interface())
}

// checkSyntax validates body as exactly one JSON object without duplicate keys.
func checkSyntax(body []byte) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return httpError(codeInvalidJSON, "the body is empty; it must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return syntaxError(dec, err)
	}
	if tok != json.Delim('{') {
		return httpError(codeInvalidJSON, "the body must be a JSON object")
	}
	if err := checkObject(dec, ""); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return httpError(codeInvalidJSON, "unexpected data after the JSON object at offset %d", dec.InputOffset())
	}
	return nil
}

// checkObject reads the rest of an object whose '{' was read, and any nested values.
func checkObject(dec *json.Decoder, path string) error {
	seen := map[string]bool{}
	for {
		tok, err := dec.Token()
		if err != nil {
			return syntaxError(dec, err)
		}
		if tok == json.Delim('}') {
			return nil
		}
		key := tok.(string) // the decoder only yields string keys inside objects
		if seen[key] {
			return httpError(codeInvalidJSON, "duplicate key %q", path+key)
		}
		seen[key] = true
		if err := checkValue(dec, path+key+"."); err != nil {
			return err
		}
	}
}

func checkValue(dec *json.Decoder, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return syntaxError(dec, err)
	}
	switch tok {
	case json.Delim('{'):
		return checkObject(dec, path)
	case json.Delim('['):
		for dec.More() {
			if err := checkValue(dec, path); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return syntaxError(dec, err)
		}
	}
	return nil
}

func syntaxError(dec *json.Decoder, err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return httpError(codeInvalidJSON, "the JSON ends unexpectedly")
	}
	return httpError(codeInvalidJSON, "malformed JSON near offset %d", dec.InputOffset())
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
