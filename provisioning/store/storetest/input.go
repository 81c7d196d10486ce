package storetest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

// hostileTexts are texts no store may be handed: NUL (PostgreSQL refuses it), invalid UTF-8
// (PostgreSQL refuses it), other C0 and C1 controls and bidirectional controls.
var hostileTexts = []string{"a\x00b", "a\xffb", "\xc3", "a\x1bb", "a\u0085b", "a\u202Eb", "a\u2066b", "a\u200Fb"}

// hostileNumbers are configuration numbers outside what the stores hold (PostgreSQL's jsonb
// refuses the first ones outright) or what a double holds.
var hostileNumbers = []string{"1e999999", "-1e999999", "1e-999999", "0e-99999", "0e9999999999999999999",
	"1e309", "0." + strings.Repeat("0", 300) + strings.Repeat("1", 17000)}

// testHostileInput feeds every kind of hostile value through the Service to the store: each is
// refused as CodeInvalid — never an internal error — and none of it changes anything.
func testHostileInput(t *testing.T, h Harness) {
	_, svc := open(t, h)
	ctx := context.Background()
	tn := mustCreate(t, svc, alice, provisioning.TenantInput{CompanyName: "Target", Email: "t@example.com",
		Metadata: map[string]string{"plan": "gold"}})
	hook, err := svc.CreateWebhook(ctx, alice, provisioning.WebhookInput{URL: "https://hooks.example/x"})
	if err != nil {
		t.Fatal(err)
	}
	_, before := allEvents(t, svc, alice, provisioning.EventFilter{})
	invalid := func(what string, err error) {
		t.Helper()
		if got := provisioning.ErrorCode(err); got != provisioning.CodeInvalid {
			t.Errorf("%s: error code %q (%v), want %q", what, got, err, provisioning.CodeInvalid)
		}
	}
	for _, bad := range hostileTexts {
		for field, in := range hostileTenantInputs(bad) {
			what := fmt.Sprintf("%s %+q", field, bad)
			_, err := svc.CreateTenant(ctx, alice, in)
			invalid("create with "+what, err)
			_, err = svc.ReplaceTenant(ctx, alice, tn.ID, in, provisioning.Precondition{})
			invalid("replace with "+what, err)
			_, err = svc.UpdateTenant(ctx, alice, tn.ID, patchOf(in), provisioning.Precondition{})
			invalid("patch with "+what, err)
			results, err := svc.CreateTenants(ctx, alice, []provisioning.TenantInput{in}, false)
			if err != nil || len(results) != 1 {
				t.Errorf("bulk with %s: %v", what, err)
			} else {
				invalid("bulk item with "+what, results[0].Err)
			}
		}
		for name, f := range hostileFilters(bad) {
			_, err := svc.ListTenants(ctx, alice, f)
			invalid(fmt.Sprintf("filter %s %+q", name, bad), err)
		}
		for _, w := range []provisioning.WebhookInput{{URL: "https://hooks.example/" + bad}, {URL: "https://hooks.example/x", Description: bad}} {
			_, err := svc.CreateWebhook(ctx, alice, w)
			invalid(fmt.Sprintf("webhook %+v", w), err)
		}
	}
	for name, f := range hostileListings() {
		_, err := svc.ListTenants(ctx, alice, f)
		invalid("filter "+name, err)
	}
	for _, doc := range hostileConfigs() {
		what := fmt.Sprintf("config %.80s", doc)
		_, err := svc.ReplaceTenantConfig(ctx, alice, tn.ID, json.RawMessage(doc), provisioning.Precondition{})
		invalid("replace "+what, err)
		_, err = svc.UpdateTenantConfig(ctx, alice, tn.ID, json.RawMessage(doc), provisioning.Precondition{})
		invalid("patch "+what, err)
		in := input("With config")
		in.Config = json.RawMessage(doc)
		_, err = svc.CreateTenant(ctx, alice, in)
		invalid("create with "+what, err)
	}
	// Nothing changed: no event, the tenant, its configuration and the webhooks as they were.
	if _, after := allEvents(t, svc, alice, provisioning.EventFilter{}); after != before {
		t.Errorf("bad input wrote events")
	}
	got, err := svc.GetTenant(ctx, alice, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, got, tn)
	if c, err := svc.GetTenantConfig(ctx, alice, tn.ID); err != nil || c.Version != 1 {
		t.Errorf("configuration: %+v, %v; want version 1", c, err)
	}
	if ws, err := svc.ListWebhooks(ctx, alice); err != nil || len(ws) != 1 || ws[0].ID != hook.ID {
		t.Errorf("webhooks: %v, %v; want only %s", ws, err, hook.ID)
	}
}

