package provisioning

// Field is one field of a TenantPatch, with three states: absent (Set false: leave the field
// alone), null (Set and Null: clear it) and a value (Set: replace it), as in a JSON Merge Patch
// (RFC 7396).
type Field[T any] struct {
	Set   bool
	Null  bool
	Value T
}

// Value returns a Field set to v.
func Value[T any](v T) Field[T] { return Field[T]{Set: true, Value: v} }

// Null returns a Field that clears its target.
func Null[T any]() Field[T] { return Field[T]{Set: true, Null: true} }

// TenantPatch is a JSON Merge Patch (RFC 7396) of a tenant's writable fields. Metadata merges
// key by key: a nil value removes the key, Null clears the whole map.
type TenantPatch struct {
	CompanyName Field[string]
	Email       Field[string]
	PhoneNumber Field[string]
	Industry    Field[string]
	ExternalID  Field[string]
	Status      Field[Status]
	Metadata    Field[map[string]*string]
}

// check reports the fields that a patch may not clear.
func (p TenantPatch) check() map[string]string {
	problems := map[string]string{}
	if p.CompanyName.Null {
		problems["company_name"] = "cannot be null"
	}
	if p.Email.Null {
		problems["email"] = "cannot be null"
	}
	if p.Status.Null {
		problems["status"] = "cannot be null"
	}
	return problems
}

// Apply returns in with the patch merged into it. It does not validate; in is not modified.
func (p TenantPatch) Apply(in TenantInput) TenantInput {
	out := in
	applyString(&out.CompanyName, p.CompanyName)
	applyString(&out.Email, p.Email)
	applyString(&out.PhoneNumber, p.PhoneNumber)
	applyString(&out.Industry, p.Industry)
	applyString(&out.ExternalID, p.ExternalID)
	if p.Status.Set && !p.Status.Null {
		out.Status = p.Status.Value
	}
	if p.Metadata.Set {
		merged := map[string]string{}
		if !p.Metadata.Null {
			for k, v := range in.Metadata {
				merged[k] = v
			}
			for k, v := range p.Metadata.Value {
				if v == nil {
					delete(merged, k)
				} else {
					merged[k] = *v
				}
			}
		}
		out.Metadata = merged
	}
	return out
}

func applyString(dst *string, f Field[string]) {
	if f.Set {
		*dst = f.Value // "" when Null
	}
}
