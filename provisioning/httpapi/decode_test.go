package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/wire"
)

// nest wraps inner in depth levels of {"k":…} (objects) or […] (arrays).
func nest(depth int, open, close, inner string) string {
	return strings.Repeat(open, depth) + inner + strings.Repeat(close, depth)
}

// FuzzDecodeObject checks that the strict decoder never panics, answers every input with
// either success or a 400-class problem, never accepts what encoding/json would reject or a
// key the target does not have, and accepts exactly what a plain reference check (one
// object, no duplicate keys, at most MaxJSONDepth levels) accepts.
func FuzzDecodeObject(f *testing.F) {
	for _, seed := range []string{
		`{"company_name":"Acme","email":"a@b.co"}`,
		`{"company_name":"Acme","company_name":"B"}`,
		`{"metadata":{"a":"1","b":null}}`,
		`{"industry":null} x`,
		`[1,2]`, `"s"`, `{}`, `{"a":{"b":[{"c":1},{"c":1}]}}`, `{"email":5}`, "{\"company_name\":\"\xff\"}",
		`{"a":1,"\u0061":2}`, `{"\ud83d\ude00":1,"😀":2}`, `{"\ud83d":1,"\ufffd":2}`, `{"\ud83d\u0041":1,"\ufffdA":2}`,
		`{"\/\b\f\n\r\t\"\\":1,"/\u0008\u000c\u000a\u000D\u0009\u0022\u005C":2}`, "{\"\xff\":1,\"\xfe\":2}", `{"a\"b":1,"a\\":[true,false,null,-1.5e3]}`,
		nest(31, `{"k":`, `}`, `{}`), nest(32, `{"k":`, `}`, `{}`), // at and past the bound
		`{"k":` + nest(31, `[`, `]`, `1`) + `}`, `{"k":` + nest(32, `[`, `]`, `1`) + `}`,
		nest(1000, `{"k":`, `}`, `1`), strings.Repeat(`{"k":`, 2000), `{"k":` + strings.Repeat(`[`, 2000),
		`{"config":` + nest(30, `{"k":`, `}`, `{}`) + `}`,
		`{"tenants":[ {"company_name":"A"} , [1,{"a":[]}],"s",-1.5e3,true,null ],"atomic":true}`, `{"tenants":[]}`, `{"tenants":null}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if got, want := checkSyntax(body) == nil, referenceCheck(body); got != want {
			t.Fatalf("checkSyntax accepts %v, the reference %v: %q", got, want, body)
		}
		for _, dst := range []any{&wire.TenantInput{}, &wire.TenantPatch{}, &wire.BulkRequest{}} {
			err := decodeObject(body, dst)
			if b, ok := dst.(*wire.BulkRequest); ok && err == nil {
				var want wire.BulkRequest
				if json.Unmarshal(body, &want) != nil || !reflect.DeepEqual(*b, want) {
					t.Fatalf("decoded %q as %q, encoding/json as %q", body, b.Tenants, want.Tenants)
				}
			}
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

// referenceCheck is a plain, slow statement of what checkSyntax accepts, built on
// encoding/json's tokenizer: one JSON object and nothing after it, no key twice in an object,
// nesting at most MaxJSONDepth levels deep.
func referenceCheck(body []byte) bool {
	if !utf8.Valid(body) {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') || !referenceValue(dec, tok, 1) {
		return false
	}
	_, err = dec.Token()
	return err == io.EOF
}

// referenceValue checks the rest of a value whose first token, tok, was read at depth.
func referenceValue(dec *json.Decoder, tok json.Token, depth int) bool {
	if tok != json.Delim('{') && tok != json.Delim('[') {
		return true
	}
	if depth > provisioning.MaxJSONDepth {
		return false
	}
	keys := map[string]bool{}
	for dec.More() {
		if tok == json.Delim('{') {
			k, err := dec.Token()
			if err != nil || keys[k.(string)] {
				return false
			}
			keys[k.(string)] = true
		}
		v, err := dec.Token()
		if err != nil || !referenceValue(dec, v, depth+1) {
			return false
		}
	}
	_, err := dec.Token() // the closing delimiter
	return err == nil
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

// members returns about n bytes of members with distinct keys, each followed by a comma; member
// is their format, such as `"%x":1,`.
func members(n int, member string) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, member, i)
	}
	return b.String()
}

// The memory a body costs to decode grows linearly with its size, whatever its shape: deep,
// wide, long keys at every level (whose paths once cost the square of the body's size),
// thousands of keys. Each shape is measured at 32 KiB and 512 KiB, in bytes allocated per byte
// of body: at most a small constant, and no more for the larger body.
func TestDecodeMemoryIsLinear(t *testing.T) {
	const perByte = 32               // allocated bytes per body byte, at most; measured at under 16
	longKeys := func(n int) string { // 30 levels, each under a key of n/64 bytes, then many keys
		k := strings.Repeat("k", n/64)
		return nest(30, `{"`+k+`":`, `}`, `{`+members(n/2, `"%x":1,`)+`"z":1}`)
	}
	shapes := map[string]func(n int) string{
		"deep objects":        func(n int) string { return nest(n/6, `{"k":`, `}`, `1`) },
		"deep arrays":         func(n int) string { return `{"config":` + nest(n/2, `[`, `]`, ``) + `}` },
		"deep and unclosed":   func(n int) string { return strings.Repeat(`{"k":`, n/5) },
		"long keys":           func(n int) string { return `{"config":` + longKeys(n) + `}` },
		"many top-level keys": func(n int) string { return `{` + members(n, `"%x":1,`) + `"z":1}` },
		"many metadata keys":  func(n int) string { return `{"metadata":{` + members(n, `"%x":"v",`) + `"z":"v"}}` },
		"many small objects": func(n int) string {
			return `{"config":[` + strings.Repeat(`{"alpha":1,"bravo":2,"charlie":3},`, n/34) + `1]}`
		},
		"escaped keys":    func(n int) string { return `{"config":{` + members(n, `"\u00e9%x":1,`) + `"z":1}}` },
		"many bulk items": func(n int) string { return `{"tenants":[` + strings.Repeat(`{},`, n/3) + `{}]}` },
		"many values at bound": func(n int) string {
			return `{"config":{"k":[` + strings.Repeat(nest(29, `{"k":`, `}`, `1`)+",", n/200) + `1]}}`
		},
	}
	for name, shape := range shapes {
		t.Run(name, func(t *testing.T) {
			var small float64
			for _, n := range []int{32 << 10, 512 << 10} {
				body := []byte(shape(n))
				got := allocatedPerByte(len(body), func() {
					if strings.HasPrefix(name, "many bulk") {
						_ = decodeObject(body, &wire.BulkRequest{})
					} else {
						_ = decodeObject(body, &wire.TenantInput{})
					}
				})
				if err := checkSyntax(body); n == 512<<10 {
					t.Logf("%7d bytes: %5.2f bytes allocated per byte (%v)", len(body), got, err)
				}
				if small == 0 {
					small = got
				}
				if got > perByte || got > 2*small+1 {
					t.Fatalf("a %d-byte body allocated %.1f bytes per byte (%.1f at 32 KiB); want at most %d and no growth",
						len(body), got, small, perByte)
				}
			}
		})
	}
}

// allocatedPerByte is what f allocates, the least of two runs, per byte of an n-byte body.
func allocatedPerByte(n int, f func()) float64 {
	least := uint64(math.MaxUint64)
	for range 2 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return float64(least) / float64(n)
}
