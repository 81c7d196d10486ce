package provisioning

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	validation "github.com/go-ozzo/ozzo-validation/v4"
	"github.com/go-ozzo/ozzo-validation/v4/is"
)

// Limits of the tenant fields (CONTRACT §3).
const (
	MaxCompanyName   = 255
	MaxEmail         = 254
	MaxIndustry      = 100
	MaxExternalID    = 255
	MaxMetadataKeys  = 50
	MaxMetadataKey   = 40
	MaxMetadataValue = 500
)

var (
	phoneRE         = regexp.MustCompile(`^\+[0-9]{7,15}$`)
	phoneSeparators = strings.NewReplacer(" ", "", "-", "")
)

// noControl rejects control characters (including NUL, which PostgreSQL cannot store).
var noControl = validation.By(func(v any) error {
	if s, _ := v.(string); strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return errors.New("must not contain control characters")
	}
	return nil
})

// printable rejects anything but printable characters (spaces included).
var printable = validation.By(func(v any) error {
	if s, _ := v.(string); strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return errors.New("must contain only printable characters")
	}
	return nil
})

var validStatus = validation.In(StatusActive, StatusSuspended).Error("must be one of active, suspended")

// Normalize returns the canonical form of in — strings trimmed, email lower-cased, spaces and
// dashes stripped from the phone number, empty metadata as nil — and a CodeInvalid error naming
// every field that breaks a rule of CONTRACT §3.
func (in TenantInput) Normalize() (TenantInput, error) {
	out := TenantInput{
		CompanyName: strings.TrimSpace(in.CompanyName),
		Email:       strings.ToLower(strings.TrimSpace(in.Email)),
		PhoneNumber: phoneSeparators.Replace(strings.TrimSpace(in.PhoneNumber)),
		Industry:    strings.TrimSpace(in.Industry),
		ExternalID:  strings.TrimSpace(in.ExternalID),
		Status:      in.Status,
		Metadata:    maps.Clone(in.Metadata),
	}
	if len(out.Metadata) == 0 {
		out.Metadata = nil
	}
	errs := validation.Errors{
		"company_name": validation.Validate(out.CompanyName,
			validation.Required, validation.RuneLength(1, MaxCompanyName), noControl),
		"email": validation.Validate(out.Email,
			validation.Required, validation.RuneLength(1, MaxEmail), is.EmailFormat),
		"phone_number": validation.Validate(out.PhoneNumber,
			validation.Match(phoneRE).Error("must be + followed by 7 to 15 digits (spaces and dashes allowed)")),
		"industry":    validation.Validate(out.Industry, validation.RuneLength(0, MaxIndustry), noControl),
		"external_id": validation.Validate(out.ExternalID, validation.RuneLength(0, MaxExternalID), printable),
		"status":      validation.Validate(out.Status, validStatus),
		"metadata":    validateMetadata(out.Metadata),
	}
	return out, fieldErrors(errs)
}

func validateMetadata(m map[string]string) error {
	if len(m) > MaxMetadataKeys {
		return fmt.Errorf("must have at most %d keys", MaxMetadataKeys)
	}
	for k, v := range m {
		switch {
		case k == "" || utf8.RuneCountInString(k) > MaxMetadataKey:
			return fmt.Errorf("key %q must be 1 to %d characters", truncate(k), MaxMetadataKey)
		case strings.ContainsAny(k, "[]") || strings.IndexFunc(k, unicode.IsControl) >= 0:
			return fmt.Errorf("key %q must not contain brackets or control characters", truncate(k))
		case utf8.RuneCountInString(v) > MaxMetadataValue:
			return fmt.Errorf("value of %q must be at most %d characters", k, MaxMetadataValue)
		case strings.ContainsRune(v, 0):
			return fmt.Errorf("value of %q must not contain NUL characters", k)
		}
	}
	return nil
}

func truncate(s string) string {
	if utf8.RuneCountInString(s) <= MaxMetadataKey {
		return s
	}
	return string([]rune(s)[:MaxMetadataKey]) + "…"
}

// fieldErrors turns ozzo-validation's errors into a CodeInvalid *Error, or nil.
func fieldErrors(errs validation.Errors) error {
	fields := map[string]string{}
	for name, err := range errs {
		if err != nil {
			fields[name] = err.Error()
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return InvalidFields(fields)
}

// normalize validates a filter and returns it with its defaults applied.
func (f TenantFilter) normalize() (TenantFilter, *PageKey, error) {
	out := f
	out.Email = strings.ToLower(strings.TrimSpace(f.Email))
	if out.Limit == 0 {
		out.Limit = 50
	}
	var after *PageKey
	errs := validation.Errors{
		"limit":  validation.Validate(out.Limit, validation.Min(1), validation.Max(200)),
		"status": validation.Validate(out.Status, validStatus),
		"cursor": validation.Validate(f.Cursor, validation.By(func(any) error {
			var err error
			after, err = decodeCursor(f.Cursor)
			return err
		})),
	}
	for k := range f.Metadata {
		if k == "" || utf8.RuneCountInString(k) > MaxMetadataKey {
			errs["metadata"] = fmt.Errorf("key must be 1 to %d characters", MaxMetadataKey)
		}
	}
	return out, after, fieldErrors(errs)
}
