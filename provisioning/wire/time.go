package wire

import (
	"fmt"
	"time"
)

// TimeFormat is the format of every timestamp the API writes: UTC RFC 3339 with milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// Time is a timestamp as the API writes it (TimeFormat) and reads it (any RFC 3339 time).
type Time time.Time

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format(TimeFormat) + `"`), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("wire: a time must be an RFC 3339 string, not %s", b)
	}
	v, err := time.Parse(time.RFC3339Nano, string(b[1:len(b)-1]))
	if err != nil {
		return fmt.Errorf("wire: %w", err)
	}
	*t = Time(v.UTC())
	return nil
}

// timePtr returns the wire form of t, or nil for the zero time.
func timePtr(t time.Time) *Time {
	if t.IsZero() {
		return nil
	}
	w := Time(t)
	return &w
}

// fromTimePtr returns the time of t, or the zero time for nil.
func fromTimePtr(t *Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return time.Time(*t)
}
