package provisioning

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// The Worker is the library's background work: what must happen after a request has been
// answered. A host that embeds the library runs one, as provisiond does; without it webhooks are
// queued but never sent.

// Worker runs the background work of a Store: it delivers queued webhook events through a
// DeliverySender, runs the tenants' provisioning steps, purges the deleted tenants whose grace
// has ended, and forgets expired idempotency records. Each kind of work is a job that the
// Worker runs in rounds, in its own loop: a round that may have left work due starts the next
// at once; otherwise the job waits its interval. Deliveries run in a pool instead, claimed as
// attempts end, fairly between partners: one partner's endpoints — slow, hanging or many —
// hold at most their share of the slots (see WorkerOptions).
//
// Several Workers — one per replica — may share a store: a delivery or a step is claimed in
// the store under a lease, so replicas never attempt one at the same time, and one claimed by a
// worker that died is claimed again when its lease ends; a tenant due for its purge is claimed
// by one replica's transaction, which purges it or, failing, leaves it to the next round;
// purging expired idempotency records that another replica purged is harmless.
//
// Start one with Run, in its own goroutine, and stop it by ending Run's context:
//
//	w := provisioning.NewWorker(store, provisioning.WorkerOptions{Sender: &webhook.Sender{}})
//	done := make(chan error, 1)
//	go func() { done <- w.Run(ctx) }()
//	…
//	cancel()
//	err := <-done // every goroutine the worker started has ended
type Worker struct {
	store     Store
	opts      WorkerOptions
	steps     map[string]Step // by name
	stepNames []string
	jobs      []job
	mu        sync.Mutex
	running   bool
}

// WorkerOptions configure a Worker. Zero values take the defaults.
type WorkerOptions struct {
	// Sender makes delivery attempts; provisioning/webhook.Sender sends them over HTTP. When it
	// is nil, deliveries stay queued (and Run logs that once).
	Sender DeliverySender
	// DeliveryInterval is how often the store is asked for due deliveries when the last round
	// found none waiting; default 1s.
	DeliveryInterval time.Duration
	// DeliveryConcurrency is how many delivery attempts the worker makes at once; default 10.
	// It claims due deliveries as attempts end, so a slow attempt holds its own slot only.
	DeliveryConcurrency int
	// DeliveryTimeout bounds each attempt; default 10s (the Sender may have a shorter bound of
	// its own: provisioning/webhook's default client gives up after 10s). Standard Webhooks
	// receivers are expected to answer quickly, so keep it short: while every slot is held by
	// attempts that hang, a due delivery waits up to this long for one.
	DeliveryTimeout time.Duration
	// DeliveryPerEndpoint is how many deliveries to one endpoint may be in flight at once,
	// counted across every worker that shares the store; default 1.
	DeliveryPerEndpoint int
	// DeliveryPerPartner is how many deliveries of one partner may be in flight at once,
	// counted across every worker that shares the store; default half of DeliveryConcurrency
	// (at least 1), so that one partner's endpoints — slow ones, or many — leave slots for the
	// others. Within these bounds every partner with due deliveries gets a slot before any
	// partner gets another (see ClaimDeliveriesParams).
	DeliveryPerPartner int
	// DeliveryLease is how long a claimed delivery is the worker's: should the worker die, it is
	// claimed again after that. It must exceed DeliveryTimeout, else NewWorker makes it twice
	// DeliveryTimeout; default 1m.
	DeliveryLease time.Duration
	// DeliveryBackoff is the wait after the nth failed attempt; default DeliveryBackoff.
	DeliveryBackoff func(attempt int) time.Duration
	// IdempotencyPurgeInterval is how often expired idempotency records are deleted; default 1h.
	IdempotencyPurgeInterval time.Duration
	// PurgeInterval is how often the store is asked for deleted tenants whose grace has ended
	// when the last round found none; default 1m. A tenant is purged within about this long
	// after its DeletionScheduledAt.
	PurgeInterval time.Duration
	// StopTimeout is how long the attempts under way when Run's context ends may go on, to
	// record their outcome, before their own context is canceled; default 10s. An attempt cut
	// short is made again when its lease ends.
	StopTimeout time.Duration
	// Clock is the worker's time; default time.Now.
	Clock func() time.Time
	// Logger receives a line per delivery attempt and per failed round; default: discarded.
	Logger *slog.Logger

	// Steps are the provisioning steps the worker runs: the Service's (Service.Steps). Without
	// them the tenants' steps stay queued. NewWorker panics on steps WithSteps would refuse.
	Steps []Step
	// StepInterval is how often the store is asked for due steps when the last round found
	// none waiting; default 1s.
	StepInterval time.Duration
	// StepConcurrency is how many steps are claimed and run at once; default 10.
	StepConcurrency int
	// StepTimeout bounds one attempt of a step: its context ends then, and the attempt has
	// failed; default 1m.
	StepTimeout time.Duration
	// StepLease is how long a claimed step is the worker's: should the worker die, the step is
	// run again after that. It is at least StepTimeout plus a second, so that no attempt
	// outlives its lease; default StepTimeout and half of it.
	StepLease time.Duration
	// StepBackoff is the wait after the nth failed attempt of a step; default StepBackoff.
	StepBackoff func(attempt int) time.Duration
	// StepMaxAttempts and StepMaxAge bound the retries of a step, whichever comes first: an
	// attempt that fails when it is the StepMaxAttempts-th since the step was queued, or when
	// the first of them was made StepMaxAge ago or more, fails the step — and with it the
	// tenant's provisioning, until a retry. Defaults 10 and 24h. The first attempt is always
	// made; a StepFailure that is Permanent fails the step at once.
	StepMaxAttempts int
	StepMaxAge      time.Duration

	// Observer hears of every attempt and of the queue's size, for metrics (see
	// provisioning/metrics); default none.
	Observer WorkerObserver
	// StatsInterval is how often the queue is measured for the Observer; default 15s.
	StatsInterval time.Duration
}

