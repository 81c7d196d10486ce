package provisioning_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
)

func decode(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}

// The examples of RFC 7396, appendix A.
func TestMergePatchRFC7396(t *testing.T) {
	cases := [][3]string{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`["a","b"]`, `["c","d"]`, `["c","d"]`},
		{`{"a":"b"}`, `["c"]`, `["c"]`},
		{`{"a":"foo"}`, `null`, `null`},
		{`{"a":"foo"}`, `"bar"`, `"bar"`},
		{`{"e":null}`, `{"a":1}`, `{"a":1,"e":null}`},
		{`[1,2]`, `{"a":"b","c":null}`, `{"a":"b"}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
	}
	for _, c := range cases {
		got := provisioning.MergePatch(decode(t, c[0]), decode(t, c[1]))
		if !reflect.DeepEqual(got, decode(t, c[2])) {
			t.Errorf("MergePatch(%s, %s) = %v, want %s", c[0], c[1], got, c[2])
		}
	}
}

// FuzzMergePatch checks that merge patches are idempotent and never modify their target.
func FuzzMergePatch(f *testing.F) {
	f.Add(`{"a":{"b":1}}`, `{"a":{"b":null,"c":[1]}}`)
	f.Add(`[]`, `{"x":null}`)
	f.Add(`{"a":"b"}`, `"s"`)
	f.Fuzz(func(t *testing.T, target, patch string) {
		var tv, pv, tcopy any
		if json.Unmarshal([]byte(target), &tv) != nil || json.Unmarshal([]byte(patch), &pv) != nil {
			return
		}
		_ = json.Unmarshal([]byte(target), &tcopy)
		once := provisioning.MergePatch(tv, pv)
		if !reflect.DeepEqual(tv, tcopy) {
			t.Fatal("MergePatch modified its target")
		}
		if twice := provisioning.MergePatch(once, pv); !reflect.DeepEqual(once, twice) {
			t.Fatalf("not idempotent: %v then %v", once, twice)
		}
	})
}
