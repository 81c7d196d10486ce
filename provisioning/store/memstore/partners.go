package memstore

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/provisiond/provisiond/provisioning"
)

// The partner registry and API keys. Write excludes every other writer, so the quota's count
// and the inserts that follow it in the transaction are one step without a lock of their own.

// allLive returns every partner's live tenants, oldest first, as byPartner holds each
// partner's.
func (x *tx) allLive() []*row {
	var all []*row
	for _, list := range x.s.byPartner {
		all = append(all, list...)
	}
	slices.SortFunc(all, func(a, b *row) int { return less(a.t, b.t) })
	return all
}

// TenantPartner implements provisioning.Tx.
func (x *tx) TenantPartner(_ context.Context, params provisioning.TenantPartnerParams) (string, error) {
	r := x.s.tenants[params.TenantID]
	if r == nil {
		return "", provisioning.Errorf(provisioning.CodeNotFound, "tenant not found")
	}
	return r.t.PartnerID, nil
}

// ReserveTenants implements provisioning.Tx.
func (x *tx) ReserveTenants(_ context.Context, params provisioning.ReserveTenantsParams) error {
	x.mustWrite()
	pt := x.s.partners[params.PartnerID]
	if pt == nil || pt.MaxTenants == nil {
		return nil
	}
	if len(x.s.byPartner[params.PartnerID])+params.Count > *pt.MaxTenants {
		return quotaExceeded(*pt.MaxTenants)
	}
	return nil
}

func quotaExceeded(limit int) error {
	return provisioning.Errorf(provisioning.CodeQuotaExceeded, "the partner may have at most %d live tenants", limit)
}

// InsertPartner implements provisioning.Tx.
func (x *tx) InsertPartner(_ context.Context, params provisioning.InsertPartnerParams) error {
	x.mustWrite()
	id := params.Partner.ID
	if _, dup := x.s.partners[id]; dup {
		return provisioning.Errorf(provisioning.CodePartnerExists, "the partner %s is registered already", id)
	}
	x.s.partners[id] = params.Partner.Clone()
	x.undo = append(x.undo, func() { delete(x.s.partners, id) })
	return nil
}

// GetPartner implements provisioning.Tx; Write already excludes other writers.
func (x *tx) GetPartner(_ context.Context, params provisioning.GetPartnerParams) (*provisioning.Partner, error) {
	pt, ok := x.s.partners[params.ID]
	if !ok {
		return nil, provisioning.Errorf(provisioning.CodeNotFound, "partner not registered")
	}
	return pt.Clone(), nil
}

// ListPartners implements provisioning.Tx.
func (x *tx) ListPartners(_ context.Context, params provisioning.ListPartnersParams) ([]*provisioning.Partner, error) {
	var out []*provisioning.Partner
	for id, pt := range x.s.partners {
		if id > params.AfterID {
			out = append(out, pt.Clone())
		}
	}
	slices.SortFunc(out, func(a, b *provisioning.Partner) int { return strings.Compare(a.ID, b.ID) })
	return out[:min(params.Limit, len(out))], nil
}

// UpdatePartner implements provisioning.Tx.
func (x *tx) UpdatePartner(_ context.Context, params provisioning.UpdatePartnerParams) error {
	x.mustWrite()
	pt := params.Partner
	old, ok := x.s.partners[pt.ID]
	if !ok {
		return provisioning.Errorf(provisioning.CodeNotFound, "partner not registered")
	}
	next := old.Clone()
	next.Name, next.MaxTenants, next.Status, next.UpdatedAt = pt.Name, pt.Clone().MaxTenants, pt.Status, pt.UpdatedAt
	x.s.partners[pt.ID] = next
	x.undo = append(x.undo, func() { x.s.partners[pt.ID] = old })
	return nil
}

// InsertAPIKey implements provisioning.Tx.
func (x *tx) InsertAPIKey(ctx context.Context, params provisioning.InsertAPIKeyParams) (bool, error) {
	x.mustWrite()
	if have, _ := x.ListAPIKeys(ctx, provisioning.ListAPIKeysParams{PartnerID: params.Key.PartnerID}); len(have) >= params.Limit {
		return false, nil
	}
	k := params.Key.Clone()
	k.Key = ""
	r := &apiKeyRow{k: k, hash: string(params.Hash)}
	if _, dup := x.s.keyHashes[r.hash]; dup {
		return false, provisioning.Errorf(provisioning.CodeInternal, "duplicate API key hash")
	}
	x.s.keys[k.ID], x.s.keyHashes[r.hash] = r, r
	x.undo = append(x.undo, func() { delete(x.s.keys, k.ID); delete(x.s.keyHashes, r.hash) })
	return true, nil
}

// GetAPIKey implements provisioning.Tx.
func (x *tx) GetAPIKey(_ context.Context, params provisioning.GetAPIKeyParams) (*provisioning.APIKey, error) {
	r, ok := x.s.keys[params.ID]
	if !ok || r.k.PartnerID != params.PartnerID {
		return nil, provisioning.Errorf(provisioning.CodeNotFound, "API key not found")
	}
	return r.k.Clone(), nil
}

// ListAPIKeys implements provisioning.Tx.
func (x *tx) ListAPIKeys(_ context.Context, params provisioning.ListAPIKeysParams) ([]*provisioning.APIKey, error) {
	var out []*provisioning.APIKey
	for _, r := range x.s.keys {
		if r.k.PartnerID == params.PartnerID {
			out = append(out, r.k.Clone())
		}
	}
	slices.SortFunc(out, func(a, b *provisioning.APIKey) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// DeleteAPIKey implements provisioning.Tx.
func (x *tx) DeleteAPIKey(ctx context.Context, params provisioning.DeleteAPIKeyParams) error {
	x.mustWrite()
	if _, err := x.GetAPIKey(ctx, provisioning.GetAPIKeyParams(params)); err != nil {
		return err
	}
	r := x.s.keys[params.ID]
	delete(x.s.keys, params.ID)
	delete(x.s.keyHashes, r.hash)
	x.undo = append(x.undo, func() { x.s.keys[params.ID], x.s.keyHashes[r.hash] = r, r })
	return nil
}

// FindAPIKey implements provisioning.Tx.
func (x *tx) FindAPIKey(_ context.Context, params provisioning.FindAPIKeyParams) (*provisioning.APIKey, error) {
	r, ok := x.s.keyHashes[string(params.Hash)]
	if !ok {
		return nil, provisioning.Errorf(provisioning.CodeNotFound, "API key not found")
	}
	return r.k.Clone(), nil
}

// TouchAPIKey implements provisioning.Tx.
func (x *tx) TouchAPIKey(_ context.Context, params provisioning.TouchAPIKeyParams) error {
	x.mustWrite()
	r, ok := x.s.keys[params.ID]
	if !ok || !r.k.LastUsedAt.Before(params.NotBefore) {
		return nil
	}
	old := r.k
	r.k = old.Clone()
	r.k.LastUsedAt = params.At
	x.undo = append(x.undo, func() { r.k = old })
	return nil
}
