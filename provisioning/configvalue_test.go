package provisioning_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
)

// A configuration keeps to the values every store holds: numbers that are finite doubles with
// an exponent of at most 1000 and at most 1000 decimal places, keys and strings without NUL.
// The rule holds at any depth and on every path in (create, replace, merge patch).
func TestConfigValues(t *testing.T) {
	svc := provisioning.New(memstore.New(), provisioning.NewRBAC(provisioning.DefaultPolicy()))
	admin := provisioning.Principal{PartnerID: "p", Roles: []string{"partner-admin"}}
	ctx := context.Background()
	tn, err := svc.CreateTenant(ctx, admin, provisioning.TenantInput{CompanyName: "A", Email: "a@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	// decimals(n) is about 1e-301, written with n decimal places.
	decimals := func(n int) string { return "0." + strings.Repeat("0", 300) + strings.Repeat("7", n-300) }
	good := []string{"0", "-0", "1", "-1.5", "1e308", "-1.7976931348623157e308", "5e-324", "2.2250738585072014e-308",
		"12345678901234567890123456789", "0e1000", "0e-1000", "1E+300", "1.25e-3", decimals(1000),
		"0." + strings.Repeat("0", 1000), `"line\nbreak\ttab"`, `"\u202e is the partner's business"`}
	bad := []string{"1e999999", "-1e999999", "1e309", "1.8e308", "1e-999999", "1e-400", "2e-324", "0e-1001", "0e1001",
		"0e99999999999999999999", decimals(1001), "0." + strings.Repeat("0", 1001), "1.5e-1000", `"a\u0000b"`}
	for _, v := range good {
		for _, doc := range []string{`{"v":` + v + `}`, `{"a":[{"b":` + v + `}]}`} {
			if _, err := svc.ReplaceTenantConfig(ctx, admin, tn.ID, json.RawMessage(doc), provisioning.Precondition{}); err != nil {
				t.Errorf("replace with %.60s: %v", doc, err)
			}
		}
	}
	for _, v := range bad {
		for _, doc := range []string{`{"v":` + v + `}`, `{"a":[{"b":` + v + `}]}`, `{"k\u0000":1}`} {
			_, err := svc.ReplaceTenantConfig(ctx, admin, tn.ID, json.RawMessage(doc), provisioning.Precondition{})
			_, perr := svc.UpdateTenantConfig(ctx, admin, tn.ID, json.RawMessage(doc), provisioning.Precondition{})
			_, cerr := svc.CreateTenant(ctx, admin, provisioning.TenantInput{CompanyName: "B", Email: "b@example.com", Config: json.RawMessage(doc)})
			for _, err := range []error{err, perr, cerr} {
				if e, ok := err.(*provisioning.Error); !ok || e.Code != provisioning.CodeInvalid || e.Fields["config"] == "" {
					t.Errorf("%.60s: %v, want config invalid", doc, err)
				}
			}
		}
	}
}

// A number counts toward the size limit at the length PostgreSQL's jsonb writes it back: in
// plain decimal notation with its scale kept.
func TestPlainLength(t *testing.T) {
	for lit, want := range map[string]int{
		"0": 1, "123": 3, "-0.5": 4, "1e308": 309, "0e-1000": 1002, "1.25e-3": 7, "0.00123e2": 5,
		"0.00123e1": 6, "12.5e1": 3, "-1E2": 4, "1.50": 4, "100e-2": 4,
	} {
		if got := provisioning.PlainLength(lit); got != want {
			t.Errorf("PlainLength(%s) = %d, want %d", lit, got, want)
		}
	}
}

// A document small as written but huge as stored (numbers that expand when written out) is
// refused on every store alike, as is one too large to keep, before it is decoded.
func TestConfigSizeCountsNumbersAsStored(t *testing.T) {
	svc := provisioning.New(memstore.New(), provisioning.NewRBAC(provisioning.DefaultPolicy()))
	admin := provisioning.Principal{PartnerID: "p", Roles: []string{"partner-admin"}}
	ctx := context.Background()
	tn, err := svc.CreateTenant(ctx, admin, provisioning.TenantInput{CompanyName: "A", Email: "a@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	expanding := `{"a":[` + strings.TrimSuffix(strings.Repeat("0e-1000,", 8000), ",") + `]}` // 64,007 bytes
	tooLarge := `{"a":[` + strings.TrimSuffix(strings.Repeat("{},", 400000), ",") + `]}`     // 1.2 MB
	for name, doc := range map[string]string{"expanding numbers": expanding, "too large": tooLarge} {
		_, err := svc.ReplaceTenantConfig(ctx, admin, tn.ID, json.RawMessage(doc), provisioning.Precondition{})
		if provisioning.ErrorCode(err) != provisioning.CodeInvalid || !strings.Contains(fieldsOf(t, err)["config"], "at most") {
			t.Errorf("%s: %v", name, err)
		}
		_, err = svc.CreateTenant(ctx, admin, provisioning.TenantInput{CompanyName: "B " + name, Email: "b@example.com", Config: json.RawMessage(doc)})
		if provisioning.ErrorCode(err) != provisioning.CodeInvalid {
			t.Errorf("create with %s: %v", name, err)
		}
	}
	fine := `{"a":[` + strings.TrimSuffix(strings.Repeat("1e3,", 1000), ",") + `]}`
	if _, err := svc.ReplaceTenantConfig(ctx, admin, tn.ID, json.RawMessage(fine), provisioning.Precondition{}); err != nil {
		t.Fatalf("a document within the limit as stored: %v", err)
	}
}
