package provisioning_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/wire"
)

func TestApply(t *testing.T) {
	one, two := "1", "2"
	base := provisioning.TenantInput{CompanyName: "A", Email: "a@example.com", Industry: "Retail",
		PhoneNumber: "+1234567", Status: provisioning.StatusActive, Metadata: map[string]string{"keep": "k", "drop": "d"}}
	cases := []struct {
		name  string
		patch provisioning.TenantPatch
		want  provisioning.TenantInput
	}{
		{"empty patch changes nothing", provisioning.TenantPatch{}, base},
		{"value replaces", provisioning.TenantPatch{CompanyName: provisioning.Value("B")},
			func() provisioning.TenantInput { b := base; b.CompanyName = "B"; return b }()},
		{"null clears", provisioning.TenantPatch{Industry: provisioning.Null[string](), PhoneNumber: provisioning.Null[string]()},
			func() provisioning.TenantInput { b := base; b.Industry, b.PhoneNumber = "", ""; return b }()},
		{"status", provisioning.TenantPatch{Status: provisioning.Value(provisioning.StatusSuspended)},
			func() provisioning.TenantInput { b := base; b.Status = provisioning.StatusSuspended; return b }()},
		{"metadata merges", provisioning.TenantPatch{Metadata: provisioning.Value(map[string]*string{"drop": nil, "new": &one, "keep": &two})},
			func() provisioning.TenantInput {
				b := base
				b.Metadata = map[string]string{"keep": "2", "new": "1"}
				return b
			}()},
		{"metadata null clears", provisioning.TenantPatch{Metadata: provisioning.Null[map[string]*string]()},
			func() provisioning.TenantInput { b := base; b.Metadata = map[string]string{}; return b }()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := base.Metadata["drop"]
			got := tc.patch.Apply(base)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			if base.Metadata["drop"] != before || len(base.Metadata) != 2 {
				t.Fatal("Apply modified its input")
			}
		})
	}
}

// FuzzApply checks RFC 7396 semantics on arbitrary patches: keys absent from the patch keep
// their value, null removes, a value replaces, and the input is never modified.
func FuzzApply(f *testing.F) {
	f.Add(`{"company_name":"B"}`)
	f.Add(`{"industry":null,"metadata":{"a":null,"b":"x"}}`)
	f.Add(`{"metadata":null}`)
	f.Add(`{"status":"suspended","external_id":""}`)
	f.Fuzz(func(t *testing.T, patchJSON string) {
		var w wire.TenantPatch
		if json.Unmarshal([]byte(patchJSON), &w) != nil {
			return
		}
		p := w.Domain()
		base := provisioning.TenantInput{CompanyName: "A", Email: "a@example.com", Industry: "I",
			Metadata: map[string]string{"a": "1", "c": "3"}}
		got := p.Apply(base)
		if base.CompanyName != "A" || len(base.Metadata) != 2 || base.Metadata["a"] != "1" {
			t.Fatal("Apply modified its input")
		}
		if !p.Industry.Set && got.Industry != "I" {
			t.Fatal("absent field changed")
		}
		if p.Industry.Null && got.Industry != "" {
			t.Fatal("null did not clear")
		}
		if !p.Metadata.Set && !reflect.DeepEqual(got.Metadata, base.Metadata) {
			t.Fatal("absent metadata changed")
		}
		if p.Metadata.Set && !p.Metadata.Null {
			for k, v := range p.Metadata.Value {
				if got, ok := got.Metadata[k]; (v == nil && ok) || (v != nil && got != *v) {
					t.Fatalf("metadata key %q not merged", k)
				}
			}
			if _, patched := p.Metadata.Value["c"]; !patched && got.Metadata["c"] != "3" {
				t.Fatal("unpatched metadata key lost")
			}
		}
		// Applying the same patch twice is the same as once (merge patches are idempotent).
		if again := p.Apply(got); !reflect.DeepEqual(again, got) {
			t.Fatalf("not idempotent: %+v then %+v", got, again)
		}
	})
}
