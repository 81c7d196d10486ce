package provisioning

// The tenants of a kept answer. An answer Idempotently keeps may hold the data of the tenants
// its request named or created — in its body, or in an error naming one — so the record lists
// them (IdempotencyRecord.TenantIDs) and purging one of them deletes it. The Service that
// Idempotently hands to do records them as its calls run: every call that names or creates a
// tenant says so through involve, whatever its outcome, before it reaches the store.

// involvement collects the tenants the calls of one request named or created, in the order
// they were first named.
type involvement struct {
	ids   []string
	named map[string]bool
}

// add records ids that are not recorded yet.
func (v *involvement) add(ids ...string) {
	for _, id := range ids {
		if v.named[id] {
			continue
		}
		if v.named == nil {
			v.named = map[string]bool{}
		}
		v.named[id] = true
		v.ids = append(v.ids, id)
	}
}

// involve records that the answer of the request the engine runs for may hold the tenants'
// data. Only the engine of Idempotently records; any other ignores it.
func (s *engine) involve(ids ...string) {
	if s.involved != nil {
		s.involved.add(ids...)
	}
}
