package postgres_test

import (
	"testing"

	"github.com/provisiond/provisiond/internal/pgtest"
	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/store/storetest"
)

// A host's own database handle works through PgBouncer in transaction pooling mode too, once
// its URL has the driver's binary_parameters=yes, which Open adds to its own.
func TestConformanceOnHostDBThroughPgBouncer(t *testing.T) {
	urls := map[provisioning.Store]string{}
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) provisioning.Store {
			url := pgtest.BouncerURL(t) + "&binary_parameters=yes"
			s := openDB(t, url, true)
			urls[s] = url
			return s
		},
		HostTransactions: true,
		Reopen: func(t *testing.T, s provisioning.Store) provisioning.Store {
			return openDB(t, urls[s], false)
		},
	})
}
