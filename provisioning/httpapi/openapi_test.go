package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/provisiond/provisiond/provisioning/httpapi"
)

var (
	oapiOnce   sync.Once
	oapiRouter routers.Router
	oapiErr    error
)

// openAPIRouter loads the served OpenAPI document once, closes its response schemas
// (strictResponses) and validates it, its examples included.
func openAPIRouter(t *testing.T) routers.Router {
	t.Helper()
	oapiOnce.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromData(httpapi.OpenAPI())
		if err != nil {
			oapiErr = err
			return
		}
		strictResponses(doc)
		if oapiErr = doc.Validate(context.Background()); oapiErr != nil {
			return
		}
		oapiRouter, oapiErr = legacy.NewRouter(doc)
	})
	if oapiErr != nil {
		t.Fatalf("the OpenAPI document is invalid: %v", oapiErr)
	}
	return oapiRouter
}

// checkOpenAPI validates a response (status, headers, body) against the OpenAPI document's
// operation for the request. Every request the tests in this package send goes through it,
// so the document cannot drift from what the server does. Requests to paths or methods the
// document does not have (404 and 405 probes) have nothing to validate against.
func checkOpenAPI(t *testing.T, req *http.Request, reqBody string, resp response) {
	t.Helper()
	r := openAPIRouter(t)
	// The router matches the document's relative server URL against the path alone.
	probe := req.Clone(context.Background())
	probe.URL.Scheme, probe.URL.Host, probe.Host = "", "", ""
	route, params, err := r.FindRoute(probe)
	if err != nil {
		if resp.status != http.StatusNotFound && resp.status != http.StatusMethodNotAllowed && req.Method != http.MethodHead {
			t.Fatalf("%s %s answered %d but is not in the OpenAPI document", req.Method, req.URL.Path, resp.status)
		}
		return
	}
	probe.Body = io.NopCloser(strings.NewReader(reqBody))
	in := &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, ExcludeRequestBody: true}}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.status, Header: resp.header,
		Body: io.NopCloser(bytes.NewReader(resp.body)), Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Fatalf("%s %s → %d does not match the OpenAPI document: %v\nbody: %s", req.Method, req.URL, resp.status, err, resp.body)
	}
}

func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t)
	r := e.req(t, "GET", base+"/openapi.json", "", "")
	if r.status != 200 || r.header.Get("Content-Type") != "application/json" || !bytes.Equal(r.body, httpapi.OpenAPI()) {
		t.Fatalf("openapi.json: %d %s", r.status, r.header.Get("Content-Type"))
	}
	openAPIRouter(t)
}
