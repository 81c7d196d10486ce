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

func newService(steps ...provisioning.Step) (*provisioning.Service, func() error) {
	store := memstore.New()
	svc := provisioning.New(store, provisioning.NewRBAC(provisioning.Policy{}), provisioning.WithSteps(steps...))
	w := provisioning.NewWorker(store, provisioning.WorkerOptions{Steps: svc.Steps()})
	return svc, func() error { return w.RunOnce(context.Background()) }
}

// The in-process Service.
func TestService(t *testing.T) {
	provisionertest.Run(t, func(t *testing.T) provisionertest.Harness {
		svc, _ := newService()
		return provisionertest.Harness{As: func(provisioning.Principal) provisioning.Provisioner { return svc },
			Platform: func(provisioning.Principal) provisioning.Platform { return svc },
			Steps: func(t *testing.T, steps []provisioning.Step) provisionertest.StepsHarness {
				svc, work := newService(steps...)
				return provisionertest.StepsHarness{As: func(provisioning.Principal) provisioning.Provisioner { return svc }, Work: work}
			}}
	})
}

// The client, talking to a real server: httpapi over a Service, through net/http.
func TestHTTPClient(t *testing.T) {
	provisionertest.Run(t, func(t *testing.T) provisionertest.Harness {
		serve := func(t *testing.T, svc *provisioning.Service) func(p provisioning.Principal) *httpapi.Client {
			tokens := &tokens{byToken: map[string]provisioning.Principal{}}
			srv := httptest.NewServer(httpapi.New(svc, tokens, httpapi.WithIdempotency(svc), httpapi.WithPlatform(svc)))
			t.Cleanup(srv.Close)
			return func(p provisioning.Principal) *httpapi.Client {
				return httpapi.NewClient(srv.URL, httpapi.WithToken(tokens.issue(p)), httpapi.WithHTTPClient(srv.Client()))
			}
		}
		svc, _ := newService()
		client := serve(t, svc)
		return provisionertest.Harness{
			As:       func(p provisioning.Principal) provisioning.Provisioner { return client(p) },
			Platform: func(p provisioning.Principal) provisioning.Platform { return client(p) },
			Steps: func(t *testing.T, steps []provisioning.Step) provisionertest.StepsHarness {
				svc, work := newService(steps...)
				client := serve(t, svc)
				return provisionertest.StepsHarness{As: func(p provisioning.Principal) provisioning.Provisioner { return client(p) }, Work: work}
			},
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
