package provisioning_test

import (
	"strings"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
)

func valid() provisioning.TenantInput {
	return provisioning.TenantInput{CompanyName: "Example Corp", Email: "admin@example.com"}
}

func TestNormalizeValid(t *testing.T) {
	cases := []struct {
		name string
		in   func(*provisioning.TenantInput)
		want func(provisioning.TenantInput) bool
	}{
		{"minimal", func(*provisioning.TenantInput) {}, func(o provisioning.TenantInput) bool { return o.CompanyName == "Example Corp" }},
		{"name trimmed", func(i *provisioning.TenantInput) { i.CompanyName = "  \tAcme  " }, func(o provisioning.TenantInput) bool { return o.CompanyName == "Acme" }},
		{"unicode name", func(i *provisioning.TenantInput) { i.CompanyName = "株式会社 テスト 🚀" }, func(o provisioning.TenantInput) bool { return o.CompanyName == "株式会社 テスト 🚀" }},
		{"name of 255 runes", func(i *provisioning.TenantInput) { i.CompanyName = strings.Repeat("é", 255) }, func(o provisioning.TenantInput) bool { return len([]rune(o.CompanyName)) == 255 }},
		{"email lower-cased and trimmed", func(i *provisioning.TenantInput) { i.Email = " Admin@EXAMPLE.com " }, func(o provisioning.TenantInput) bool { return o.Email == "admin@example.com" }},
		{"phone stripped", func(i *provisioning.TenantInput) { i.PhoneNumber = "+1 234-567 890" }, func(o provisioning.TenantInput) bool { return o.PhoneNumber == "+1234567890" }},
		{"phone 7 digits", func(i *provisioning.TenantInput) { i.PhoneNumber = "+1234567" }, func(o provisioning.TenantInput) bool { return o.PhoneNumber == "+1234567" }},
		{"phone 15 digits", func(i *provisioning.TenantInput) { i.PhoneNumber = "+123456789012345" }, func(o provisioning.TenantInput) bool { return true }},
		{"industry 100", func(i *provisioning.TenantInput) { i.Industry = strings.Repeat("x", 100) }, func(o provisioning.TenantInput) bool { return true }},
		{"external id 255", func(i *provisioning.TenantInput) { i.ExternalID = strings.Repeat("x", 255) }, func(o provisioning.TenantInput) bool { return true }},
		{"status suspended", func(i *provisioning.TenantInput) { i.Status = provisioning.StatusSuspended }, func(o provisioning.TenantInput) bool { return o.Status == provisioning.StatusSuspended }},
		{"empty metadata is nil", func(i *provisioning.TenantInput) { i.Metadata = map[string]string{} }, func(o provisioning.TenantInput) bool { return o.Metadata == nil }},
		{"metadata at limits", func(i *provisioning.TenantInput) {
			i.Metadata = map[string]string{}
			for n := range 50 {
				i.Metadata[strings.Repeat("k", 38)+string(rune('A'+n/26))+string(rune('a'+n%26))] = strings.Repeat("v", 500)
			}
		}, func(o provisioning.TenantInput) bool { return len(o.Metadata) == 50 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := valid()
			tc.in(&in)
			out, err := in.Normalize()
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if !tc.want(out) {
				t.Fatalf("unexpected normal form: %+v", out)
			}
		})
	}
}

