package wire

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

// AppendTenant appends to b the JSON of FromTenant(t), byte for byte as json.Marshal writes
// it, and returns the extended buffer. It is the GET /tenants/{id} answer's encoder: it writes
// the fields itself instead of building the wire form and reflecting over it, so that it
// costs no allocation beyond growing b (a string that needs escaping is handed to
// json.Marshal).
func AppendTenant(b []byte, t *provisioning.Tenant) []byte {
	b = append(b, `{"tenant":`...)
	b = appendString(b, t.ID)
	b = append(b, `,"company_name":`...)
	b = appendString(b, t.CompanyName)
	b = append(b, `,"email":`...)
	b = appendString(b, t.Email)
	b = append(b, `,"phone_number":`...)
	b = appendNullable(b, t.PhoneNumber)
	b = append(b, `,"industry":`...)
	b = appendNullable(b, t.Industry)
	b = append(b, `,"external_id":`...)
	b = appendNullable(b, t.ExternalID)
	b = append(b, `,"status":`...)
	b = appendString(b, string(t.Status))
	b = append(b, `,"metadata":`...)
	b = appendMetadata(b, t.Metadata)
	b = append(b, `,"partner_id":`...)
	b = appendString(b, t.PartnerID)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, t.Version, 10)
	b = append(b, `,"created_at":`...)
	b = appendTime(b, t.CreatedAt)
	b = append(b, `,"updated_at":`...)
	b = appendTime(b, t.UpdatedAt)
	b = append(b, `,"provisioning":{"state":`...)
	b = appendString(b, string(t.Provisioning.State))
	b = append(b, `,"steps":[`...)
	for i, s := range t.Provisioning.Steps {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = appendString(b, s.Name)
		b = append(b, `,"state":`...)
		b = appendString(b, string(s.State))
		b = append(b, `,"attempts":`...)
		b = strconv.AppendInt(b, int64(s.Attempts), 10)
		b = append(b, `,"last_error":`...)
		b = appendNullable(b, s.LastError)
		b = append(b, `,"completed_at":`...)
		b = appendNullableTime(b, s.CompletedAt)
		b = append(b, '}')
	}
	b = append(b, `]},"deletion_scheduled_at":`...)
	b = appendNullableTime(b, t.DeletionScheduledAt)
	return append(b, '}')
}

// appendString appends s as a JSON string. A string of printable ASCII that encoding/json
// writes as it is (no '"', '\\', or '<', '>', '&', which it escapes for HTML) is copied;
// any other is left to json.Marshal, so that the escaping is always encoding/json's own.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			enc, _ := json.Marshal(s) // a string always encodes
			return append(b, enc...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendNullable appends s as a JSON string, or null for "" (as nullable makes it).
func appendNullable(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendString(b, s)
}

// appendTime appends t as Time.MarshalJSON writes it. A year of four digits is written digit
// by digit (AppendFormat reads its layout anew on every call); any other is AppendFormat's.
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		b = append(b, '"')
		b = t.AppendFormat(b, TimeFormat)
		return append(b, '"')
	}
	hour, minute, sec := t.Clock()
	ms := t.Nanosecond() / 1e6 // truncated, as AppendFormat's .000 does
	return append(b, '"',
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-', byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z', '"')
}

// appendNullableTime appends t as appendTime does, or null for the zero time (as timePtr
// makes it).
func appendNullableTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, "null"...)
	}
	return appendTime(b, t)
}

// appendMetadata appends m as json.Marshal writes a map[string]string: null for nil, else an
// object with its keys in order.
func appendMetadata(b []byte, m map[string]string) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	var buf [16]string
	keys := buf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, m[k])
	}
	return append(b, '}')
}
