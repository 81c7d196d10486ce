package wire_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/wire"
)

var (
	created = time.Date(2025, 2, 10, 16, 30, 0, 123e6, time.UTC)
	updated = time.Date(2025, 2, 11, 8, 0, 0, 0, time.UTC)
)

func acme() *provisioning.Tenant {
	return &provisioning.Tenant{ID: "0190a0b0-0000-7000-8000-000000000001", PartnerID: "p", CompanyName: "Acme",
		Email: "a@example.com", ExternalID: "crm-1", Status: provisioning.StatusActive,
		Metadata: map[string]string{"plan": "gold"}, Version: 3, CreatedAt: created, UpdatedAt: updated,
		Provisioning: provisioning.Provisioning{State: provisioning.ProvisioningSucceeded}}
}

// The API's bytes of each resource, as the server wrote them before the wire package existed,
// with the provisioning and deletion_scheduled_at added since.
const (
	acmeJSON = `{"tenant":"0190a0b0-0000-7000-8000-000000000001","company_name":"Acme","email":"a@example.com",` +
		`"phone_number":null,"industry":null,"external_id":"crm-1","status":"active","metadata":{"plan":"gold"},` +
		`"partner_id":"p","version":3,"created_at":"2025-02-10T16:30:00.123Z","updated_at":"2025-02-11T08:00:00.000Z",` +
		`"provisioning":{"state":"succeeded","steps":[]},"deletion_scheduled_at":null}`
	fullJSON = `{"tenant":"0190a0b0-0000-7000-8000-000000000002","company_name":"Beta","email":"b@example.com",` +
		`"phone_number":"+1234567890","industry":"Retail","external_id":null,"status":"suspended","metadata":null,` +
		`"partner_id":"p","version":1,"created_at":"2025-02-10T16:30:00.123Z","updated_at":"2025-02-10T16:30:00.123Z",` +
		`"provisioning":{"state":"failed","steps":[` +
		`{"name":"admin-user","state":"succeeded","attempts":1,"last_error":null,"completed_at":"2025-02-10T16:30:00.123Z"},` +
		`{"name":"welcome-mail","state":"failed","attempts":2,"last_error":"the mail server refused","completed_at":null}]},` +
		`"deletion_scheduled_at":null}`
	pendingJSON = `{"tenant":"0190a0b0-0000-7000-8000-000000000001","company_name":"Acme","email":"a@example.com",` +
		`"phone_number":null,"industry":null,"external_id":"crm-1","status":"pending_deletion","metadata":{"plan":"gold"},` +
		`"partner_id":"p","version":4,"created_at":"2025-02-10T16:30:00.123Z","updated_at":"2025-02-11T08:00:00.000Z",` +
		`"provisioning":{"state":"succeeded","steps":[]},"deletion_scheduled_at":"2025-03-13T08:00:00.000Z"}`
)

// pending is acme, deleted: the status it had before is not shown.
func pending() *provisioning.Tenant {
	t := acme()
	t.Status, t.Version, t.DeletionScheduledAt = provisioning.StatusPendingDeletion, 4, updated.Add(720*time.Hour)
	return t
}

func beta() *provisioning.Tenant {
	return &provisioning.Tenant{ID: "0190a0b0-0000-7000-8000-000000000002", PartnerID: "p", CompanyName: "Beta",
		Email: "b@example.com", PhoneNumber: "+1234567890", Industry: "Retail", Status: provisioning.StatusSuspended,
		Version: 1, CreatedAt: created, UpdatedAt: created,
		Provisioning: provisioning.Provisioning{State: provisioning.ProvisioningFailed, Steps: []provisioning.ProvisioningStep{
			{Name: "admin-user", State: provisioning.ProvisioningSucceeded, Attempts: 1, CompletedAt: created},
			{Name: "welcome-mail", State: provisioning.ProvisioningFailed, Attempts: 2, LastError: "the mail server refused"},
		}}}
}

// roundTrip encodes v, checks the bytes against want (when want is not ""), and decodes them
// into a fresh value of v's type.
func roundTrip[W any](t *testing.T, v W, want string) W {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if want != "" && string(b) != want {
		t.Fatalf("wire bytes\n got: %s\nwant: %s", b, want)
	}
	var out W
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return out
}

