package provisioning

import (
	"time"

	"github.com/google/uuid"
)

// Option configures a Service built by New.
type Option func(*settings)

// WithClock sets the clock that stamps created_at and updated_at. Times are kept to the
// millisecond, in UTC.
func WithClock(now func() time.Time) Option { return func(s *settings) { s.now = now } }

// WithIDGenerator sets the generator of tenant ids. Ids must be UUIDs; the default makes
// time-ordered version 7 UUIDs.
func WithIDGenerator(newID func() string) Option { return func(s *settings) { s.newID = newID } }

func newUUIDv7() string {
	id, err := uuid.NewV7()
	if err != nil { // only when the system's random source fails
		return uuid.NewString()
	}
	return id.String()
}