// hostileTenantInputs returns, per field, a valid tenant input but for bad in that field.
func hostileTenantInputs(bad string) map[string]provisioning.TenantInput {
	valid := func(edit func(*provisioning.TenantInput)) provisioning.TenantInput {
		in := provisioning.TenantInput{CompanyName: "Hostile", Email: "h@example.com"}
		edit(&in)
		return in
	}
	return map[string]provisioning.TenantInput{
		"company_name":   valid(func(in *provisioning.TenantInput) { in.CompanyName = "Hostile " + bad + " Corp" }),
		"email":          valid(func(in *provisioning.TenantInput) { in.Email = "h" + bad + "x@example.com" }),
		"industry":       valid(func(in *provisioning.TenantInput) { in.Industry = "Tech " + bad + " x" }),
		"external_id":    valid(func(in *provisioning.TenantInput) { in.ExternalID = "crm-" + bad + "-1" }),
		"metadata key":   valid(func(in *provisioning.TenantInput) { in.Metadata = map[string]string{"k" + bad: "v"} }),
		"metadata value": valid(func(in *provisioning.TenantInput) { in.Metadata = map[string]string{"k": "v" + bad + "w"} }),
	}
}

// patchOf is the merge patch that sets the fields of in.
func patchOf(in provisioning.TenantInput) provisioning.TenantPatch {
	p := provisioning.TenantPatch{CompanyName: provisioning.Value(in.CompanyName), Email: provisioning.Value(in.Email)}
	if in.Industry != "" {
		p.Industry = provisioning.Value(in.Industry)
	}
	if in.ExternalID != "" {
		p.ExternalID = provisioning.Value(in.ExternalID)
	}
	if in.Metadata != nil {
		md := map[string]*string{}
		for k, v := range in.Metadata {
			md[k] = str(v)
		}
		p.Metadata = provisioning.Value(md)
	}
	return p
}

// hostileFilters returns, per filter, a listing that filters by bad.
func hostileFilters(bad string) map[string]provisioning.TenantFilter {
	return map[string]provisioning.TenantFilter{
		"q":              {Query: "x" + bad},
		"email":          {Email: "h" + bad + "@example.com"},
		"external_id":    {ExternalID: "crm" + bad},
		"metadata key":   {Metadata: map[string]string{"k" + bad: "v"}},
		"metadata value": {Metadata: map[string]string{"k": "v" + bad}},
	}
}

// hostileListings are listings whose bounds, sizes or cursors no store can take.
func hostileListings() map[string]provisioning.TenantFilter {
	many := func(n int) map[string]string {
		m := map[string]string{}
		for i := range n {
			m[fmt.Sprintf("k%d", i)] = "v"
		}
		return m
	}
	cursor := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	id := "0190a0b0-0000-7000-8000-000000000001"
	return map[string]provisioning.TenantFilter{
		"11 metadata filters":       {Metadata: many(provisioning.MaxMetadataFilters + 1)},
		"1000 metadata filters":     {Metadata: many(1000)},
		"metadata key brackets":     {Metadata: map[string]string{"a]b": "v"}},
		"metadata value 501":        {Metadata: map[string]string{"k": strings.Repeat("v", provisioning.MaxMetadataValue+1)}},
		"q of 256":                  {Query: strings.Repeat("q", provisioning.MaxCompanyName+1)},
		"created_after year 0":      {CreatedAfter: time.Date(0, 12, 31, 23, 0, 0, 0, time.UTC)},
		"created_before year 10000": {CreatedBefore: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"created_after year 99999":  {CreatedAfter: time.Date(99999, 1, 1, 0, 0, 0, 0, time.UTC)},
		"created_before year -5":    {CreatedBefore: time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC)},
		"limit -1":                  {Limit: -1},
		"limit 201":                 {Limit: 201},
		"cursor of the far future":  {Cursor: cursor("9223372036854775807|" + id)},
		"cursor of the far past":    {Cursor: cursor("-9223372036854775808|" + id)},
		"cursor of year 10000":      {Cursor: cursor(fmt.Sprint(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()) + "|" + id)},
		"cursor with a URN id":      {Cursor: cursor("1739205000123|urn:uuid:" + id)},
		"cursor with a braced id":   {Cursor: cursor("1739205000123|{" + id + "}")},
		"cursor with a bare id":     {Cursor: cursor("1739205000123|" + strings.ReplaceAll(id, "-", ""))},
		"cursor with NUL":           {Cursor: cursor("1739205000123|\x00" + id)},
		"cursor of garbage":         {Cursor: "\xff\x00!"},
	}
}

