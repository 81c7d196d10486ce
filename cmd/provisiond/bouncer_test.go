package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/internal/barrier"
	"github.com/provisiond/provisiond/internal/pgtest"
)

// Three provisiond processes share one PostgreSQL database through one PgBouncer in
// transaction pooling mode with its defaults, as operators run them: the migrations applied
// first by 'provisiond migrate' straight to PostgreSQL, the replicas started with --no-migrate.
// PgBouncer opens at most 20 server connections (default_pool_size) for the replicas' up to 60,
// so their transactions take turns on the same server connections. The races that the database
// settles keep their outcome: one company name is created once, and one Idempotency-Key acts
// once.
func TestThreeReplicasThroughPgBouncer(t *testing.T) {
	db := pgtest.BouncerDB(t)
	if out, err := exec.Command(binary(t), "migrate", "--database-url", db.Direct).CombinedOutput(); err != nil {
		t.Fatalf("provisiond migrate: %v: %s", err, out)
	}
	dir := t.TempDir() // one dev key for the three
	var replicas []*proc
	for range 3 {
		replicas = append(replicas, startProc(t, dir, "--database-url", db.Bouncer, "--no-migrate",
			"--rate-limit", "0", "--failed-auth-limit", "0")) // many requests from one address at once
	}

	t.Run("SameCompanyName", func(t *testing.T) {
		raceSameName(t, replicas, 90, "Pooled Corp", "POOLED corp")
		for _, p := range replicas {
			if st, body := call(t, "GET", tenantsURL(p)+"?q=pooled", p.token, ""); st != 200 || strings.Count(body, `"tenant":`) != 1 {
				t.Fatalf("list after the race: %d %s", st, body)
			}
		}
	})

	t.Run("SameIdempotencyKey", func(t *testing.T) {
		const n = 60
		body := `{"company_name":"Once Through The Pool","email":"o@example.com"}`
		type answer struct {
			status   int
			replayed bool
			body     string
		}
		answers := make([]answer, n)
		barrier.Run(n, func(i int) {
			p := replicas[i%3]
			st, replayed, got, err := post(tenantsURL(p), p.token, "pooled-4711", body)
			if err != nil {
				got = err.Error()
			}
			answers[i] = answer{st, replayed, got}
		})
		fresh, created := 0, ""
		for _, ans := range answers {
			if ans.status == 201 && !ans.replayed {
				fresh++
				created = ans.body
			}
		}
		if fresh != 1 {
			t.Fatalf("%d fresh creates, want 1", fresh)
		}
		for _, ans := range answers {
			switch {
			case ans.status == 201 && ans.replayed && ans.body == created:
			case ans.status == 201 && !ans.replayed:
			case ans.status == 409 && strings.Contains(ans.body, "idempotency_key_in_use"):
			default:
				t.Fatalf("answer %d (replayed %v) %s; want a replay of %s or 409 idempotency_key_in_use",
					ans.status, ans.replayed, ans.body, created)
			}
		}
		// Once the first request has ended, every retry, on every replica, is its replay.
		for round := range 2 {
			for i, p := range replicas {
				st, replayed, got, err := post(tenantsURL(p), p.token, "pooled-4711", body)
				if err != nil || st != 201 || !replayed || got != created {
					t.Fatalf("retry %d on replica %d: %d replayed %v %s %v; want the replay of %s",
						round, i, st, replayed, got, err, created)
				}
			}
		}
		if st, list := call(t, "GET", tenantsURL(replicas[0])+"?q=once+through", replicas[0].token, ""); st != 200 || strings.Count(list, `"tenant":`) != 1 {
			t.Fatalf("tenants after the storm: %d %s", st, list)
		}
	})
}
