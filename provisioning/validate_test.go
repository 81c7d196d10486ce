package provisioning_test

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

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
		{"email with an invisible character", func(i *provisioning.TenantInput) { i.Email = "x\u200b@example.com" }, "email"},
		{"email with a soft hyphen", func(i *provisioning.TenantInput) { i.Email = "x@exam\u00adple.com" }, "email"},
		{"industry with a line separator", func(i *provisioning.TenantInput) { i.Industry = "IT\u2028Services" }, "industry"},
		{"name with a replacement character", func(i *provisioning.TenantInput) { i.CompanyName = "Acme \ufffd" }, "company_name"},
		{"metadata key with a joiner", func(i *provisioning.TenantInput) { i.Metadata = map[string]string{"k\u200d": "v"} }, "metadata"},
		{"metadata key with a variation selector", func(i *provisioning.TenantInput) { i.Metadata = map[string]string{"k\ufe0f": "v"} }, "metadata"},
		{"metadata key with a tag character", func(i *provisioning.TenantInput) { i.Metadata = map[string]string{"k\U000e0041": "v"} }, "metadata"},
		{"metadata 51 keys", func(i *provisioning.TenantInput) { i.Metadata = many }, "metadata"},
		{"metadata key 41", func(i *provisioning.TenantInput) { i.Metadata = map[string]string{strings.Repeat("k", 41): "v"} }, "metadata"},
		{"metadata empty key", func(i *provisioning.TenantInput) { i.Metadata = map[string]string{"": "v"} }, "metadata"},
		{"metadata key brackets", func(i *provisioning.TenantInput) { i.Metadata = map[string]string{"a[b]": "v"} }, "metadata"},
		{"metadata value 501", func(i *provisioning.TenantInput) { i.Metadata = map[string]string{"k": strings.Repeat("v", 501)} }, "metadata"},
		{"metadata value NUL", func(i *provisioning.TenantInput) { i.Metadata = map[string]string{"k": "a\x00b"} }, "metadata"},
		{"name of invisible characters", func(i *provisioning.TenantInput) { i.CompanyName = "\u200B\u00AD\uFEFF" }, "company_name"},
	}
	// Every text field refuses invalid UTF-8, C0 and C1 controls and bidirectional controls.
	setters := map[string]func(*provisioning.TenantInput, string){
		"company_name": func(i *provisioning.TenantInput, v string) { i.CompanyName = "Acme" + v + "Corp" },
		"email":        func(i *provisioning.TenantInput, v string) { i.Email = "a" + v + "b@example.com" },
		"industry":     func(i *provisioning.TenantInput, v string) { i.Industry = "Tech" + v + "x" },
		"external_id":  func(i *provisioning.TenantInput, v string) { i.ExternalID = "crm" + v + "1" },
		"metadata key": func(i *provisioning.TenantInput, v string) { i.Metadata = map[string]string{"k" + v: "v"} },
		"metadata value": func(i *provisioning.TenantInput, v string) {
			i.Metadata = map[string]string{"k": "v" + v}
		},
	}
	for name, set := range setters {
		field, _, _ := strings.Cut(name, " ")
		for _, bad := range []string{"\x00", "\xff", "\xc3", "\x1b", "\n", "\x7f", "\u0085", "\u202E", "\u202A", "\u2066", "\u2069", "\u200F", "\u061C"} {
			cases = append(cases, struct {
				name  string
				in    func(*provisioning.TenantInput)
				field string
			}{fmt.Sprintf("%s with %+q", name, bad), func(i *provisioning.TenantInput) { set(i, bad) }, field})
		}
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

// unfit reports text that no text field may hold: invalid UTF-8, control or bidirectional
// control characters.
func unfit(s string) bool {
	return !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
	}) >= 0
}

func TestNameKey(t *testing.T) {
	if provisioning.NameKey(" ÄCME Corp ") != provisioning.NameKey("äcme corp") {
		t.Fatal("NameKey does not fold case and trim")
	}
}

