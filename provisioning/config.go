package provisioning

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// MaxConfigBytes bounds a tenant's configuration document, as stored (canonical JSON).
const MaxConfigBytes = 64 << 10

// MaxJSONDepth bounds the nesting of objects and arrays in a configuration document, the
// document's own object being level 1. The HTTP adapter holds every request body to the same
// bound.
const MaxJSONDepth = 32

// EventTenantConfigUpdated is the event of a change to a tenant's configuration.
const EventTenantConfigUpdated EventType = "tenant.config.updated"

// TenantConfig is a tenant's configuration document: a JSON object of the partner's choosing,
// versioned apart from the tenant.
type TenantConfig struct {
	TenantID  string
	Config    json.RawMessage // a JSON object, canonical (keys sorted, no insignificant space)
	Version   int64           // 1 when the tenant is created, +1 on every change
	UpdatedAt time.Time
}

// decodeConfigInput parses a configuration document or patch given by a caller: one JSON
// object nested at most MaxJSONDepth levels deep. The nesting is checked first, so a deep
// document costs no more than a scan of its bytes.
func decodeConfigInput(raw json.RawMessage) (map[string]any, error) {
	if JSONDepthExceeded(raw) >= 0 {
		return nil, fmt.Errorf("must be nested at most %d levels deep", MaxJSONDepth)
	}
	// Size before decoding: a document too large to keep costs no more than a scan of its bytes.
	if len(raw) > MaxConfigBytes {
		var compact bytes.Buffer
		if err := json.Compact(&compact, raw); err != nil {
			return nil, fmt.Errorf("must be a JSON object")
		}
		if compact.Len() > MaxConfigBytes {
			return nil, fmt.Errorf("must be at most %d bytes", MaxConfigBytes)
		}
	}
	return decodeConfigObject(raw)
}

// decodeConfigObject parses raw as one JSON object, keeping numbers exact.
func decodeConfigObject(raw json.RawMessage) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil || dec.More() {
		return nil, fmt.Errorf("must be a JSON object")
	}
	return m, nil
}

// JSONDepthExceeded returns the offset in the JSON text b of the first object or array that
// opens more than MaxJSONDepth levels deep, or -1 when none does. It does not validate b,
// allocates nothing and reads b once: a cheap first check of untrusted JSON, before anything
// decodes it.
func JSONDepthExceeded(b []byte) int {
	depth, inString, escaped := 0, false, false
	for i, c := range b {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			if depth++; depth > MaxJSONDepth {
				return i
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return -1
}

// canonicalConfig checks a configuration document and returns its canonical form.
func canonicalConfig(m map[string]any) (json.RawMessage, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, InvalidFields(map[string]string{"config": "must be a JSON object"})
	}
	if len(b)+numberGrowth(m) > MaxConfigBytes {
		return nil, InvalidFields(map[string]string{"config": fmt.Sprintf("must be at most %d bytes, numbers counted in plain decimal notation", MaxConfigBytes)})
	}
	return b, nil
}

// normalizeConfig turns the config given at create ("" or null: none) into its canonical form.
func normalizeConfig(raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return json.RawMessage("{}"), nil
	}
	m, err := decodeConfigInput(raw)
	if err != nil {
		return nil, InvalidFields(map[string]string{"config": err.Error()})
	}
	if err := validateConfigValues(m); err != nil {
		return nil, err
	}
	return canonicalConfig(m)
}

// MergePatch applies an RFC 7396 JSON Merge Patch to a decoded JSON value: objects merge key by
// key, null removes a key, anything else replaces. target is not modified.
func MergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	out := make(map[string]any, len(t)+len(p))
	if ok {
		for k, v := range t {
			out[k] = v
		}
	}
	for k, v := range p {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = MergePatch(out[k], v)
		}
	}
	return out
}

