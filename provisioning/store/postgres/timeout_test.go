package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/provisiond/provisiond/internal/pgtest"
	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/store/postgres"
)

// A statement that outlives Options.StatementTimeout ends in an error, and PostgreSQL stops
// running it: here one waiting for a lock that another store's transaction holds, which would
// otherwise wait for as long as that transaction lasts. The timeout needs no session state, so
// it holds through PgBouncer in transaction pooling mode as well as on PostgreSQL directly.
func TestStatementTimeout(t *testing.T) {
	t.Run("direct", func(t *testing.T) {
		url := pgtest.URL(t)
		testStatementTimeout(t, url, url)
	})
	t.Run("pgbouncer", func(t *testing.T) {
		db := pgtest.BouncerDB(t)
		testStatementTimeout(t, db.Bouncer, db.Direct)
	})
}

func testStatementTimeout(t *testing.T, url, direct string) {
	ctx := context.Background()
	holder := open(t, url)
	defer holder.Close()
	waiter, err := postgres.Open(ctx, url, postgres.Options{StatementTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer waiter.Close()
	// Registering a webhook takes the partner's limit lock until the transaction ends.
	register := func(ctx context.Context, tx provisioning.Tx) error {
		_, err := tx.InsertWebhook(ctx, &provisioning.InsertWebhookParams{Limit: 10, Webhook: &provisioning.Webhook{
			ID: uuid.NewString(), PartnerID: "p", URL: "https://hooks.example/" + uuid.NewString(),
			Secret: "whsec_c2VjcmV0", CreatedAt: time.Now()}})
		return err
	}

	// The holder's transaction registers a webhook and so holds the partner's limit lock; it
	// ends once the waiter's attempt to register one too has given up.
	held, gaveUp := make(chan struct{}), make(chan struct{})
	holderDone := make(chan error, 1)
	go func() {
		holderDone <- holder.Write(ctx, func(tx provisioning.Tx) error {
			if err := register(ctx, tx); err != nil {
				return err
			}
			close(held)
			select {
			case <-gaveUp:
			case <-time.After(time.Minute): // the timeout did not work: let the test end
			}
			return nil
		})
	}()
	<-held
	err = waiter.Write(ctx, func(tx provisioning.Tx) error { return register(ctx, tx) })
	if err == nil || !strings.Contains(err.Error(), "statement timeout") {
		close(gaveUp)
		t.Fatalf("registration behind a held lock: %v, want a statement timeout", err)
	}

	// PostgreSQL stopped the statement: while the lock is still held, no backend waits for it.
	db, err := sqlx.Open("postgres", direct)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var waiting int
		if err := db.Get(&waiting, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`); err != nil {
			t.Fatal(err)
		}
		if waiting == 0 {
			break
		}
		if time.Now().After(deadline) {
			close(gaveUp)
			t.Fatal("the timed-out statement still waits in PostgreSQL")
		}
	}
	close(gaveUp)
	if err := <-holderDone; err != nil {
		t.Fatal(err)
	}

	// The waiter's webhook was not registered, and the waiter works on.
	if err := waiter.Write(ctx, func(tx provisioning.Tx) error { return register(ctx, tx) }); err != nil {
		t.Fatalf("registration after the timeout: %v", err)
	}
	var hooks []*provisioning.Webhook
	if err := waiter.Read(ctx, func(tx provisioning.Tx) (err error) {
		hooks, err = tx.ListWebhooks(ctx, "p")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(hooks) != 2 {
		t.Fatalf("%d webhooks, want the holder's and the one after the timeout", len(hooks))
	}
}