func same(t *testing.T, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip\n got: %+v\nwant: %+v", got, want)
	}
}

func TestTenant(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tenant *provisioning.Tenant
		json   string
	}{{"optional fields null", acme(), acmeJSON}, {"every field", beta(), fullJSON}, {"pending deletion", pending(), pendingJSON}} {
		t.Run(tc.name, func(t *testing.T) {
			w := roundTrip(t, wire.FromTenant(tc.tenant), tc.json)
			same(t, w.Domain(), tc.tenant)
		})
	}
}

func TestTenantPage(t *testing.T) {
	page := &provisioning.TenantPage{Tenants: []*provisioning.Tenant{acme(), beta()}, HasMore: true, NextCursor: "abc"}
	w := roundTrip(t, wire.FromTenantPage(page), `{"data":[`+acmeJSON+`,`+fullJSON+`],"has_more":true,"next_cursor":"abc"}`)
	same(t, w.Domain(), page)

	last := &provisioning.TenantPage{}
	w = roundTrip(t, wire.FromTenantPage(last), `{"data":[],"has_more":false,"next_cursor":null}`)
	same(t, w.Domain(), last)
}

func TestTenantInput(t *testing.T) {
	in := provisioning.TenantInput{CompanyName: "Acme", Email: "a@example.com", PhoneNumber: "+1 234 567",
		Industry: "Tech", ExternalID: "x-1", Status: provisioning.StatusSuspended, Metadata: map[string]string{"k": "v"},
		Config: json.RawMessage(`{"seats":3}`)}
	w := roundTrip(t, wire.FromTenantInput(in), `{"company_name":"Acme","email":"a@example.com","phone_number":"+1 234 567",`+
		`"industry":"Tech","external_id":"x-1","status":"suspended","metadata":{"k":"v"},"config":{"seats":3}}`)
	same(t, w.Domain(), in)

	minimal := provisioning.TenantInput{CompanyName: "Acme", Email: "a@example.com"}
	w = roundTrip(t, wire.FromTenantInput(minimal), `{"company_name":"Acme","email":"a@example.com"}`)
	same(t, w.Domain(), minimal)
}

func TestTenantPatch(t *testing.T) {
	gold := "gold"
	p := provisioning.TenantPatch{CompanyName: provisioning.Value("B"), Industry: provisioning.Null[string](),
		Status:   provisioning.Value(provisioning.StatusSuspended),
		Metadata: provisioning.Value(map[string]*string{"drop": nil, "plan": &gold})}
	w := roundTrip(t, wire.FromTenantPatch(p), `{"company_name":"B","industry":null,"status":"suspended","metadata":{"drop":null,"plan":"gold"}}`)
	same(t, w.Domain(), p)

	clearAll := provisioning.TenantPatch{Metadata: provisioning.Null[map[string]*string]()}
	w = roundTrip(t, wire.FromTenantPatch(clearAll), `{"metadata":null}`)
	same(t, w.Domain(), clearAll)
	w = roundTrip(t, wire.FromTenantPatch(provisioning.TenantPatch{}), `{}`)
	same(t, w.Domain(), provisioning.TenantPatch{})
}

// A member that is present sets Set, a JSON null sets Null as well, an absent one neither.
func TestFieldUnmarshal(t *testing.T) {
	var p wire.TenantPatch
	if err := json.Unmarshal([]byte(`{"industry":null,"email":"a@b.co","metadata":{"x":null,"y":"1"}}`), &p); err != nil {
		t.Fatal(err)
	}
	if p.CompanyName.Set {
		t.Error("absent company_name is Set")
	}
	if !p.Industry.Set || !p.Industry.Null {
		t.Error("null industry is not Set+Null")
	}
	if !p.Email.Set || p.Email.Null || p.Email.Value != "a@b.co" {
		t.Errorf("email = %+v", p.Email)
	}
	if m := p.Metadata.Value; m["x"] != nil || *m["y"] != "1" {
		t.Errorf("metadata = %+v", m)
	}
}

func event() *provisioning.Event {
	return &provisioning.Event{ID: "0190a0b0-0000-7000-8000-0000000000e1", Type: provisioning.EventTenantUpdated,
		TenantID: acme().ID, PartnerID: "p", Actor: "alice", CreatedAt: updated, Data: acme()}
}

