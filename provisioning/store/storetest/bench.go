package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
)

// Bench measures a store through the Service: create, get, and a list page of 50 among 1,000
// tenants. Every store runs it from one benchmark function.
func Bench(b *testing.B, newStore func(b *testing.B) provisioning.Store) {
	ctx := context.Background()
	setup := func(b *testing.B) *provisioning.Service {
		s := newStore(b)
		b.Cleanup(func() { _ = s.Close() })
		return provisioning.New(s, allowAll{})
	}
	b.Run("Create", func(b *testing.B) {
		svc := setup(b)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := svc.CreateTenant(ctx, alice, input(fmt.Sprintf("Bench %d", i))); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, atomic := range []bool{true, false} {
		b.Run(fmt.Sprintf("BulkCreate1000/atomic=%t", atomic), func(b *testing.B) {
			svc := setup(b)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				ins := make([]provisioning.TenantInput, provisioning.MaxBulk)
				for j := range ins {
					ins[j] = input(fmt.Sprintf("Bulk %d %d", i, j))
				}
				res, err := svc.CreateTenants(ctx, alice, ins, atomic)
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range res {
					if r.Err != nil {
						b.Fatal(r.Err)
					}
				}
			}
			b.ReportMetric(float64(b.N*provisioning.MaxBulk)/b.Elapsed().Seconds(), "tenants/s")
		})
	}
	b.Run("Get", func(b *testing.B) {
		svc := setup(b)
		tn, err := svc.CreateTenant(ctx, alice, input("Bench"))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := svc.GetTenant(ctx, alice, tn.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("List50of1000", func(b *testing.B) {
		svc := setup(b)
		for i := range 1000 {
			if _, err := svc.CreateTenant(ctx, alice, input(fmt.Sprintf("Bench %d", i))); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		for b.Loop() {
			page, err := svc.ListTenants(ctx, alice, provisioning.TenantFilter{Limit: 50})
			if err != nil || len(page.Tenants) != 50 {
				b.Fatal(err)
			}
		}
	})
}
