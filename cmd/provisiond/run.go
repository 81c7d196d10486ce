package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/httpapi"
	"github.com/provisiond/provisiond/provisioning/jwtauth"
	"github.com/provisiond/provisiond/provisioning/webhook"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

// run is the whole program: main only wires the process's signals, arguments, environment and
// streams into it, and tests call it directly.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && (args[0] == "serve" || args[0] == "token" || args[0] == "migrate" || args[0] == "version") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "token":
		return runToken(args, getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, args, getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "provisiond", versionString())
		return nil
	}
	return serve(ctx, args, getenv, stdout, stderr)
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c config
	fs := newFlagSet("provisiond", stderr)
	serveFlags(fs, &c)
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))

	store, err := openStore(ctx, c.databaseURL, !c.noMigrate)
	if err != nil {
		return err
	}
	defer store.Close()

	policy := provisioning.DefaultPolicy()
	if c.policyFile != "" {
		if policy, err = readPolicy(c.policyFile); err != nil {
			return err
		}
	}

	authCfg := jwtauth.Config{JWKSURL: c.jwksURL, Issuer: c.issuer, Audience: c.audience,
		RolesClaim: c.rolesClaim, PartnerClaim: c.partnerClaim}
	if c.jwksFile != "" {
		if authCfg.JWKS, err = os.ReadFile(c.jwksFile); err != nil {
			return fmt.Errorf("reading --jwks-file: %w", err)
		}
	}
	var dev *jwtauth.Signer
	var devJWKS json.RawMessage
	if c.dev {
		if dev, err = loadDevSigner(devKeyPath(c.databaseURL)); err != nil {
			return err
		}
		if devJWKS, err = dev.JWKS(); err != nil {
			return err
		}
		if authCfg.JWKS == nil {
			authCfg.JWKS = devJWKS
		} else if authCfg.JWKS, err = mergeJWKS(authCfg.JWKS, devJWKS); err != nil {
			return err
		}
	}
	authCtx, stopAuth := context.WithCancel(context.Background())
	defer stopAuth()
	authn, err := jwtauth.New(authCtx, authCfg)
	if err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	prov := provisioning.New(store, provisioning.NewRBAC(policy),
		provisioning.WithWebhookURLCheck(webhook.CheckURL(c.allowPrivateWH, net.DefaultResolver)))
	opts := []httpapi.Option{httpapi.WithLogger(log), httpapi.WithMetrics(reg),
		httpapi.WithReadiness(store.Ping), httpapi.WithReadiness(authn.Ready)}
	if c.rateLimit > 0 {
		opts = append(opts, httpapi.WithRateLimit(c.rateLimit, int(2*c.rateLimit)))
	}
	api := httpapi.New(prov, authn, opts...)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	if c.dev {
		mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(devJWKS)
		})
	}
	mux.Handle("/", api)

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "provisiond %s listening on %s (store: %s)\n", versionString(), base, storeKind(c.databaseURL))
	if c.dev {
		if err := printDevBanner(stdout, dev, base, c); err != nil {
			return err
		}
	}

	go purgeIdempotencyKeys(ctx, prov, log)
	// Webhook deliveries go on until the server has stopped, then finish what they started.
	dispatchCtx, stopDispatch := context.WithCancel(context.Background())
	dispatched := make(chan struct{})
	go func() {
		defer close(dispatched)
		(&webhook.Dispatcher{Store: store, AllowPrivate: c.allowPrivateWH, Log: log}).Run(dispatchCtx)
	}()
	defer func() { stopDispatch(); <-dispatched }()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", c.shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// purgeIdempotencyKeys forgets expired idempotency records at start and every hour until ctx
// ends.
func purgeIdempotencyKeys(ctx context.Context, prov *provisioning.Service, log *slog.Logger) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		if n, err := prov.PurgeIdempotencyKeys(ctx); err != nil && ctx.Err() == nil {
			log.Warn("purging idempotency keys", "error", err.Error())
		} else if n > 0 {
			log.Info("purged expired idempotency keys", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// readPolicy reads an RBAC policy file.
func readPolicy(path string) (provisioning.Policy, error) {
	var p provisioning.Policy
	b, err := os.ReadFile(path)
	if err != nil {
		return p, fmt.Errorf("reading --policy-file: %w", err)
	}
	if err := json.Unmarshal(b, &p); err != nil || p.Roles == nil {
		return p, fmt.Errorf(`--policy-file must be JSON of the form {"roles":{"ROLE":["PERMISSION",…]}}`)
	}
	return p, nil
}

// mergeJWKS joins two JWK Sets.
func mergeJWKS(a, b json.RawMessage) (json.RawMessage, error) {
	var sa, sb struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(a, &sa); err != nil {
		return nil, fmt.Errorf("reading the JWK Set: %w", err)
	}
	if err := json.Unmarshal(b, &sb); err != nil {
		return nil, fmt.Errorf("reading the JWK Set: %w", err)
	}
	sa.Keys = append(sa.Keys, sb.Keys...)
	return json.Marshal(sa)
}