const eventJSON = `{"id":"0190a0b0-0000-7000-8000-0000000000e1","type":"tenant.updated","tenant":"0190a0b0-0000-7000-8000-000000000001",` +
	`"partner_id":"p","actor":"alice","request_id":null,"created_at":"2025-02-11T08:00:00.000Z","data":` + acmeJSON + `}`

func TestEvent(t *testing.T) {
	e := event()
	e.Seq = 42 // the store's, not shown
	w := roundTrip(t, wire.FromEvent(e), eventJSON)
	e.Seq = 0
	same(t, w.Domain(), e)

	page := &provisioning.EventPage{Events: []*provisioning.Event{event()}, NextCursor: "ZTM"}
	wp := roundTrip(t, wire.FromEventPage(page), `{"data":[`+eventJSON+`],"has_more":false,"next_cursor":"ZTM"}`)
	same(t, wp.Domain(), page)
}

func TestConfig(t *testing.T) {
	c := &provisioning.TenantConfig{TenantID: acme().ID, Config: json.RawMessage(`{"a":{"b":[1,2]},"z":true}`), Version: 2, UpdatedAt: updated}
	w := roundTrip(t, wire.FromConfig(c), `{"config":{"a":{"b":[1,2]},"z":true},"version":2,"updated_at":"2025-02-11T08:00:00.000Z"}`)
	same(t, w.Domain(c.TenantID), c)
}

func TestWebhook(t *testing.T) {
	wh := &provisioning.Webhook{ID: "0190a0b0-0000-7000-8000-0000000000w1", PartnerID: "p", URL: "https://hooks.example/x",
		Events: []provisioning.EventType{provisioning.EventTenantCreated}, Description: "CRM", Secret: "whsec_abc", CreatedAt: created}
	w := roundTrip(t, wire.FromWebhook(wh), `{"id":"0190a0b0-0000-7000-8000-0000000000w1","url":"https://hooks.example/x",`+
		`"events":["tenant.created"],"description":"CRM","created_at":"2025-02-10T16:30:00.123Z","disabled":false}`)
	withoutSecret := *wh
	withoutSecret.Secret = ""
	same(t, w.Domain("p"), &withoutSecret)

	w = roundTrip(t, wire.FromWebhookWithSecret(wh), `{"id":"0190a0b0-0000-7000-8000-0000000000w1","url":"https://hooks.example/x",`+
		`"events":["tenant.created"],"description":"CRM","created_at":"2025-02-10T16:30:00.123Z","disabled":false,"secret":"whsec_abc"}`)
	same(t, w.Domain("p"), wh)

	every := &provisioning.Webhook{ID: "w2", PartnerID: "p", URL: "https://hooks.example/all", CreatedAt: created, Disabled: true}
	w = roundTrip(t, wire.FromWebhook(every), `{"id":"w2","url":"https://hooks.example/all","events":[],"description":null,`+
		`"created_at":"2025-02-10T16:30:00.123Z","disabled":true}`)
	same(t, w.Domain("p"), every)

	list := wire.ListOf([]*provisioning.Webhook{every}, wire.FromWebhook)
	roundTrip(t, list, `{"data":[{"id":"w2","url":"https://hooks.example/all","events":[],"description":null,"created_at":"2025-02-10T16:30:00.123Z","disabled":true}]}`)
	roundTrip(t, wire.ListOf([]*provisioning.Webhook(nil), wire.FromWebhook), `{"data":[]}`)

	in := provisioning.WebhookInput{URL: "https://hooks.example/x", Events: []provisioning.EventType{"tenant.created"}, Description: "d"}
	wi := roundTrip(t, wire.FromWebhookInput(in), `{"url":"https://hooks.example/x","events":["tenant.created"],"description":"d"}`)
	same(t, wi.Domain(), in)

	patch := provisioning.WebhookPatch{URL: provisioning.Value("https://hooks.example/y"), Description: provisioning.Null[string](),
		Events: provisioning.Value([]provisioning.EventType{provisioning.EventTenantProvisioned}), Disabled: provisioning.Value(true)}
	wpt := roundTrip(t, wire.FromWebhookPatch(patch), `{"url":"https://hooks.example/y","events":["tenant.provisioned"],"description":null,"disabled":true}`)
	same(t, wpt.Domain(), patch)
	all := provisioning.WebhookPatch{Events: provisioning.Null[[]provisioning.EventType]()}
	wpt = roundTrip(t, wire.FromWebhookPatch(all), `{"events":null}`)
	same(t, wpt.Domain(), all)
	wpt = roundTrip(t, wire.FromWebhookPatch(provisioning.WebhookPatch{}), `{}`)
	same(t, wpt.Domain(), provisioning.WebhookPatch{})
}

