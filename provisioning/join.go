package provisioning

import "context"

// Inside Idempotently, every call to the Service joins the one transaction that also keeps
// the answer. The context carries it; read, write and appendEvent are the only ways the
// Service reaches its store.

type joinKey struct{}

// joinedTx is the transaction that calls of s with the context join.
type joinedTx struct {
	s       *Service
	tx      Tx
	events  []*Event // appended when the answer is kept, last, so that the ordering lock is short
	tenants []string // the tenants the calls named or created, whose data the answer may hold
	named   map[string]bool
}

// joined returns the transaction ctx joins for s, or nil.
func (s *Service) joined(ctx context.Context) *joinedTx {
	if j, ok := ctx.Value(joinKey{}).(*joinedTx); ok && j.s == s {
		return j
	}
	return nil
}

// read runs fn to read from the store, in the joined transaction if there is one.
func (s *Service) read(ctx context.Context, fn func(Tx) error) error {
	if j := s.joined(ctx); j != nil {
		return fn(j.tx)
	}
	return s.store.Read(ctx, fn)
}

// write runs fn as one change: its own transaction, or, in a joined one, a savepoint, so that
// a change that fails leaves the rest of the transaction as it was. (A change buffers its event
// last, once nothing of it can fail any more.)
func (s *Service) write(ctx context.Context, fn func(Tx) error) error {
	if j := s.joined(ctx); j != nil {
		return j.tx.Savepoint(ctx, func() error { return fn(j.tx) })
	}
	return s.store.Write(ctx, fn)
}

// appendEvent appends the event of a change made in tx: at once, or in a joined transaction
// after the kept answer, by flushEvents.
func (s *Service) appendEvent(ctx context.Context, tx Tx, e *Event) error {
	if j := s.joined(ctx); j != nil {
		j.events = append(j.events, e)
		return nil
	}
	return tx.AppendEvent(ctx, e)
}

// flushEvents appends the events buffered in a joined transaction.
func (j *joinedTx) flushEvents(ctx context.Context) error {
	for _, e := range j.events {
		if err := j.tx.AppendEvent(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// involve records, in a joined transaction, that the answer of the request may hold the
// tenants' data, so that the kept answer goes when one of them is purged. Every call that names
// or creates a tenant calls it, whatever its outcome.
func (s *Service) involve(ctx context.Context, ids ...string) {
	j := s.joined(ctx)
	if j == nil {
		return
	}
	for _, id := range ids {
		if !j.named[id] {
			if j.named == nil {
				j.named = map[string]bool{}
			}
			j.named[id] = true
			j.tenants = append(j.tenants, id)
		}
	}
}