// NewWorker returns a Worker over store. It starts nothing: see Run.
func NewWorker(store Store, opts WorkerOptions) *Worker {
	opts.DeliveryInterval = orDefault(opts.DeliveryInterval, time.Second)
	opts.DeliveryConcurrency = orDefault(opts.DeliveryConcurrency, 10)
	opts.DeliveryTimeout = orDefault(opts.DeliveryTimeout, 10*time.Second)
	opts.DeliveryPerEndpoint = orDefault(opts.DeliveryPerEndpoint, 1)
	opts.DeliveryPerPartner = orDefault(opts.DeliveryPerPartner, max(opts.DeliveryConcurrency/2, 1))
	opts.DeliveryLease = orDefault(opts.DeliveryLease, time.Minute)
	if opts.DeliveryLease <= opts.DeliveryTimeout {
		opts.DeliveryLease = 2 * opts.DeliveryTimeout
	}
	opts.IdempotencyPurgeInterval = orDefault(opts.IdempotencyPurgeInterval, time.Hour)
	opts.PurgeInterval = orDefault(opts.PurgeInterval, time.Minute)
	opts.StopTimeout = orDefault(opts.StopTimeout, 10*time.Second)
	if opts.DeliveryBackoff == nil {
		opts.DeliveryBackoff = DeliveryBackoff
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	w := &Worker{store: store, opts: stepDefaults(opts)}
	w.steps, w.stepNames = map[string]Step{}, stepNames(opts.Steps)
	for _, st := range opts.Steps {
		w.steps[st.Name] = st
	}
	w.jobs = []job{w.deliveryJob(), w.tenantPurgeJob(), w.idempotencyPurgeJob(), w.stepJob(), w.statsJob()}
	return w
}

// stepDefaults fills in the defaults of the step options, and panics on invalid steps.
func stepDefaults(opts WorkerOptions) WorkerOptions {
	if err := checkSteps(opts.Steps); err != nil {
		panic(err)
	}
	opts.Steps = slices.Clone(opts.Steps)
	opts.StepInterval = orDefault(opts.StepInterval, time.Second)
	opts.StepConcurrency = orDefault(opts.StepConcurrency, 10)
	opts.StepTimeout = orDefault(opts.StepTimeout, time.Minute)
	opts.StepLease = orDefault(opts.StepLease, opts.StepTimeout+opts.StepTimeout/2)
	opts.StepLease = max(opts.StepLease, opts.StepTimeout+time.Second)
	opts.StepMaxAttempts = orDefault(opts.StepMaxAttempts, 10)
	opts.StepMaxAge = orDefault(opts.StepMaxAge, 24*time.Hour)
	opts.StatsInterval = orDefault(opts.StatsInterval, 15*time.Second)
	if opts.StepBackoff == nil {
		opts.StepBackoff = StepBackoff
	}
	return opts
}

// orDefault is v, or def when v is not positive.
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// job is one kind of background work. Adding a kind — durable provisioning steps, say — is
// adding a job to NewWorker: its round claims due items in the store under a lease (as
// deliveries do) or a lock (as purges do), so that replicas share them without doing one twice
// at once.
type job struct {
	name     string        // in logs
	interval time.Duration // the wait after a round that left no work due
	// round does one round of work and reports whether more may be due at once. Work it
	// starts must end before it returns; ctx ends StopTimeout after Run's context.
	round func(ctx context.Context) (more bool, err error)
	// serve, when set, is how Run runs the job instead of calling round in a loop: a job that
	// paces itself (the deliveries' pool, which claims as its attempts end). It starts work
	// until stop — Run's context — ends, runs that work with work, and returns once the work
	// has ended. RunOnce still calls round.
	serve func(stop, work context.Context)
}

// errRunning is Run's answer when the worker is already running.
var errRunning = errors.New("provisioning: the worker is already running")

// Run does the background work until ctx ends, then waits for the work under way to finish —
// for up to StopTimeout, after which it is canceled — and returns nil: when Run returns, every
// goroutine it started has ended. It fails at once if the worker is already running. A round
// that fails is logged and tried again after the job's interval; Run never gives up on its own.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.begin(); err != nil {
		return err
	}
	defer w.end()
	if w.opts.Sender == nil {
		w.opts.Logger.Warn("webhook deliveries stay queued: the worker has no DeliverySender")
	}
	work, release := afterGrace(ctx, w.opts.StopTimeout)
	defer release()
	var wg sync.WaitGroup
	for _, j := range w.jobs {
		wg.Go(func() { w.loop(ctx, work, j) })
	}
	wg.Wait()
	return nil
}

