package httpapi

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
)

// The API reference (docs/api.md) covers what the server serves: every operation of the
// OpenAPI document, every error code with its status, every event type.
func TestAPIReferenceCoversTheAPI(t *testing.T) {
	b, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	ref := string(b)
	for path, item := range loadOpenAPI(t).Paths.Map() {
		for method := range item.Operations() {
			if op := fmt.Sprintf("`%s %s", method, strings.TrimPrefix(path, BasePath)); !strings.Contains(ref, op) {
				t.Errorf("docs/api.md does not name %s`", op)
			}
		}
	}
	for code, st := range statuses {
		if row := fmt.Sprintf("| `%s` | %d |", code, st.status); !strings.Contains(ref, row) {
			t.Errorf("docs/api.md's error table has no row %q", row)
		}
	}
	for _, et := range provisioning.EventTypes {
		if row := fmt.Sprintf("| `%s` |", et); !strings.Contains(ref, row) {
			t.Errorf("docs/api.md's event table has no row for %s", et)
		}
	}
}
