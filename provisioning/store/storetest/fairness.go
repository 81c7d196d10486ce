package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/barrier"
	"github.com/provisiond/provisiond/provisioning"
)

// The fairness of ClaimDeliveries: one partner's deliveries — many, or to endpoints that hang —
// cannot keep another partner's from being claimed. The tests call the store directly.

// endpoints registers n endpoints of the partner through svc, and returns their ids.
func endpoints(t *testing.T, svc *provisioning.Service, p provisioning.Principal, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		w, err := svc.CreateWebhook(context.Background(), p, provisioning.WebhookInput{
			URL: fmt.Sprintf("https://hooks.example/%s/%d", p.PartnerID, i)})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = w.ID
	}
	return ids
}

// tenants creates n tenants of the partner, each of which queues a delivery to every endpoint
// of the partner.
func tenants(t *testing.T, svc *provisioning.Service, p provisioning.Principal, n int) {
	t.Helper()
	for i := range n {
		mustCreate(t, svc, p, input(fmt.Sprintf("%s %d", p.Subject, i)))
	}
}

// byEndpoint counts jobs per endpoint and fails the test when one has more than max.
func byEndpoint(t *testing.T, jobs []*provisioning.DeliveryJob, max int) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, j := range jobs {
		if n[j.Delivery.WebhookID]++; n[j.Delivery.WebhookID] > max {
			t.Fatalf("one claim took %d deliveries to endpoint %s, want at most %d", n[j.Delivery.WebhookID], j.Delivery.WebhookID, max)
		}
	}
	return n
}

// byPartner counts jobs per partner.
func byPartner(jobs []*provisioning.DeliveryJob) map[string]int {
	n := map[string]int{}
	for _, j := range jobs {
		n[j.Delivery.PartnerID]++
	}
	return n
}

// finish records a successful attempt of each job.
func finish(t *testing.T, s provisioning.Store, now time.Time, jobs ...*provisioning.DeliveryJob) {
	t.Helper()
	ctx := context.Background()
	for _, j := range jobs {
		d := *j.Delivery
		d.State, d.LastStatus, d.UpdatedAt = provisioning.DeliverySucceeded, 204, now
		if err := s.Write(ctx, func(tx provisioning.Tx) error { return tx.FinishDelivery(ctx, &d) }); err != nil {
			t.Fatalf("FinishDelivery: %v", err)
		}
	}
}

// testDeliveryClaimServesEveryPartner: 20 due deliveries of alice's endpoints, all older than
// bob's one, do not keep bob's out of a claim of two; and a partner with fewer deliveries in
// flight goes before one with more, however old the other's are.
func testDeliveryClaimServesEveryPartner(t *testing.T, h Harness) {
	s, svc := open(t, h)
	endpoints(t, svc, alice, 4)
	tenants(t, svc, alice, 5) // 20 deliveries
	endpoints(t, svc, bob, 1)
	tenants(t, svc, bob, 1) // 1, the newest
	now := time.Now().Add(time.Hour)
	params := provisioning.ClaimDeliveriesParams{Now: now, LeaseUntil: now.Add(time.Minute), Limit: 2}
	for _, perEndpoint := range []int{0, 1} { // unbounded, then one per endpoint
		t.Run(fmt.Sprintf("PerEndpoint=%d", perEndpoint), func(t *testing.T) {
			params.PerEndpoint = perEndpoint
			jobs := claimWith(t, s, params)
			if got := byPartner(jobs); len(jobs) != 2 || got[alice.PartnerID] != 1 || got[bob.PartnerID] != 1 {
				t.Fatalf("a claim of 2 slots took %v, want one of each partner's", got)
			}
			finish(t, s, now, jobs...)
			if perEndpoint == 0 { // bob's delivery is done: give him another
				tenants(t, svc, provisioning.Principal{PartnerID: bob.PartnerID, Subject: "bob again"}, 1)
			}
		})
	}

	// Turns count what is in flight: alice has one, bob none, so bob's goes first although
	// alice's 17 others are older.
	s, svc = open(t, h)
	endpoints(t, svc, alice, 2)
	tenants(t, svc, alice, 9) // 18 deliveries
	endpoints(t, svc, bob, 1)
	tenants(t, svc, bob, 1)
	params = provisioning.ClaimDeliveriesParams{Now: now, LeaseUntil: now.Add(time.Minute), Limit: 1, PerEndpoint: 1}
	if first := claimWith(t, s, params); len(first) != 1 || first[0].Delivery.PartnerID != alice.PartnerID {
		t.Fatalf("the first claim of one took %v, want alice's oldest", byPartner(first))
	}
	if second := claimWith(t, s, params); len(second) != 1 || second[0].Delivery.PartnerID != bob.PartnerID {
		t.Fatalf("with one of alice's in flight a claim of one took %v, want bob's", byPartner(second))
	}
}