// hostileConfigs are configuration documents with a value no store may be handed.
func hostileConfigs() []string {
	docs := []string{`{"a":"x\u0000y"}`, `{"a\u0000":1}`, `{"a":[{"b":["\u0000"]}]}`, `{"a":{"\u0000":null}}`}
	for _, n := range hostileNumbers {
		docs = append(docs, `{"n":`+n+`}`, `{"a":{"b":[1,`+n+`]}}`)
	}
	return docs
}

// testExtremeValues stores the extremes of every rule — the oldest and newest times a filter
// may name, the largest and smallest numbers a configuration holds — and reads them back.
func testExtremeValues(t *testing.T, h Harness) {
	_, svc := open(t, h)
	ctx := context.Background()
	in := input("Extreme")
	in.Config = json.RawMessage(`{"max":1.7976931348623157e308,"min":-1.7976931348623157e308,"tiny":5e-324,` +
		`"big":123456789012345678901234567890,"zero":0e-1000,"places":0.` + strings.Repeat("0", 300) + strings.Repeat("9", 700) +
		`,"text":"tab\tnewline\n\u202e bidi is fine in configuration"}`)
	tn := mustCreate(t, svc, alice, in)
	// What the store gives back may be written differently (PostgreSQL writes 1e308 in full),
	// but it stays within the rules: putting it back is accepted and changes nothing.
	c, err := svc.GetTenantConfig(ctx, alice, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	again, err := svc.ReplaceTenantConfig(ctx, alice, tn.ID, c.Config, provisioning.Precondition{})
	if err != nil || again.Version != c.Version {
		t.Fatalf("putting back what was read: %v, version %d → %d", err, c.Version, again.Version)
	}
	for _, f := range []provisioning.TenantFilter{
		{CreatedAfter: provisioning.MinFilterTime}, {CreatedBefore: provisioning.MaxFilterTime},
		{CreatedAfter: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)}, {CreatedBefore: time.Date(9999, 12, 31, 23, 59, 59, 0, time.FixedZone("", 3600*12))},
		{Metadata: map[string]string{"k0": "v", "k1": "v", "k2": "v", "k3": "v", "k4": "v", "k5": "v", "k6": "v", "k7": "v", "k8": "v", "k9": "v"}},
	} {
		if _, err := svc.ListTenants(ctx, alice, f); err != nil {
			t.Errorf("ListTenants(%+v): %v", f, err)
		}
	}
}

