package httpapi_test

import (
	"encoding/base64"
	"testing"

	"github.com/google/uuid"
)

// A partner's feed cursors are its own: they name its last event and nothing else (no
// sequence number counting other partners' events), another partner's activity does not move
// them, and a cursor of another partner, or of no event, is refused rather than read as "from
// the start".
func TestEventCursorsRevealNoOtherPartner(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, e.admin, acme)["tenant"].(string)
	for _, patch := range []string{`{"industry":"Retail"}`, `{"status":"suspended"}`, `{"status":"active"}`} {
		if r := e.req(t, "PATCH", base+"/tenants/"+id, e.admin, patch); r.status != 200 {
			t.Fatalf("patch: %d %s", r.status, r.body)
		}
	}
	e.create(t, e.adminB, `{"company_name":"Bee","email":"b@example.com"}`)

	page := e.req(t, "GET", base+"/events", e.adminB, "").json(t)
	data := page["data"].([]any)
	cursorB, _ := page["next_cursor"].(string)
	if len(data) != 1 || cursorB == "" {
		t.Fatalf("B's feed: %v", page)
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursorB)
	if eventID := data[0].(map[string]any)["id"].(string); err != nil || string(raw) != eventID {
		t.Fatalf("B's cursor %q holds %q, want nothing but B's event id %s", cursorB, raw, eventID)
	}

	// A's further activity does not move B's position.
	e.create(t, e.admin, `{"company_name":"Busy","email":"busy@example.com"}`)
	page = e.req(t, "GET", base+"/events?after="+cursorB, e.adminB, "").json(t)
	if len(page["data"].([]any)) != 0 || page["next_cursor"] != cursorB {
		t.Fatalf("B's poll after A's change: %v", page)
	}

	cursorA := e.req(t, "GET", base+"/events?limit=2", e.admin, "").json(t)["next_cursor"].(string)
	nowhere := base64.RawURLEncoding.EncodeToString([]byte(uuid.NewString()))
	for _, c := range []struct{ token, cursor, what string }{
		{e.adminB, cursorA, "A's cursor used by B"},
		{e.admin, cursorB, "B's cursor used by A"},
		{e.adminB, nowhere, "a cursor of no event"},
		{e.adminB, base64.RawURLEncoding.EncodeToString([]byte("e1")), "a sequence number"},
	} {
		p := wantProblem(t, e.req(t, "GET", base+"/events?after="+c.cursor, c.token, ""), 400, "validation_failed")
		if p["errors"].(map[string]any)["after"] == nil {
			t.Fatalf("%s: %v", c.what, p)
		}
	}
}
