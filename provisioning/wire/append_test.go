package wire_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/wire"
)

// sameAsMarshal checks that AppendTenant writes what json.Marshal writes for the wire form,
// after whatever b already held.
func sameAsMarshal(t *testing.T, tn *provisioning.Tenant) {
	t.Helper()
	want, err := json.Marshal(wire.FromTenant(tn))
	if err != nil {
		t.Fatal(err)
	}
	got := wire.AppendTenant([]byte("prefix"), tn)
	if string(got) != "prefix"+string(want) {
		t.Fatalf("AppendTenant\n got: %s\nwant: prefix%s", got, want)
	}
}

func TestAppendTenant(t *testing.T) {
	many := map[string]string{}
	for i := range 40 { // more keys than appendMetadata sorts on the stack
		many[fmt.Sprintf("k%02d", 39-i)] = fmt.Sprint(i)
	}
	odd := func(s string) *provisioning.Tenant {
		tn := beta()
		tn.CompanyName, tn.Email, tn.PhoneNumber, tn.Industry, tn.ExternalID = s, s, s, s, s
		tn.Status, tn.PartnerID, tn.ID = provisioning.Status(s), s, s
		tn.Metadata = map[string]string{s: s, "a" + s: ""}
		tn.Provisioning.State = provisioning.ProvisioningState(s)
		tn.Provisioning.Steps[1].Name, tn.Provisioning.Steps[1].LastError = s, s
		return tn
	}
	paris := time.FixedZone("Paris", 3600)
	for name, tn := range map[string]*provisioning.Tenant{
		"optional fields null": acme(), "every field": beta(), "pending deletion": pending(),
		"empty metadata": func() *provisioning.Tenant { tn := acme(); tn.Metadata = map[string]string{}; return tn }(),
		"many metadata":  func() *provisioning.Tenant { tn := acme(); tn.Metadata = many; return tn }(),
		"zoned times":    func() *provisioning.Tenant { tn := pending(); tn.CreatedAt = created.In(paris); return tn }(),
		"year 10000": func() *provisioning.Tenant {
			tn := acme()
			tn.UpdatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
			return tn
		}(),
		"negative attempts": func() *provisioning.Tenant { tn := beta(); tn.Provisioning.Steps[0].Attempts = -3; return tn }(),
		"quotes":            odd(`say "hi" \ there`),
		"html":              odd(`<script>&amp;</script>`),
		"controls":          odd("tab\tnew\nline\x00\x1f\x7f"),
		"unicode":           odd("Zürich 東京 \u2028\u2029 😀"),
		"invalid utf-8":     odd("bad \xff\xfe \xc3"),
		"empty":             odd(""),
	} {
		t.Run(name, func(t *testing.T) { sameAsMarshal(t, tn) })
	}
}

func FuzzAppendTenant(f *testing.F) {
	for _, s := range []string{"Acme", `"<&>"`, "a\x00b", "\xff", "\u2028", "東京"} {
		f.Add(s, s, int64(1), 2)
	}
	f.Fuzz(func(t *testing.T, name, meta string, version int64, attempts int) {
		tn := beta()
		tn.CompanyName, tn.Email, tn.Version = name, meta, version
		tn.Metadata = map[string]string{meta: name, name: meta}
		tn.Provisioning.Steps[1].Attempts, tn.Provisioning.Steps[1].LastError = attempts, name
		sameAsMarshal(t, tn)
	})
}

func BenchmarkAppendTenant(b *testing.B) {
	tn := beta()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = wire.AppendTenant(buf[:0], tn)
	}
}

func BenchmarkMarshalTenant(b *testing.B) {
	tn := beta()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = json.Marshal(wire.FromTenant(tn))
	}
}

// Times are written as Time.MarshalJSON writes them, in every year AppendFormat knows.
func FuzzAppendTenantTime(f *testing.F) {
	for _, sec := range []int64{0, -1, 1739205000, 253402300799, 253402300800, -62135596800, -62135596801, -62167219200, -62167219201} {
		f.Add(sec, int64(123456789))
	}
	f.Fuzz(func(t *testing.T, sec, nsec int64) {
		tn := acme()
		tn.CreatedAt = time.Unix(sec, nsec).In(time.FixedZone("", int(nsec%50000)))
		tn.UpdatedAt = time.Unix(sec%(400*365*86400), nsec)
		sameAsMarshal(t, tn)
	})
}