// testCreatedFilters checks created_after and created_before, exclusive, on every store.
func testCreatedFilters(t *testing.T, h Harness) {
	_, svc := open(t, h)
	var ts []*provisioning.Tenant
	for i := range 4 {
		ts = append(ts, mustCreate(t, svc, alice, input(fmt.Sprintf("Created %d", i))))
	}
	at := func(i int) time.Time { return ts[i].CreatedAt }
	ms := time.Millisecond
	cases := []struct {
		name string
		f    provisioning.TenantFilter
		want string
	}{
		{"after", provisioning.TenantFilter{CreatedAfter: at(1)}, "[Created 3 Created 2]"},
		{"before", provisioning.TenantFilter{CreatedBefore: at(1)}, "[Created 0]"},
		{"between", provisioning.TenantFilter{CreatedAfter: at(0), CreatedBefore: at(3)}, "[Created 2 Created 1]"},
		{"sub-millisecond after", provisioning.TenantFilter{CreatedAfter: at(1).Add(ms / 2)}, "[Created 3 Created 2]"},
		{"sub-millisecond before", provisioning.TenantFilter{CreatedBefore: at(1).Add(ms / 2)}, "[Created 1 Created 0]"},
		{"other zone", provisioning.TenantFilter{CreatedAfter: at(2).In(time.FixedZone("", 5*3600))}, "[Created 3]"},
		{"paged", provisioning.TenantFilter{CreatedAfter: at(0), Limit: 1}, "[Created 3 Created 2 Created 1]"},
	}
	for _, tc := range cases {
		if got := fmt.Sprint(names(listAll(t, svc, alice, tc.f))); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

// lookAlikes are groups of company names with one uniqueness key.
var lookAlikes = [][]string{
	{"Acme", "ACME ", "Ａｃｍｅ", "Ac\u00ADme", "Acme\u200B", "\uFEFFacme", "A\u200Dcme", "Acme\uFE0F"},
	{"Café", "Cafe\u0301", "CAFÉ"},
	{"Straße Bau", "STRASSE  BAU", "strasse\u00A0bau", "Straße\u3000Bau"},
	{"ﬁrm", "FIRM"},
}

// testLookAlikeNames checks that any two names with the same NameKey collide in the store, on
// create and on rename, naming the existing tenant, and that q matches by the key.
func testLookAlikeNames(t *testing.T, h Harness) {
	_, svc := open(t, h)
	ctx := context.Background()
	groups := append([][]string{}, lookAlikes...)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 10 {
		groups = append(groups, variants(rng, fmt.Sprintf("Generated Name %d", i)))
	}
	other := mustCreate(t, svc, alice, input("Someone Else"))
	for _, g := range groups {
		first := mustCreate(t, svc, alice, input(g[0]))
		for _, name := range g[1:] {
			if provisioning.NameKey(name) != provisioning.NameKey(g[0]) {
				t.Fatalf("%+q and %+q do not share a key", name, g[0])
			}
			_, err := svc.CreateTenant(ctx, alice, input(name))
			wantExistsNamed(t, err, first.ID, name)
			_, err = svc.UpdateTenant(ctx, alice, other.ID, provisioning.TenantPatch{CompanyName: provisioning.Value(name)}, provisioning.Precondition{})
			wantExistsNamed(t, err, first.ID, name)
			if got := listAll(t, svc, alice, provisioning.TenantFilter{Query: name}); len(got) != 1 || got[0].ID != first.ID {
				t.Errorf("q=%+q finds %v, want %s", name, names(got), g[0])
			}
		}
	}
	if got := listAll(t, svc, alice, provisioning.TenantFilter{Query: "ｃｍｅ"}); len(got) != 1 || got[0].CompanyName != "Acme" {
		t.Errorf("q of a fullwidth substring finds %v", names(got))
	}
}

// variants returns name and look-alikes of it made by random changes that keep its key: case,
// fullwidth letters, invisible characters and white space.
func variants(rng *rand.Rand, name string) []string {
	out := []string{name}
	invisible := []string{"\u200B", "\u200C", "\u200D", "\u2060", "\u00AD", "\uFEFF", "\u034F", "\uFE0F"}
	spaces := []string{" ", "  ", "\u00A0", "\u3000", "\u2003", " \u200B "}
	for range 4 {
		var b strings.Builder
		b.WriteString(spaces[rng.IntN(len(spaces))])
		for _, r := range name {
			switch {
			case r == ' ':
				b.WriteString(spaces[rng.IntN(len(spaces))])
				continue
			case rng.IntN(3) == 0 && r >= '!' && r <= '~':
				r += 0xFF01 - '!' // the fullwidth form
			case rng.IntN(2) == 0:
				r = []rune(strings.ToUpper(string(r)))[0]
			}
			b.WriteRune(r)
			if rng.IntN(4) == 0 {
				b.WriteString(invisible[rng.IntN(len(invisible))])
			}
		}
		out = append(out, b.String())
	}
	return out
}

// wantExistsNamed is wantExists for the company name name.
func wantExistsNamed(t *testing.T, err error, existing, name string) {
	t.Helper()
	var e *provisioning.Error
	if !errors.As(err, &e) || e.Code != provisioning.CodeTenantExists || e.TenantID != existing {
		t.Fatalf("%+q: %v, want tenant_exists naming %s", name, err, existing)
	}
}
