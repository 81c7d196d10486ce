package httpapi_test

import (
	"fmt"
	"testing"

	"github.com/provisiond/provisiond/internal/barrier"
	"github.com/provisiond/provisiond/provisioning"
)

// Three times the limit of concurrent registrations leave the partner with exactly the limit
// of endpoints; every other registration is answered 400. On PostgreSQL the requests run on
// separate connections, as on several replicas.
func TestWebhookLimitUnderConcurrentRegistrations(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b.store(t, ""))
			const n = 3 * provisioning.MaxWebhooks
			answers := make([]response, n)
			barrier.Run(n, func(i int) {
				answers[i] = e.req(t, "POST", base+"/webhooks", e.admin, fmt.Sprintf(`{"url":"https://hooks.example/%d"}`, i))
			})
			registered := 0
			for _, r := range answers {
				if r.status == 201 {
					registered++
					continue
				}
				wantProblem(t, r, 400, "validation_failed")
			}
			list := e.req(t, "GET", base+"/webhooks", e.admin, "")
			if stored := len(list.json(t)["data"].([]any)); registered != provisioning.MaxWebhooks || stored != registered {
				t.Fatalf("%d of %d concurrent registrations succeeded and %d endpoints are stored, want %d",
					registered, n, stored, provisioning.MaxWebhooks)
			}
		})
	}
}