// GetTenantConfig returns a tenant's configuration (tenant:read). Returns CodeNotFound.
func (s *engine) GetTenantConfig(ctx context.Context, p Principal, id string) (*TenantConfig, error) {
	if err := s.authorize(ctx, p, PermTenantRead); err != nil {
		return nil, err
	}
	id, ok := canonicalID(id)
	if !ok {
		return nil, notFound()
	}
	s.involve(id)
	var c *TenantConfig
	err := s.read(ctx, func(tx Tx) error {
		partner, err := tenantScope(ctx, tx, p, id)
		if err != nil {
			return err
		}
		c, err = tx.GetTenantConfig(ctx, &GetTenantParams{PartnerID: partner, ID: id})
		return err
	})
	return c, err
}

// ReplaceTenantConfig replaces a tenant's configuration with a JSON object (tenant:update).
// Returns CodeNotFound, CodeInvalid, CodePrecondition (against the configuration's version),
// CodeTenantPendingDeletion.
func (s *engine) ReplaceTenantConfig(ctx context.Context, p Principal, id string, config json.RawMessage, pre Precondition) (*TenantConfig, error) {
	m, err := decodeConfigInput(config)
	if err != nil {
		return nil, InvalidFields(map[string]string{"config": err.Error()})
	}
	if err := validateConfigValues(m); err != nil {
		return nil, err
	}
	return s.changeConfig(ctx, p, id, pre, func(map[string]any) map[string]any { return m })
}

// UpdateTenantConfig applies a JSON Merge Patch (an object) to a tenant's configuration
// (tenant:update). Errors as ReplaceTenantConfig.
func (s *engine) UpdateTenantConfig(ctx context.Context, p Principal, id string, patch json.RawMessage, pre Precondition) (*TenantConfig, error) {
	m, err := decodeConfigInput(patch)
	if err != nil {
		return nil, InvalidFields(map[string]string{"config": err.Error()})
	}
	if err := validateConfigValues(m); err != nil {
		return nil, err
	}
	return s.changeConfig(ctx, p, id, pre, func(cur map[string]any) map[string]any {
		return MergePatch(cur, m).(map[string]any)
	})
}

// changeConfig is the read-modify-write of a configuration, with its event, in one transaction.
func (s *engine) changeConfig(ctx context.Context, p Principal, id string, pre Precondition, edit func(map[string]any) map[string]any) (*TenantConfig, error) {
	if err := s.authorize(ctx, p, PermTenantUpdate); err != nil {
		return nil, err
	}
	id, ok := canonicalID(id)
	if !ok {
		return nil, notFound()
	}
	s.involve(id)
	var c *TenantConfig
	err := s.write(ctx, func(tx Tx) error {
		partner, err := tenantScope(ctx, tx, p, id)
		if err != nil {
			return err
		}
		key := &GetTenantParams{PartnerID: partner, ID: id, ForUpdate: true}
		t, err := tx.GetTenant(ctx, key)
		if err != nil {
			return err
		}
		if t.Status == StatusPendingDeletion {
			return errPendingDeletion()
		}
		cur, err := tx.GetTenantConfig(ctx, key)
		if err != nil {
			return err
		}
		if pre.IfVersion != 0 && pre.IfVersion != cur.Version {
			return Errorf(CodePrecondition, "the configuration's current version is %d", cur.Version)
		}
		m, err := decodeConfigObject(cur.Config)
		if err != nil {
			return Internal(fmt.Errorf("stored config of %s: %w", id, err))
		}
		next, err := canonicalConfig(edit(m))
		if err != nil {
			return err
		}
		if bytes.Equal(next, cur.Config) {
			c = cur
			return nil // nothing changes: no new version, no event
		}
		c = &TenantConfig{TenantID: id, Config: next, Version: cur.Version + 1, UpdatedAt: s.timestamp()}
		if err := tx.UpdateTenantConfig(ctx, &UpdateTenantConfigParams{PartnerID: partner, Config: c, PrevVersion: cur.Version}); err != nil {
			return err
		}
		e := s.event(ctx, p, EventTenantConfigUpdated, t)
		e.CreatedAt = c.UpdatedAt
		return tx.AppendEvent(ctx, e)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}
