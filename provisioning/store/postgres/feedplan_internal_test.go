package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/provisiond/provisiond/internal/pgtest"
	"github.com/provisiond/provisiond/provisioning"
)

type allowEverything struct{}

func (allowEverything) Authorize(context.Context, provisioning.Principal, provisioning.Permission) error {
	return nil
}

// A partner's feed reads the partner's own index, never the index of the feed of every
// partner, even where another partner's events come first: the planner, taking partners'
// events to be evenly mixed, would otherwise read through all of the other partner's events
// before the first of this one's (73 ms a page at 335,000 events). The plans PostgreSQL makes
// for the store's own query are checked.
func TestPartnerFeedReadsItsOwnIndex(t *testing.T) {
	s, err := Open(context.Background(), pgtest.URL(t), Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	svc := provisioning.New(s, allowEverything{})
	ctx := context.Background()
	for _, w := range []struct {
		partner string
		batches int
	}{{"big", 4}, {"small", 1}} { // the big partner's events first
		for i := range w.batches {
			ins := make([]provisioning.TenantInput, provisioning.MaxBulk)
			for j := range ins {
				ins[j] = provisioning.TenantInput{CompanyName: fmt.Sprintf("T %d-%d", i, j), Email: "a@example.com"}
			}
			if _, err := svc.CreateTenants(ctx, provisioning.Principal{PartnerID: w.partner, Subject: "a"}, ins, true); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.DB().Exec("ANALYZE events"); err != nil {
		t.Fatal(err)
	}
	explain := func(q sqlx.QueryerContext) string {
		var plan []string
		if err := sqlx.SelectContext(ctx, q, &plan, sqlx.Rebind(sqlx.DOLLAR, "EXPLAIN "+dialect.FeedQuery(true)),
			"small", "0", 0, "", "", 51); err != nil {
			t.Fatal(err)
		}
		return strings.Join(plan, "\n")
	}
	if plan := explain(s.DB()); !strings.Contains(plan, "events_partner_feed") {
		t.Fatalf("a partner's feed is planned as\n%s\nwant a scan of events_partner_feed", plan)
	}
	// Whatever the statistics, the every-partner index is not a way to read it: without the
	// partner's index (dropped in a transaction rolled back), the plan still does not use it.
	tx, err := s.DB().BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, "DROP INDEX events_partner_feed"); err != nil {
		t.Fatal(err)
	}
	if plan := explain(tx); strings.Contains(plan, "events_all_feed") {
		t.Fatalf("without its own index a partner's feed is planned as\n%s\nwhich reads every partner's events", plan)
	}
}