// A test delivery's body is shaped like an event, about no tenant.
func TestTestEventBody(t *testing.T) {
	e := &provisioning.Event{ID: "0190a0b0-0000-7000-8000-0000000000t1", Type: provisioning.EventWebhookTest, PartnerID: "p", CreatedAt: created}
	b, err := json.Marshal(wire.EventBody(e))
	if want := `{"id":"0190a0b0-0000-7000-8000-0000000000t1","type":"webhook.test","tenant":null,"partner_id":"p",` +
		`"actor":null,"request_id":null,"created_at":"2025-02-10T16:30:00.123Z","data":null}`; err != nil || string(b) != want {
		t.Fatalf("test event body\n got: %s\nwant: %s", b, want)
	}
	if b, _ := json.Marshal(wire.EventBody(event())); !json.Valid(b) || string(b) != string(must(json.Marshal(wire.FromEvent(event())))) {
		t.Fatalf("a lifecycle event's body is not its feed form: %s", b)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestDelivery(t *testing.T) {
	pending := &provisioning.Delivery{ID: "d1", WebhookID: "w1", PartnerID: "p", EventID: "e1", EventType: provisioning.EventTenantCreated,
		State: provisioning.DeliveryPending, Attempts: 2, NextAttemptAt: updated, LastStatus: 503, LastError: "the endpoint answered HTTP 503",
		CreatedAt: created, UpdatedAt: created}
	w := roundTrip(t, wire.FromDelivery(pending), `{"id":"d1","webhook":"w1","event":"e1","event_type":"tenant.created","state":"pending",`+
		`"attempts":2,"next_attempt_at":"2025-02-11T08:00:00.000Z","last_status":503,"last_error":"the endpoint answered HTTP 503",`+
		`"created_at":"2025-02-10T16:30:00.123Z","updated_at":"2025-02-10T16:30:00.123Z"}`)
	same(t, w.Domain("p"), pending)

	done := &provisioning.Delivery{ID: "d2", WebhookID: "w1", PartnerID: "p", EventID: "e1", EventType: provisioning.EventTenantCreated,
		State: provisioning.DeliverySucceeded, Attempts: 1, CreatedAt: created, UpdatedAt: updated}
	w = roundTrip(t, wire.FromDelivery(done), `{"id":"d2","webhook":"w1","event":"e1","event_type":"tenant.created","state":"succeeded",`+
		`"attempts":1,"next_attempt_at":null,"last_status":null,"last_error":null,`+
		`"created_at":"2025-02-10T16:30:00.123Z","updated_at":"2025-02-11T08:00:00.000Z"}`)
	same(t, w.Domain("p"), done)
}

func TestProblem(t *testing.T) {
	invalid := provisioning.InvalidFields(map[string]string{"email": "must be a valid email address", "company_name": "cannot be blank"})
	p := wire.FromError(invalid)
	p.Title, p.Status, p.RequestID = "Validation failed", 400, "01J"
	w := roundTrip(t, p, `{"type":"urn:provisiond:problem:validation_failed","title":"Validation failed","status":400,`+
		`"detail":"2 fields are invalid","code":"validation_failed","errors":{"company_name":"cannot be blank",`+
		`"email":"must be a valid email address"},"request_id":"01J"}`)
	same(t, w.Domain(), invalid)

	exists := &provisioning.Error{Code: provisioning.CodeTenantExists, Message: "taken", TenantID: acme().ID}
	w = roundTrip(t, wire.FromError(exists), "")
	same(t, w.Domain(), exists)

	// An internal error shows nothing of its cause.
	w = roundTrip(t, wire.FromError(errors.New("pq: password authentication failed")), "")
	same(t, w.Domain(), &provisioning.Error{Code: provisioning.CodeInternal, Message: "internal error"})

	// A code this build does not know is kept as it is.
	w = wire.Problem{Code: "quota_exceeded", Detail: "too many"}
	if got := provisioning.ErrorCode(w.Domain()); got != "quota_exceeded" {
		t.Fatalf("unknown code became %q", got)
	}
}

func TestBulk(t *testing.T) {
	ins := []provisioning.TenantInput{{CompanyName: "A", Email: "a@example.com"}, {CompanyName: "B", Email: "b@example.com", Config: json.RawMessage(`{"x":1}`)}}
	req, err := wire.FromBulk(ins, true)
	if err != nil {
		t.Fatal(err)
	}
	w := roundTrip(t, req, `{"tenants":[{"company_name":"A","email":"a@example.com"},{"company_name":"B","email":"b@example.com","config":{"x":1}}],"atomic":true}`)
	for i, raw := range w.Tenants {
		var in wire.TenantInput
		if err := json.Unmarshal(raw, &in); err != nil {
			t.Fatal(err)
		}
		same(t, in.Domain(), ins[i])
	}
	if _, err := wire.FromBulk([]provisioning.TenantInput{{Config: json.RawMessage(`{`)}}, false); err == nil {
		t.Fatal("a config that is not JSON encoded")
	}

	results := []provisioning.BulkResult{{Tenant: acme()}, {Err: &provisioning.Error{Code: provisioning.CodeTenantExists, Message: "taken", TenantID: beta().ID}}}
	resp := wire.FromBulkResults(results, func(err error) wire.Problem {
		p := wire.FromError(err)
		p.Status = 409
		return p
	})
	wr := roundTrip(t, resp, `{"results":[{"index":0,"status":201,"tenant":`+acmeJSON+`},{"index":1,"status":409,"error":`+
		`{"type":"urn:provisiond:problem:tenant_exists","title":"","status":409,"detail":"taken","code":"tenant_exists",`+
		`"tenant":"0190a0b0-0000-7000-8000-000000000002","request_id":""}}]}`)
	got := wr.Domain()
	same(t, got[0].Tenant, results[0].Tenant)
	same(t, got[1].Err, results[1].Err)
}

func TestTimeReadsAnyRFC3339(t *testing.T) {
	var tm wire.Time
	if err := json.Unmarshal([]byte(`"2025-02-10T17:30:00.5+01:00"`), &tm); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2025, 2, 10, 16, 30, 0, 5e8, time.UTC); !time.Time(tm).Equal(want) || time.Time(tm).Location() != time.UTC {
		t.Fatalf("time = %v", time.Time(tm))
	}
	for _, bad := range []string{`1739205000`, `"yesterday"`, `null`} {
		if err := json.Unmarshal([]byte(bad), &tm); err == nil {
			t.Errorf("%s read as a time", bad)
		}
	}
}

func TestAvailability(t *testing.T) {
	taken := &provisioning.Availability{TenantID: "0190a0b0-0000-7000-8000-000000000001"}
	w := roundTrip(t, wire.FromAvailability(taken), `{"available":false,"tenant":"0190a0b0-0000-7000-8000-000000000001"}`)
	same(t, w.Domain(), taken)
	free := &provisioning.Availability{Available: true}
	w = roundTrip(t, wire.FromAvailability(free), `{"available":true,"tenant":null}`)
	same(t, w.Domain(), free)
}

func TestTenantExport(t *testing.T) {
	x := &provisioning.TenantExport{Tenant: acme(), Config: &provisioning.TenantConfig{TenantID: acme().ID,
		Config: []byte(`{"seats":5}`), Version: 2, UpdatedAt: updated}, NextCursor: "abc"}
	w := roundTrip(t, wire.FromTenantExport(x), `{"tenant":`+acmeJSON+`,"config":{"config":{"seats":5},"version":2,`+
		`"updated_at":"2025-02-11T08:00:00.000Z"},"events":[],"has_more":false,"next_cursor":"abc"}`)
	same(t, w.Domain(), x)
}
