package wire_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/wire"
)

// fill sets every field of the struct v points to, recursively, to a value that is not zero,
// so that a conversion that forgets a field loses something a comparison sees. The fields named
// in skip are left zero.
func fill(t *testing.T, v any, skip ...string) {
	t.Helper()
	fillValue(t, reflect.ValueOf(v).Elem(), skip)
}

func fillValue(t *testing.T, v reflect.Value, skip []string) {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2025, 2, 10, 16, 30, 0, 123e6, time.UTC)))
			return
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() || f.Name == "Null" || containsName(skip, f.Name) {
				continue // Null would erase the value of a patch field
			}
			fillValue(t, v.Field(i), nil)
		}
	case reflect.String:
		v.SetString("x-value")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(7)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fillValue(t, k, nil)
		fillValue(t, e, nil)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Slice:
		if v.Type() == reflect.TypeFor[json.RawMessage]() {
			v.SetBytes([]byte(`{"k":"v"}`))
			return
		}
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fillValue(t, s.Index(0), nil)
		v.Set(s)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fillValue(t, p.Elem(), nil)
		v.Set(p)
	default:
		t.Fatalf("fill: no value for a %s", v.Type())
	}
}

func containsName(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

// through encodes w and decodes the bytes into a fresh W.
func through[W any](t *testing.T, w W) W {
	t.Helper()
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	var out W
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Every field of every domain type survives domain → JSON → domain, except those the API
// does not show, named here. A field added to the domain fails this test until the wire
// carries it (or it is named here, on purpose).
func TestEveryFieldCrossesTheWire(t *testing.T) {
	var tenant provisioning.Tenant
	fill(t, &tenant, "StatusBeforeDeletion") // what a restore gives back: the stores keep it, the API does not show it
	w := through(t, wire.FromTenant(&tenant))
	same(t, w.Domain(), &tenant)

	var in provisioning.TenantInput
	fill(t, &in)
	wi := through(t, wire.FromTenantInput(in))
	same(t, wi.Domain(), in)

	var patch provisioning.TenantPatch
	fill(t, &patch)
	wp := through(t, wire.FromTenantPatch(patch))
	same(t, wp.Domain(), patch)

	// An event carries one of a tenant, a partner and a key, as its type says.
	var ev provisioning.Event
	fill(t, &ev, "Seq", "Partner", "APIKey") // Seq: the store's order, never shown
	ev.Type = provisioning.EventTenantUpdated
	ev.Data.StatusBeforeDeletion = ""
	we := through(t, wire.FromEvent(&ev))
	same(t, we.Domain(), &ev)
	var pev provisioning.Event
	fill(t, &pev, "Seq", "Data", "APIKey")
	pev.Type = provisioning.EventPartnerDisabled
	wpe := through(t, wire.FromEvent(&pev))
	same(t, wpe.Domain(), &pev)
	var kev provisioning.Event
	fill(t, &kev, "Seq", "Data", "Partner")
	kev.Type, kev.APIKey.Key = provisioning.EventAPIKeyCreated, "" // the key itself is never in an event
	wke := through(t, wire.FromEvent(&kev))
	same(t, wke.Domain(), &kev)

	var pt provisioning.Partner
	fill(t, &pt)
	wpt := through(t, wire.FromPartner(&pt))
	same(t, wpt.Domain(), &pt)
	var ptIn provisioning.PartnerInput
	fill(t, &ptIn)
	wptIn := through(t, wire.FromPartnerInput(ptIn))
	same(t, wptIn.Domain(), ptIn)
	var ptPatch provisioning.PartnerPatch
	fill(t, &ptPatch)
	wptPatch := through(t, wire.FromPartnerPatch(ptPatch))
	same(t, wptPatch.Domain(), ptPatch)
	var k provisioning.APIKey
	fill(t, &k)
	wk := through(t, wire.FromAPIKey(&k))
	same(t, wk.Domain(), &k)
	var kIn provisioning.APIKeyInput
	fill(t, &kIn)
	wkIn := through(t, wire.FromAPIKeyInput(kIn))
	same(t, wkIn.Domain(), kIn)

	var export provisioning.TenantExport
	fill(t, &export)
	export.Tenant.StatusBeforeDeletion, export.Events[0].Data.StatusBeforeDeletion = "", ""
	export.Events[0].Type, export.Events[0].Partner, export.Events[0].APIKey = provisioning.EventTenantUpdated, nil, nil
	export.Config.TenantID = export.Tenant.ID // the export's configuration is its tenant's
	export.Events[0].Seq = 0
	wx := through(t, wire.FromTenantExport(&export))
	same(t, wx.Domain(), &export)

	var avail provisioning.Availability
	fill(t, &avail)
	wa := through(t, wire.FromAvailability(&avail))
	same(t, wa.Domain(), &avail)

	var cfg provisioning.TenantConfig
	fill(t, &cfg)
	wc := through(t, wire.FromConfig(&cfg))
	same(t, wc.Domain(cfg.TenantID), &cfg)

	var wh provisioning.Webhook
	fill(t, &wh, "PreviousSecret", "PreviousUntil") // a rotation's old secret is never shown
	ww := through(t, wire.FromWebhookWithSecret(&wh))
	same(t, ww.Domain(wh.PartnerID), &wh)

	var whIn provisioning.WebhookInput
	fill(t, &whIn)
	wwi := through(t, wire.FromWebhookInput(whIn))
	same(t, wwi.Domain(), whIn)

	var whp provisioning.WebhookPatch
	fill(t, &whp)
	wwp := through(t, wire.FromWebhookPatch(whp))
	same(t, wwp.Domain(), whp)

	var d provisioning.Delivery
	fill(t, &d)
	d.State = provisioning.DeliveryPending // the next attempt is shown while pending
	wd := through(t, wire.FromDelivery(&d))
	same(t, wd.Domain(d.PartnerID), &d)

	e := &provisioning.Error{}
	fill(t, e, "Err") // the cause is for logs only
	e.Code = provisioning.CodeTenantExists
	wpr := through(t, wire.FromError(e))
	same(t, wpr.Domain(), e)
}
