package provisionertest_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/httpapi"
	"github.com/provisiond/provisiond/provisioning/provisionertest"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
)

func newService() *provisioning.Service {
	return provisioning.New(memstore.New(), provisioning.NewRBAC(provisioning.Policy{}))
}

// The in-process Service.
func TestService(t *testing.T) {
	provisionertest.Run(t, func(t *testing.T) provisionertest.Harness {
		svc := newService()
		return provisionertest.Harness{As: func(provisioning.Principal) provisioning.Provisioner { return svc },
			Platform: func(provisioning.Principal) provisioning.Platform { return svc }}
	})
}

// The client, talking to a real server: httpapi over a Service, through net/http.
func TestHTTPClient(t *testing.T) {
	provisionertest.Run(t, func(t *testing.T) provisionertest.Harness {
		tokens := &tokens{byToken: map[string]provisioning.Principal{}}
		svc := newService()
		srv := httptest.NewServer(httpapi.New(svc, tokens, httpapi.WithIdempotency(svc), httpapi.WithPlatform(svc)))
		t.Cleanup(srv.Close)
		client := func(p provisioning.Principal) *httpapi.Client {
			return httpapi.NewClient(srv.URL, httpapi.WithToken(tokens.issue(p)), httpapi.WithHTTPClient(srv.Client()))
		}
		return provisionertest.Harness{
			As:       func(p provisioning.Principal) provisioning.Provisioner { return client(p) },
			Platform: func(p provisioning.Principal) provisioning.Platform { return client(p) },
		}
	})
}

// tokens is an httpapi.Authenticator that knows the tokens it issued.
type tokens struct {
	mu      sync.Mutex
	byToken map[string]provisioning.Principal
}

func (a *tokens) issue(p provisioning.Principal) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	token := fmt.Sprintf("token-%d", len(a.byToken))
	a.byToken[token] = p
	return token
}

func (a *tokens) Authenticate(_ context.Context, token string) (provisioning.Principal, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, ok := a.byToken[token]
	if !ok {
		return p, provisioning.Errorf(provisioning.CodeUnauthenticated, "unknown token")
	}
	return p, nil
}
