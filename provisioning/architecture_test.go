package provisioning_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The domain package imports no HTTP, SQL or JWT library, not even through its dependencies:
// adapters depend on it, never the other way round.
func TestDomainImportsNoAdapterLibrary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := []string{"net/http", "database/sql", "github.com/golang-jwt/", "github.com/MicahParks/",
		"github.com/lib/pq", "github.com/jmoiron/sqlx", "modernc.org/sqlite", "github.com/prometheus/",
		"github.com/provisiond/provisiond/provisioning/"}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			// database/sql/driver comes with google/uuid's Scanner support, not with SQL use.
			if strings.HasPrefix(dep, f) && dep != "database/sql/driver" {
				t.Errorf("provisioning depends on %s", dep)
			}
		}
	}
}
