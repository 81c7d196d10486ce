package provisioning

import "context"

// lazyTx is a write transaction of a store that begins when it is first used, and ends when
// end says how. Idempotently runs a request in one, so that the request's own work before it
// reaches the store — decoding, validation, resolving a webhook's host name — holds no
// transaction: on stores that run one write at a time (memory, SQLite) no other partner's write
// waits for it, and on PostgreSQL it holds no pooled connection.
//
// Store.Write takes a function, so the transaction lives in a goroutine of its own, whose
// function hands the Tx over and then waits to be told how to end.
type lazyTx struct {
	ctx   context.Context
	store Store
	first func(Tx) error // runs first in the transaction; its error ends it

	tx     Tx
	err    error      // why the transaction could not begin, or first's error
	finish chan error // what the transaction's function returns
	ended  chan error // what Write returned
}

// get returns the transaction, beginning it at the first call.
func (l *lazyTx) get() (Tx, error) {
	if l.tx != nil || l.err != nil {
		return l.tx, l.err
	}
	ready := make(chan Tx, 1)
	l.finish, l.ended = make(chan error, 1), make(chan error, 1)
	go func() {
		l.ended <- l.store.Write(l.ctx, func(tx Tx) error {
			ready <- tx
			return <-l.finish
		})
	}()
	select {
	case tx := <-ready:
		if err := l.first(tx); err != nil {
			l.finish <- err
			<-l.ended
			l.err = err
			return nil, err
		}
		l.tx = tx
	case err := <-l.ended: // Write failed before it ran the function
		if err == nil {
			err = Internal(nil)
		}
		l.err = err
	}
	return l.tx, l.err
}

// end commits the transaction when err is nil, else rolls it back, and returns what the
// commit returned (or why the transaction never began). A transaction never begun has nothing
// to end.
func (l *lazyTx) end(err error) error {
	if l.tx == nil {
		return l.err
	}
	l.finish <- err
	l.tx = nil
	return <-l.ended
}
