package httpapi

import (
	_ "embed"
	"net/http"
	"strconv"
)

// openAPI is the OpenAPI 3 document of the API, the user-facing form of its contract. Tests
// validate real responses against it.
//
//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the OpenAPI 3 document served at BasePath + "/openapi.json".
func OpenAPI() []byte { return append([]byte(nil), openAPI...) }

func (s *server) openapi() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(openAPI)))
		_, _ = w.Write(openAPI)
	})
}
