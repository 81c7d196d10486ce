package httpapi

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/wire"
)

// FuzzDecodeObject checks that the strict decoder never panics, answers every input with
// either success or a 400-class problem, and never accepts what encoding/json would reject
// or a key the target does not have.
func FuzzDecodeObject(f *testing.F) {
	for _, seed := range []string{
		`{"company_name":"Acme","email":"a@b.co"}`,
		`{"company_name":"Acme","company_name":"B"}`,
		`{"metadata":{"a":"1","b":null}}`,
		`{"industry":null} x`,
		`[1,2]`, `"s"`, `{}`, `{"a":{"b":[{"c":1},{"c":1}]}}`, `{"email":5}`, "{\"company_name\":\"\xff\"}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, dst := range []any{&wire.TenantInput{}, &wire.TenantPatch{}} {
			err := decodeObject(body, dst)
			if err == nil {
				var raw map[string]json.RawMessage
				if json.Unmarshal(body, &raw) != nil {
					t.Fatalf("accepted what encoding/json rejects: %q", body)
				}
				fields := fieldsOf(reflectType(dst))
				for k := range raw {
					if _, ok := fields[k]; !ok {
						t.Fatalf("accepted unknown key %q", k)
					}
				}
				continue
			}
			var e *provisioning.Error
			if !errors.As(err, &e) || statuses[e.Code].status != 400 {
				t.Fatalf("error %v is not a 400 problem", err)
			}
		}
	})
}

func reflectType(dst any) reflect.Type { return reflect.TypeOf(dst).Elem() }

// The strict decoder knows the wire types' fields and says which JSON each takes.
func TestDecodeObjectSaysWhatAFieldTakes(t *testing.T) {
	var patch wire.TenantPatch
	err := decodeObject([]byte(`{"industry":5,"metadata":[],"status":null,"nickname":"x"}`), &patch)
	var e *provisioning.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v", err)
	}
	want := map[string]string{"industry": "must be a string or null", "metadata": "must be an object of strings or null",
		"nickname": "unknown field"}
	if !reflect.DeepEqual(e.Fields, want) {
		t.Fatalf("fields = %v, want %v", e.Fields, want)
	}
	var in wire.TenantInput
	if err := decodeObject([]byte(`{"company_name":"Acme","email":"a@b.co","metadata":{"k":"v"},"config":{"a":1}}`), &in); err != nil ||
		in.CompanyName != "Acme" || in.Metadata["k"] != "v" || string(in.Config) != `{"a":1}` {
		t.Fatalf("decoded %+v, %v", in, err)
	}
}
