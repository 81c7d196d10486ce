package apikey_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/pgtest"
	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/apikey"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
	"github.com/provisiond/provisiond/provisioning/store/postgres"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var ops = provisioning.Principal{PartnerID: "ops", Subject: "olga", Operator: true}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func issue(t *testing.T, svc *provisioning.Service, partner string, in provisioning.APIKeyInput) *provisioning.APIKey {
	t.Helper()
	k, err := svc.CreateAPIKey(context.Background(), ops, partner, in)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func wantUnauthenticated(t *testing.T, err error) {
	t.Helper()
	if provisioning.ErrorCode(err) != provisioning.CodeUnauthenticated {
		t.Fatalf("error %v, want unauthenticated", err)
	}
}

// A key becomes its partner's principal with exactly its permissions; anything that is not the
// form of a key is refused without a lookup; an expired key is refused at its time.
func TestAuthenticate(t *testing.T) {
	c := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	store := memstore.New()
	svc := provisioning.New(store, provisioning.NewRBAC(provisioning.Policy{}), provisioning.WithClock(c.now))
	k := issue(t, svc, "partner-a", provisioning.APIKeyInput{Name: "crm", Permissions: []provisioning.Permission{provisioning.PermTenantRead},
		ExpiresAt: c.now().Add(time.Hour)})
	op := issue(t, svc, "ops", provisioning.APIKeyInput{Name: "bootstrap", Operator: true})
	a := apikey.New(store, apikey.Options{Clock: c.now})
	p, err := a.Authenticate(context.Background(), k.Key)
	if err != nil || p.PartnerID != "partner-a" || p.Subject != "api_key:"+k.ID || p.Operator || len(p.Roles) != 0 ||
		len(p.Permissions) != 1 || p.Permissions[0] != provisioning.PermTenantRead {
		t.Fatalf("principal %+v, %v", p, err)
	}
	if p, err := a.Authenticate(context.Background(), op.Key); err != nil || !p.Operator || p.PartnerID != "ops" {
		t.Fatalf("operator key: %+v, %v", p, err)
	}
	for _, bad := range []string{"", "pk_", k.Key + "A", k.Key[:len(k.Key)-1] + "*", "sk_" + k.Key[3:], otherKey(k.Key)} {
		_, err := a.Authenticate(context.Background(), bad)
		wantUnauthenticated(t, err)
	}
	c.add(time.Hour - time.Millisecond)
	if _, err := a.Authenticate(context.Background(), k.Key); err != nil {
		t.Fatalf("just before it expires: %v", err)
	}
	c.add(time.Millisecond)
	_, err = a.Authenticate(context.Background(), k.Key)
	wantUnauthenticated(t, err)
}

// However long a host asks the cache to trust a key, a revoked key is refused once
// MaxCacheTTL has passed.
func TestCacheIsBounded(t *testing.T) {
	c := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	store := memstore.New()
	svc := provisioning.New(store, provisioning.NewRBAC(provisioning.Policy{}), provisioning.WithClock(c.now))
	k := issue(t, svc, "partner-a", provisioning.APIKeyInput{Name: "crm", Permissions: []provisioning.Permission{provisioning.PermTenantRead}})
	a := apikey.New(store, apikey.Options{Clock: c.now, CacheTTL: time.Hour})
	if _, err := a.Authenticate(context.Background(), k.Key); err != nil {
		t.Fatal(err)
	}
	if err := svc.RevokeAPIKey(context.Background(), ops, "partner-a", k.ID); err != nil {
		t.Fatal(err)
	}
	c.add(apikey.MaxCacheTTL - time.Millisecond)
	if _, err := a.Authenticate(context.Background(), k.Key); err != nil {
		t.Fatalf("within the cache's lifetime: %v", err)
	}
	c.add(time.Millisecond)
	_, err := a.Authenticate(context.Background(), k.Key)
	wantUnauthenticated(t, err)
}

// Two replicas on one PostgreSQL: a key revoked through one is refused by the other's
// authenticator within its cache's lifetime (polled, with a generous deadline).
func TestRevocationSeenByAnotherReplica(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	openStore := func() *postgres.Store {
		s, err := postgres.Open(ctx, url, postgres.Options{Migrate: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	first, second := openStore(), openStore()
	svc := provisioning.New(first, provisioning.NewRBAC(provisioning.DefaultPolicy()))
	other := apikey.New(second, apikey.Options{}) // the default cache
	k := issue(t, svc, "partner-a", provisioning.APIKeyInput{Name: "crm", Permissions: []provisioning.Permission{provisioning.PermTenantRead}})
	if _, err := other.Authenticate(ctx, k.Key); err != nil {
		t.Fatalf("the other replica: %v", err)
	}
	if err := svc.RevokeAPIKey(ctx, ops, "partner-a", k.ID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(apikey.MaxCacheTTL + 10*time.Second)
	for {
		_, err := other.Authenticate(ctx, k.Key)
		if provisioning.ErrorCode(err) == provisioning.CodeUnauthenticated {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the other replica still accepts the revoked key")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Concurrent requests of a key record its use once, not once each.
func TestLastUseIsWrittenOnce(t *testing.T) {
	c := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	store := &countingStore{Store: memstore.New()}
	svc := provisioning.New(store, provisioning.NewRBAC(provisioning.Policy{}), provisioning.WithClock(c.now))
	k := issue(t, svc, "partner-a", provisioning.APIKeyInput{Name: "crm", Permissions: []provisioning.Permission{provisioning.PermTenantRead}})
	a := apikey.New(store, apikey.Options{Clock: c.now})
	if _, err := a.Authenticate(context.Background(), k.Key); err != nil { // fills the cache
		t.Fatal(err)
	}
	before := store.writes()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := a.Authenticate(context.Background(), k.Key); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := store.writes() - before; n != 0 {
		t.Fatalf("%d writes within the minute of the first use", n)
	}
	c.add(time.Minute + time.Millisecond)
	for range 20 {
		wg.Go(func() {
			if _, err := a.Authenticate(context.Background(), k.Key); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := store.writes() - before; n != 1 {
		t.Fatalf("%d writes for 20 uses a minute later, want 1", n)
	}
}

// countingStore counts Writes.
type countingStore struct {
	provisioning.Store
	mu sync.Mutex
	n  int
}

func (s *countingStore) Write(ctx context.Context, fn func(provisioning.Tx) error) error {
	s.mu.Lock()
	s.n++
	s.mu.Unlock()
	return s.Store.Write(ctx, fn)
}

func (s *countingStore) writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// otherKey returns a well-formed key that differs from key in its last character.
func otherKey(key string) string {
	last := "A"
	if strings.HasSuffix(key, last) {
		last = "B"
	}
	return key[:len(key)-1] + last
}

// AuthenticateCached accepts only a key the cache holds, live and unexpired, with the
// Principal Authenticate gives; it looks nothing up.
func TestAuthenticateCached(t *testing.T) {
	c := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	store := &countingStore{Store: memstore.New()}
	svc := provisioning.New(store, provisioning.NewRBAC(provisioning.Policy{}), provisioning.WithClock(c.now))
	k := issue(t, svc, "partner-a", provisioning.APIKeyInput{Name: "crm", Permissions: []provisioning.Permission{provisioning.PermTenantRead},
		ExpiresAt: c.now().Add(time.Second)})
	a := apikey.New(store, apikey.Options{Clock: c.now})
	ctx := context.Background()
	if _, ok := a.AuthenticateCached(ctx, k.Key); ok {
		t.Fatal("a key never looked up is accepted")
	}
	want, err := a.Authenticate(ctx, k.Key)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := a.AuthenticateCached(ctx, k.Key); !ok || got.Subject != want.Subject || got.PartnerID != want.PartnerID {
		t.Fatalf("a cached key: %+v, %v", got, ok)
	}
	for _, bad := range []string{"pk_short", otherKey(k.Key), "eyJhbGciOiJub25lIn0.e30."} {
		if _, ok := a.AuthenticateCached(ctx, bad); ok {
			t.Fatalf("%q is accepted", bad)
		}
	}
	c.add(time.Second)
	if _, ok := a.AuthenticateCached(ctx, k.Key); ok {
		t.Fatal("an expired key is accepted")
	}
}