// testDeliveryClaimEndpointBound: an endpoint with PerEndpoint deliveries in flight gets no
// more until one finishes or its lease ends.
func testDeliveryClaimEndpointBound(t *testing.T, h Harness) {
	s, svc := open(t, h)
	ids := endpoints(t, svc, alice, 3)
	tenants(t, svc, alice, 4) // 4 deliveries per endpoint
	now := time.Now().Add(time.Hour)
	params := provisioning.ClaimDeliveriesParams{Now: now, LeaseUntil: now.Add(time.Minute), Limit: 10, PerEndpoint: 1}

	first := claimWith(t, s, params)
	if got := byEndpoint(t, first, 1); len(first) != len(ids) || len(got) != len(ids) {
		t.Fatalf("the first claim took %v, want one delivery to each of the %d endpoints", got, len(ids))
	}
	if again := claimWith(t, s, params); len(again) != 0 {
		t.Fatalf("%d deliveries claimed to endpoints that have one in flight", len(again))
	}
	finish(t, s, now, first[0])
	next := claimWith(t, s, params)
	if len(next) != 1 || next[0].Delivery.WebhookID != first[0].Delivery.WebhookID || next[0].Delivery.ID == first[0].Delivery.ID {
		t.Fatalf("after one finished the claim took %v, want the next delivery to its endpoint", byEndpoint(t, next, 1))
	}

	// The leases end: every endpoint is free again, one delivery each.
	later := params
	later.Now, later.LeaseUntil = now.Add(2*time.Minute), now.Add(3*time.Minute)
	if got := byEndpoint(t, claimWith(t, s, later), 1); len(got) != len(ids) {
		t.Fatalf("after the leases ended the claim took %v, want one delivery to each endpoint", got)
	}

	// Two at once per endpoint when the bound says so.
	s, svc = open(t, h)
	endpoints(t, svc, alice, 2)
	tenants(t, svc, alice, 3)
	params.PerEndpoint = 2
	if jobs := claimWith(t, s, params); len(jobs) != 4 || len(byEndpoint(t, jobs, 2)) != 2 {
		t.Fatalf("PerEndpoint 2 took %v, want two deliveries to each endpoint", byEndpoint(t, jobs, 2))
	}
	if again := claimWith(t, s, params); len(again) != 0 {
		t.Fatalf("%d deliveries claimed past PerEndpoint 2", len(again))
	}
}

// testDeliveryClaimPartnerBound: a partner with PerPartner deliveries in flight gets no more
// until one finishes, while another partner's are claimed.
func testDeliveryClaimPartnerBound(t *testing.T, h Harness) {
	s, svc := open(t, h)
	endpoints(t, svc, alice, 5)
	tenants(t, svc, alice, 2) // 10 deliveries on 5 endpoints
	endpoints(t, svc, bob, 1)
	tenants(t, svc, bob, 1)
	now := time.Now().Add(time.Hour)
	params := provisioning.ClaimDeliveriesParams{Now: now, LeaseUntil: now.Add(time.Minute), Limit: 10, PerEndpoint: 1, PerPartner: 2}

	first := claimWith(t, s, params)
	if got := byPartner(first); len(first) != 3 || got[alice.PartnerID] != 2 || got[bob.PartnerID] != 1 {
		t.Fatalf("the first claim took %v, want 2 of alice's and bob's", got)
	}
	if again := claimWith(t, s, params); len(again) != 0 {
		t.Fatalf("%d deliveries claimed past the partner bound", len(again))
	}
	for _, j := range first {
		if j.Delivery.PartnerID == alice.PartnerID {
			finish(t, s, now, j)
			break
		}
	}
	if next := claimWith(t, s, params); len(next) != 1 || next[0].Delivery.PartnerID != alice.PartnerID {
		t.Fatalf("after one of alice's finished the claim took %v, want one more of alice's", byPartner(next))
	}
}

