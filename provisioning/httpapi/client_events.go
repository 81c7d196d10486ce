package httpapi

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/wire"
)

// ListEvents implements provisioning.Provisioner (GET /events). The principal is ignored.
func (c *Client) ListEvents(ctx context.Context, _ provisioning.Principal, f provisioning.EventFilter) (*provisioning.EventPage, error) {
	q := url.Values{}
	if f.After != "" {
		q.Set("after", f.After)
	}
	if f.Type != "" {
		q.Set("type", string(f.Type))
	}
	if f.PartnerID != "" {
		q.Set("partner_id", f.PartnerID)
	}
	if f.Limit != 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var page wire.EventPage
	if err := c.do(ctx, request{method: http.MethodGet, path: "/events", query: q}, &page); err != nil {
		return nil, err
	}
	return page.Domain(), nil
}

// AllEvents lists the events that f selects, oldest first, from f.After (the oldest when
// empty) to the newest there is now, fetching page after page as the loop goes on. It yields a
// non-nil error once, as its last item, when a page cannot be fetched. To follow the feed,
// keep the last event's page cursor: ListEvents returns it as NextCursor.
func (c *Client) AllEvents(ctx context.Context, f provisioning.EventFilter) iter.Seq2[*provisioning.Event, error] {
	return func(yield func(*provisioning.Event, error) bool) {
		for {
			page, err := c.ListEvents(ctx, provisioning.Principal{}, f)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, e := range page.Events {
				if !yield(e, nil) {
					return
				}
			}
			if !page.HasMore {
				return
			}
			f.After = page.NextCursor
		}
	}
}