// FuzzNormalize checks the validator on arbitrary input: it never panics, what it accepts obeys
// every rule of the tenant validation and is a fixed point (normalizing it again changes nothing), and what
// it rejects comes back as one CodeInvalid error naming at least one known field.
func FuzzNormalize(f *testing.F) {
	f.Add("Example Corp", "admin@example.com", "+1 234-567 890", "Technology", "crm-4711", "plan", "gold")
	f.Add("  株式会社 テスト 🚀 ", " Admin@EXAMPLE.com ", "", "", "", "", "")
	f.Add("", "not-an-email", "12345", strings.Repeat("x", 101), "a\x00b", "", "v")
	f.Add("a\tb", "a@b.c", "+123456789012345", "\u200b", "\xff", "k[0]", "\x00")
	f.Add("\u202eAcme", "a\u202e@b.co", "", "Tech\u2066", "crm\u00851", "k\x7f", "v\u061c")
	phone := regexp.MustCompile(`^\+[0-9]{7,15}$`)
	known := map[string]bool{"company_name": true, "email": true, "phone_number": true,
		"industry": true, "external_id": true, "status": true, "metadata": true}
	f.Fuzz(func(t *testing.T, name, email, phoneNo, industry, extID, mk, mv string) {
		in := provisioning.TenantInput{CompanyName: name, Email: email, PhoneNumber: phoneNo,
			Industry: industry, ExternalID: extID}
		if mk != "" || mv != "" {
			in.Metadata = map[string]string{mk: mv}
		}
		out, err := in.Normalize()
		if err != nil {
			var pe *provisioning.Error
			if !errors.As(err, &pe) || pe.Code != provisioning.CodeInvalid || len(pe.Fields) == 0 {
				t.Fatalf("rejection is not a CodeInvalid error with fields: %#v", err)
			}
			for f := range pe.Fields {
				if !known[f] {
					t.Fatalf("error names unknown field %q", f)
				}
			}
			return
		}
		n := utf8.RuneCountInString
		for _, text := range []string{out.CompanyName, out.Email, out.PhoneNumber, out.Industry, out.ExternalID} {
			if unfit(text) {
				t.Fatalf("accepted unfit text %+q", text)
			}
		}
		for k, v := range out.Metadata {
			if unfit(k) || unfit(v) {
				t.Fatalf("accepted unfit metadata %+q: %+q", k, v)
			}
		}
		switch {
		case provisioning.NameKey(out.CompanyName) == "":
			t.Fatalf("accepted company_name %+q without a visible character", out.CompanyName)
		case out.CompanyName != strings.TrimSpace(out.CompanyName) || n(out.CompanyName) < 1 || n(out.CompanyName) > provisioning.MaxCompanyName:
			t.Fatalf("accepted company_name %q", out.CompanyName)
		case out.Email != strings.ToLower(out.Email) || !strings.Contains(out.Email, "@") || n(out.Email) > provisioning.MaxEmail:
			t.Fatalf("accepted email %q", out.Email)
		case out.PhoneNumber != "" && !phone.MatchString(out.PhoneNumber):
			t.Fatalf("accepted phone_number %q", out.PhoneNumber)
		case n(out.Industry) > provisioning.MaxIndustry || strings.IndexFunc(out.Industry, unicode.IsControl) >= 0:
			t.Fatalf("accepted industry %q", out.Industry)
		case n(out.ExternalID) > provisioning.MaxExternalID || strings.IndexFunc(out.ExternalID, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
			t.Fatalf("accepted external_id %q", out.ExternalID)
		}
		for k, v := range out.Metadata {
			if k == "" || n(k) > provisioning.MaxMetadataKey || n(v) > provisioning.MaxMetadataValue || strings.ContainsRune(v, 0) {
				t.Fatalf("accepted metadata %q: %q", k, v)
			}
		}
		again, err := out.Normalize()
		if err != nil || again.CompanyName != out.CompanyName || again.Email != out.Email ||
			again.PhoneNumber != out.PhoneNumber || again.Industry != out.Industry || again.ExternalID != out.ExternalID {
			t.Fatalf("not a fixed point: %#v then %#v, %v", out, again, err)
		}
	})
}