func TestNormalizeInvalid(t *testing.T) {
	many := map[string]string{}
	for n := range 51 {
		many[string(rune('A'+n/26))+string(rune('a'+n%26))] = "v"
	}
	cases := []struct {
		name  string
		in    func(*provisioning.TenantInput)
		field string
	}{
		{"name missing", func(i *provisioning.TenantInput) { i.CompanyName = "" }, "company_name"},
		{"name blank", func(i *provisioning.TenantInput) { i.CompanyName = " \t\n " }, "company_name"},
		{"name 256 runes", func(i *provisioning.TenantInput) { i.CompanyName = strings.Repeat("é", 256) }, "company_name"},
		{"name with control char", func(i *provisioning.TenantInput) { i.CompanyName = "Evil\x00Corp" }, "company_name"},
		{"email missing", func(i *provisioning.TenantInput) { i.Email = "" }, "email"},
		{"email invalid", func(i *provisioning.TenantInput) { i.Email = "not-an-email" }, "email"},
		{"email two ats", func(i *provisioning.TenantInput) { i.Email = "a@b@example.com" }, "email"},
		{"email too long", func(i *provisioning.TenantInput) {
			i.Email = strings.Repeat("a", 64) + "@" + strings.Repeat("b", 190) + ".com"
		}, "email"},
		{"phone without plus", func(i *provisioning.TenantInput) { i.PhoneNumber = "1234567890" }, "phone_number"},
		{"phone too short", func(i *provisioning.TenantInput) { i.PhoneNumber = "+123456" }, "phone_number"},
		{"phone too long", func(i *provisioning.TenantInput) { i.PhoneNumber = "+1234567890123456" }, "phone_number"},
		{"phone letters", func(i *provisioning.TenantInput) { i.PhoneNumber = "+1234abc890" }, "phone_number"},
		{"phone parentheses", func(i *provisioning.TenantInput) { i.PhoneNumber = "+1 (234) 567890" }, "phone_number"},
		{"industry 101", func(i *provisioning.TenantInput) { i.Industry = strings.Repeat("x", 101) }, "industry"},
		{"external id 256", func(i *provisioning.TenantInput) { i.ExternalID = strings.Repeat("x", 256) }, "external_id"},
		{"external id unprintable", func(i *provisioning.TenantInput) { i.ExternalID = "crm\u200b1\t2" }, "external_id"},
		{"status unknown", func(i *provisioning.TenantInput) { i.Status = "deleted" }, "status"},
		{"metadata 51 keys", func(i *provisioning.TenantInput) { i.Metadata = many }, "metadata"},
		{"metadata key 41", func(i *provisioning.TenantInput) { i.Metadata = map[string]string{strings.Repeat("k", 41): "v"} }, "metadata"},
		{"metadata empty key", func(i *provisioning.TenantInput) { i.Metadata = map[string]string{"": "v"} }, "metadata"},
		{"metadata key brackets", func(i *provisioning.TenantInput) { i.Metadata = map[string]string{"a[b]": "v"} }, "metadata"},
		{"metadata value 501", func(i *provisioning.TenantInput) { i.Metadata = map[string]string{"k": strings.Repeat("v", 501)} }, "metadata"},
		{"metadata value NUL", func(i *provisioning.TenantInput) { i.Metadata = map[string]string{"k": "a\x00b"} }, "metadata"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := valid()
			tc.in(&in)
			_, err := in.Normalize()
			e := fieldsOf(t, err)
			if _, ok := e[tc.field]; !ok || len(e) != 1 {
				t.Fatalf("errors = %v, want exactly %s", e, tc.field)
			}
		})
	}
}

func fieldsOf(t *testing.T, err error) map[string]string {
	t.Helper()
	e, ok := err.(*provisioning.Error)
	if !ok || e.Code != provisioning.CodeInvalid {
		t.Fatalf("error = %v, want a validation error", err)
	}
	return e.Fields
}

func TestNormalizeReportsEveryField(t *testing.T) {
	in := provisioning.TenantInput{PhoneNumber: "12", Industry: strings.Repeat("i", 101), Status: "x"}
	_, err := in.Normalize()
	e := fieldsOf(t, err)
	for _, f := range []string{"company_name", "email", "phone_number", "industry", "status"} {
		if e[f] == "" {
			t.Errorf("no error for %s in %v", f, e)
		}
	}
	if err.(*provisioning.Error).Message != "5 fields are invalid" {
		t.Errorf("message = %q", err.(*provisioning.Error).Message)
	}
}

func TestNameKey(t *testing.T) {
	if provisioning.NameKey(" ÄCME Corp ") != provisioning.NameKey("äcme corp") {
		t.Fatal("NameKey does not fold case and trim")
	}
}
