package memstore_test

import (
	"testing"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
	"github.com/provisiond/provisiond/provisioning/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New: func(*testing.T) provisioning.Store { return memstore.New() },
		RefuseTenant: func(_ *testing.T, s provisioning.Store, name string) provisioning.Store {
			return storetest.Refusing(s, name)
		},
	})
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(*testing.B) provisioning.Store { return memstore.New() })
}
