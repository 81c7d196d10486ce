package wire

import (
	"encoding/json"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

// Config is a tenant's configuration document as GET /tenants/{id}/config shows it. (PUT takes
// the document itself as its body, PATCH a merge patch of it.)
type Config struct {
	Config    json.RawMessage `json:"config"` // a JSON object
	Version   int64           `json:"version"`
	UpdatedAt Time            `json:"updated_at"`
}

// FromConfig returns the wire form of c. The tenant id is in the URL, not in the body.
func FromConfig(c *provisioning.TenantConfig) Config {
	return Config{Config: cloneRaw(c.Config), Version: c.Version, UpdatedAt: Time(c.UpdatedAt)}
}

// Domain returns the configuration w describes, of the tenant tenantID.
func (w *Config) Domain(tenantID string) *provisioning.TenantConfig {
	return &provisioning.TenantConfig{TenantID: tenantID, Config: cloneRaw(w.Config), Version: w.Version,
		UpdatedAt: time.Time(w.UpdatedAt)}
}