// RunOnce does one round of every job, and more rounds of a job while it reports more work due,
// then returns the rounds' errors. It is for hosts that drive the work from their own scheduler,
// and for tests. It fails at once if the worker is already running.
func (w *Worker) RunOnce(ctx context.Context) error {
	if err := w.begin(); err != nil {
		return err
	}
	defer w.end()
	var errs []error
	for _, j := range w.jobs {
		for {
			more, err := j.round(ctx)
			if err != nil {
				errs = append(errs, err)
			}
			if !more || err != nil || ctx.Err() != nil {
				break
			}
		}
	}
	return errors.Join(errs...)
}

func (w *Worker) begin() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.running {
		return errRunning
	}
	w.running = true
	return nil
}

func (w *Worker) end() {
	w.mu.Lock()
	w.running = false
	w.mu.Unlock()
}

// loop runs a job's rounds — or its serve — while ctx lasts; the work itself runs with work.
func (w *Worker) loop(ctx, work context.Context, j job) {
	if j.serve != nil {
		j.serve(ctx, work)
		return
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		more, err := j.round(work)
		if err != nil && ctx.Err() == nil {
			w.opts.Logger.Warn("background work failed", "job", j.name, "error", err.Error())
		}
		if more && err == nil {
			timer.Reset(0)
		} else {
			timer.Reset(j.interval)
		}
	}
}

// afterGrace returns a context that ends grace after parent ends, or when release is called,
// and release, which also waits for the goroutine that counts the grace to end.
func afterGrace(parent context.Context, grace time.Duration) (ctx context.Context, release func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	ended := make(chan struct{})
	stop := context.AfterFunc(parent, func() {
		defer close(ended)
		timer := time.NewTimer(grace)
		defer timer.Stop()
		select {
		case <-timer.C:
			cancel()
		case <-ctx.Done():
		}
	})
	return ctx, func() {
		cancel()
		if !stop() { // the grace had begun
			<-ended
		}
	}
}

// idempotencyPurgeJob deletes expired idempotency records. Every replica may run it: deleting
// what another already deleted is harmless.
func (w *Worker) idempotencyPurgeJob() job {
	return job{name: "idempotency purge", interval: w.opts.IdempotencyPurgeInterval,
		round: func(ctx context.Context) (bool, error) {
			var n int64
			err := w.store.Write(ctx, func(tx Tx) (err error) {
				n, err = tx.PurgeIdempotencyKeys(ctx, w.opts.Clock().UTC())
				return err
			})
			if n > 0 {
				w.opts.Logger.Info("purged expired idempotency records", "count", n)
			}
			return false, err
		}}
}
