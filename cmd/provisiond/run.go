package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/httpapi"
	"github.com/provisiond/provisiond/provisioning/jwtauth"
	"github.com/provisiond/provisiond/provisioning/metrics"
	"github.com/provisiond/provisiond/provisioning/webhook"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

// run is the whole program: main only wires the process's signals, arguments, environment and
// streams into it, and tests call it directly.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, args, getenv, stdout, stderr)
	case "token":
		err = runToken(args, getenv, stdout, stderr)
	case "migrate":
		err = runMigrate(ctx, args, getenv, stdout, stderr)
	case "partners":
		err = describe(runPartners(ctx, args, getenv, stdout, stderr))
	case "api-keys":
		err = describe(runAPIKeys(ctx, args, getenv, stdout, stderr))
	case "version":
		_, err = fmt.Fprintln(stdout, "provisiond", versionString())
	case "help":
		return runHelp(ctx, args, getenv, stdout)
	default:
		return fmt.Errorf("unknown command %q (commands: %s)", cmd, commandList)
	}
	if errors.Is(err, flag.ErrHelp) {
		return nil // -h printed the usage: asking for help is not a failure
	}
	return err
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
	fs := newFlagSet("provisiond", commandsUsage, stderr)
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

	dev, err := loadDev(c)
	if err != nil {
		return err
	}
	authCtx, stopAuth := context.WithCancel(context.Background()) // ends the JWKS refresh
	defer stopAuth()
	authn, err := newAuthenticator(authCtx, c, dev)
	if err != nil {
		return err
	}
	steps, err := c.httpSteps()
	if err != nil {
		return err
	}
	prov := provisioning.New(store, provisioning.NewRBAC(policy),
		provisioning.WithWebhookURLCheck(webhook.CheckURL(c.allowPrivateWH, net.DefaultResolver)),
		provisioning.WithSteps(steps...), provisioning.WithDeletionGrace(c.deletionGrace))
	reg := prometheus.NewRegistry()
	handler := newHandler(c, prov, store, authn, dev, log, reg)

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
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
		if err := printDevBanner(stdout, dev.signer, base, c); err != nil {
			return err
		}
	}

	// The background work goes on until the server has stopped, then finishes what it started.
	if len(steps) > 0 {
		log.Info("provisioning steps", "steps", c.steps.String())
	}
	stopWorker := startWorker(store, c, log, prov.Steps(), metrics.NewWorkerObserver(reg, c.steps.names()...))
	defer stopWorker()
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

// newHandler is the server's whole HTTP surface: the API, /metrics, and the dev JWKS.
func newHandler(c config, prov *provisioning.Service, store provisioning.Store, authn *jwtauth.Authenticator,
	dev *devMode, log *slog.Logger, reg *prometheus.Registry) http.Handler {
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	opts := []httpapi.Option{httpapi.WithIdempotency(prov), httpapi.WithLogger(log), httpapi.WithMetrics(reg),
		httpapi.WithReadiness(store.Ping), httpapi.WithReadiness(authn.Ready),
		httpapi.WithRateLimit(c.rateLimit, twice(c.rateLimit)), httpapi.WithFailedAuthLimit(c.failedAuthLimit, twice(c.failedAuthLimit))}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	if dev != nil {
		mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(dev.jwks)
		})
	}
	opts = append(opts, httpapi.WithPlatform(prov))
	mux.Handle("/", httpapi.New(prov, chain(store, authn), opts...))
	return mux
}

// twice is the burst of a rate limit: twice the rate a second, rounded up.
func twice(perSecond float64) int { return int(math.Min(math.Ceil(2*perSecond), math.MaxInt32)) }

// startWorker runs the library's background work — webhook deliveries, provisioning steps, the
// purge of deleted tenants whose grace has ended and of expired idempotency records — and
// returns the function that stops it and waits for its end.
func startWorker(store provisioning.Store, c config, log *slog.Logger, steps []provisioning.Step, obs provisioning.WorkerObserver) (stop func()) {
	client := webhook.NewClient(c.allowPrivateWH)
	client.Timeout = c.webhookTimeout
	w := provisioning.NewWorker(store, provisioning.WorkerOptions{
		Sender: &webhook.Sender{Client: client}, DeliveryTimeout: c.webhookTimeout, Logger: log,
		Steps: steps, StepTimeout: c.stepTimeout, Observer: obs, PurgeInterval: purgeInterval(c.deletionGrace)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			log.Error("background work", "error", err.Error())
		}
	}
}

// purgeInterval is how often the Worker looks for deleted tenants due for their purge: a tenth
// of the grace, from a second to a minute, so that a short grace (in tests, say) is kept
// closely and a long one costs a query a minute.
func purgeInterval(grace time.Duration) time.Duration {
	return min(max(grace/10, time.Second), time.Minute)
}
