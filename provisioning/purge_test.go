package provisioning_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
)

// lockedBuffer is a log destination the worker's goroutines and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A running worker purges a deleted tenant once its grace has ended, on its own, and logs the
// ids only.
func TestWorkerPurgesDeletedTenants(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	t0 := time.Date(2025, 2, 10, 16, 30, 0, 0, time.UTC)
	svc := provisioning.New(store, provisioning.NewRBAC(provisioning.DefaultPolicy()),
		provisioning.WithClock(func() time.Time { return t0 }), provisioning.WithDeletionGrace(time.Hour))
	tn, err := svc.CreateTenant(ctx, workerAdmin, provisioning.TenantInput{CompanyName: "Ephemeral Corp", Email: "eph@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.DeleteTenant(ctx, workerAdmin, tn.ID, provisioning.DeleteOptions{}, provisioning.Precondition{}); err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	stop := startWorker(t, provisioning.NewWorker(store, provisioning.WorkerOptions{
		PurgeInterval: 10 * time.Millisecond, Clock: func() time.Time { return t0.Add(time.Hour) },
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))}))
	eventually(t, "the tenant is purged", func() bool {
		_, err := svc.GetTenant(ctx, workerAdmin, tn.ID)
		return provisioning.ErrorCode(err) == provisioning.CodeNotFound
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if l := logs.String(); !strings.Contains(l, tn.ID) || strings.Contains(l, "Ephemeral") || strings.Contains(l, "eph@") {
		t.Fatalf("the purge's log: %s", l)
	}
}

// A worker whose clock is before the end of the grace leaves the tenant alone.
func TestWorkerKeepsTenantsWithinTheirGrace(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	t0 := time.Date(2025, 2, 10, 16, 30, 0, 0, time.UTC)
	svc := provisioning.New(store, provisioning.NewRBAC(provisioning.DefaultPolicy()),
		provisioning.WithClock(func() time.Time { return t0 }))
	tn, err := svc.CreateTenant(ctx, workerAdmin, provisioning.TenantInput{CompanyName: "Kept Corp", Email: "k@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	deleted, err := svc.DeleteTenant(ctx, workerAdmin, tn.ID, provisioning.DeleteOptions{}, provisioning.Precondition{})
	if err != nil || !deleted.DeletionScheduledAt.Equal(t0.Add(provisioning.DefaultDeletionGrace)) {
		t.Fatalf("delete: %+v, %v", deleted, err)
	}
	w := provisioning.NewWorker(store, provisioning.WorkerOptions{Clock: func() time.Time {
		return deleted.DeletionScheduledAt.Add(-time.Millisecond)
	}})
	if err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := svc.GetTenant(ctx, workerAdmin, tn.ID); err != nil || got.Status != provisioning.StatusPendingDeletion {
		t.Fatalf("within its grace: %+v, %v", got, err)
	}
}

// WithDeletionGrace sets the grace; what a deletion may ask for lies between an hour (or the
// grace, when shorter) and the grace.
func TestDeletionGraceOption(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2025, 2, 10, 16, 30, 0, 0, time.UTC)
	for _, c := range []struct {
		grace, asked time.Duration
		ok           bool
	}{
		{2 * time.Second, 0, true}, {2 * time.Second, time.Second, false}, {2 * time.Second, 2 * time.Second, true},
		{2 * time.Second, 3 * time.Second, false}, {48 * time.Hour, time.Hour, true}, {48 * time.Hour, 59 * time.Minute, false},
		{0, 0, true}, // keeps the default
	} {
		svc := provisioning.New(memstore.New(), provisioning.NewRBAC(provisioning.DefaultPolicy()),
			provisioning.WithClock(func() time.Time { return t0 }), provisioning.WithDeletionGrace(c.grace))
		tn, err := svc.CreateTenant(ctx, workerAdmin, provisioning.TenantInput{CompanyName: "G", Email: "g@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := svc.DeleteTenant(ctx, workerAdmin, tn.ID, provisioning.DeleteOptions{Grace: c.asked}, provisioning.Precondition{})
		if !c.ok {
			if provisioning.ErrorCode(err) != provisioning.CodeInvalid {
				t.Errorf("grace %s, asked %s: %v, want validation_failed", c.grace, c.asked, err)
			}
			continue
		}
		want := c.asked
		if want == 0 {
			want = c.grace
		}
		if want == 0 {
			want = provisioning.DefaultDeletionGrace
		}
		if err != nil || !got.DeletionScheduledAt.Equal(t0.Add(want)) {
			t.Errorf("grace %s, asked %s: %+v, %v", c.grace, c.asked, got, err)
		}
	}
}