// testDeliveryClaimBoundsRace: claimers at once — on two stores where the store has them —
// each claiming, finishing and claiming again, never hold two deliveries to one endpoint at
// once, nor more than the partner's bound, and every delivery is claimed exactly once.
func testDeliveryClaimBoundsRace(t *testing.T, h Harness, twoStores bool) {
	stores, svcs := replicas(t, h, twoStores)
	endpoints(t, svcs[0], alice, 4)
	tenants(t, svcs[0], alice, 6) // 24 deliveries
	endpoints(t, svcs[0], bob, 1)
	tenants(t, svcs[0], bob, 6) // 6
	const total, perPartner = 30, 3
	now := time.Now().Add(time.Hour)
	params := provisioning.ClaimDeliveriesParams{Now: now, LeaseUntil: now.Add(time.Hour), Limit: 2, PerEndpoint: 1, PerPartner: perPartner}

	var mu sync.Mutex
	claimed := map[string]int{}
	endpointBusy, partnerBusy := map[string]bool{}, map[string]int{}
	var done atomic.Int64
	var failure atomic.Value
	deadline := time.Now().Add(30 * time.Second)
	barrier.Run(4, func(w int) {
		s := stores[w%len(stores)]
		for done.Load() < total && failure.Load() == nil {
			if time.Now().After(deadline) {
				failure.CompareAndSwap(nil, fmt.Sprintf("only %d of %d deliveries claimed in time", done.Load(), total))
				return
			}
			jobs := claimWith(t, s, params)
			mu.Lock()
			for _, j := range jobs {
				d := j.Delivery
				claimed[d.ID]++
				if endpointBusy[d.WebhookID] {
					failure.CompareAndSwap(nil, "two deliveries to one endpoint in flight at once")
				}
				endpointBusy[d.WebhookID] = true
				if partnerBusy[d.PartnerID]++; partnerBusy[d.PartnerID] > perPartner {
					failure.CompareAndSwap(nil, fmt.Sprintf("%d deliveries of %s in flight at once", partnerBusy[d.PartnerID], d.PartnerID))
				}
			}
			for _, j := range jobs { // no longer counted before the store hears of it
				endpointBusy[j.Delivery.WebhookID] = false
				partnerBusy[j.Delivery.PartnerID]--
			}
			mu.Unlock()
			finish(t, s, now, jobs...)
			done.Add(int64(len(jobs)))
			if len(jobs) == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	})
	if f := failure.Load(); f != nil {
		t.Fatal(f)
	}
	if len(claimed) != total {
		t.Fatalf("%d deliveries claimed, want %d", len(claimed), total)
	}
	for id, n := range claimed {
		if n != 1 {
			t.Fatalf("delivery %s claimed %d times", id, n)
		}
	}
}

// testWorkerServesEveryPartner: the Worker's pool over the store — alice's endpoints hang,
// every one of her attempts held until the test ends; bob's delivery, queued after hers, is
// still made, while hers hang.
func testWorkerServesEveryPartner(t *testing.T, h Harness) {
	s, svc := open(t, h)
	endpoints(t, svc, alice, 6)
	tenants(t, svc, alice, 3) // 18 deliveries
	var aliceAttempts atomic.Int64
	bobDelivered := make(chan struct{}, 1)
	send := senderFunc(func(ctx context.Context, j *provisioning.DeliveryJob) (int, error) {
		if j.Delivery.PartnerID == alice.PartnerID {
			aliceAttempts.Add(1)
			<-ctx.Done() // when the worker stops
			return 0, ctx.Err()
		}
		bobDelivered <- struct{}{}
		return 204, nil
	})
	const slots = 4
	w := provisioning.NewWorker(s, provisioning.WorkerOptions{Sender: send, DeliveryConcurrency: slots,
		DeliveryInterval: 5 * time.Millisecond, DeliveryTimeout: time.Hour, StopTimeout: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- w.Run(ctx) }()
	defer func() {
		cancel()
		<-stopped
	}()
	for deadline := time.Now().Add(30 * time.Second); aliceAttempts.Load() < slots/2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("alice's attempts did not start: %d", aliceAttempts.Load())
		}
	}
	endpoints(t, svc, bob, 1)
	tenants(t, svc, bob, 1)
	select {
	case <-bobDelivered:
	case <-time.After(30 * time.Second):
		t.Fatal("bob's delivery was not made while alice's endpoints hang")
	}
	if n := aliceAttempts.Load(); n > slots/2 {
		t.Fatalf("%d of alice's attempts started, want at most her bound of %d", n, slots/2)
	}
}

// senderFunc adapts a function to a DeliverySender.
type senderFunc func(ctx context.Context, job *provisioning.DeliveryJob) (int, error)

func (f senderFunc) Send(ctx context.Context, job *provisioning.DeliveryJob) (int, error) {
	return f(ctx, job)
}
