package apikey

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

// anyKey is a Store in which every hash is a key of its own.
type anyKey struct{ provisioning.Store }

func (anyKey) Read(_ context.Context, fn func(provisioning.Tx) error) error { return fn(anyKeyTx{}) }

type anyKeyTx struct{ provisioning.Tx }

func (anyKeyTx) FindAPIKey(_ context.Context, p provisioning.FindAPIKeyParams) (*provisioning.APIKey, error) {
	return &provisioning.APIKey{ID: fmt.Sprintf("%x", p.Hash), PartnerID: "p", LastUsedAt: time.Now()}, nil
}

// The cache holds at most maxCached keys: one more makes room.
func TestCacheHoldsAtMostMaxCached(t *testing.T) {
	a := New(anyKey{}, Options{})
	now := time.Now()
	for i := range maxCached + 1 {
		if _, err := a.lookup(context.Background(), fmt.Sprintf("hash-%d", i), now); err != nil {
			t.Fatal(err)
		}
		if n := len(a.entries); n > maxCached {
			t.Fatalf("%d keys cached after %d lookups", n, i+1)
		}
	}
}
