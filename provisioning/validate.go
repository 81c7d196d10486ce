package provisioning

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	validation "github.com/go-ozzo/ozzo-validation/v4"
	"github.com/go-ozzo/ozzo-validation/v4/is"
)

// Limits of the tenant fields.
const (
	MaxCompanyName   = 255
	MaxEmail         = 254
	MaxIndustry      = 100
	MaxExternalID    = 255
	MaxMetadataKeys  = 50
	MaxMetadataKey   = 40
	MaxMetadataValue = 500
)

// MaxMetadataFilters bounds the metadata[KEY]=VALUE filters of one listing.
const MaxMetadataFilters = 10

// The times a filter or cursor may name: what every store can hold, years 1 to 9999 (those
// RFC 3339 can write), to the millisecond.
var (
	MinFilterTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxFilterTime = time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC)
)

var (
	phoneRE         = regexp.MustCompile(`^\+[0-9]{7,15}$`)
	phoneSeparators = strings.NewReplacer(" ", "", "-", "")
)

// textProblem says what makes s unfit as a text field — invalid UTF-8, a control character
// (C0 or C1, NUL included, which PostgreSQL cannot store) or a bidirectional control character
// (Unicode Bidi_Control: U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069, which can make
// text display in another order than it is stored), a line or paragraph separator, or U+FFFD
// (a lone surrogate escape decodes to it) — or "" when it is fit.
func textProblem(s string) string {
	if printableASCII(s) { // the common case, and none of the problems below
		return ""
	}
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	for _, r := range s {
		switch {
		case unicode.IsControl(r), r == '\u2028', r == '\u2029':
			return "must not contain control characters"
		case r == utf8.RuneError: // what a decoder makes of bytes or escapes that were not text
			return "must not contain U+FFFD, the mark of text that was not valid Unicode"
		case unicode.Is(unicode.Bidi_Control, r):
			return "must not contain bidirectional control characters"
		}
	}
	return ""
}

// printableASCII reports whether s is made of printable ASCII (space to '~') only: no control
// character, nothing invalid, no bidirectional control and no default-ignorable code point,
// which all lie outside it.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// plainText is textProblem as a validation rule, for every text field and filter.
var plainText = validation.By(func(v any) error {
	s, _ := v.(string)
	if problem := textProblem(s); problem != "" {
		return errors.New(problem)
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

// visibleName rejects a company name whose uniqueness key is empty: one made only of
// invisible characters.
var visibleName = validation.By(func(v any) error {
	if s, _ := v.(string); NameKey(s) == "" {
		return errors.New("must contain a visible character")
	}
	return nil
})

var validStatus = validation.In(StatusActive, StatusSuspended).Error("must be one of active, suspended")

// filterStatus is the status filter of a listing, which may also ask for the tenants pending
// deletion (no change can set that status: only a deletion does).
var filterStatus = validation.In(StatusActive, StatusSuspended, StatusPendingDeletion).
	Error("must be one of active, suspended, pending_deletion")

// lower lower-cases valid UTF-8 and leaves anything else for the text rule to report, rather
// than turning its bad bytes into U+FFFD.
func lower(s string) string {
	if !utf8.ValidString(s) {
		return s
	}
	return strings.ToLower(s)
}

// The rules of the fields, built once: a rule builds its error message when it is made.
var (
	companyNameLength = validation.RuneLength(1, MaxCompanyName)
	emailLength       = validation.RuneLength(1, MaxEmail)
	industryLength    = validation.RuneLength(0, MaxIndustry)
	externalIDLength  = validation.RuneLength(0, MaxExternalID)
	filterNameLength  = validation.RuneLength(0, MaxCompanyName)
	filterEmailLength = validation.RuneLength(0, MaxEmail)
	phoneFormat       = validation.Match(phoneRE).Error("must be + followed by 7 to 15 digits (spaces and dashes allowed)")
)

// Normalize returns the canonical form of in — strings trimmed, email lower-cased, spaces and
// dashes stripped from the phone number, empty metadata as nil — and a CodeInvalid error naming
// every field that breaks a rule of the tenant resource. Every text must be valid UTF-8 without
// control or bidirectional control characters.
func (in TenantInput) Normalize() (TenantInput, error) {
	out := TenantInput{
		CompanyName: strings.TrimSpace(in.CompanyName),
		Email:       lower(strings.TrimSpace(in.Email)),
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
		"company_name": validation.Validate(out.CompanyName, validation.Required, companyNameLength, plainText, visibleName),
		"email":        validation.Validate(out.Email, validation.Required, emailLength, plainText, printable, is.EmailFormat),
		"phone_number": validation.Validate(out.PhoneNumber, phoneFormat),
		"industry":     validation.Validate(out.Industry, industryLength, plainText),
		"external_id":  validation.Validate(out.ExternalID, externalIDLength, plainText, printable),
		"status":       validation.Validate(out.Status, validStatus),
		"metadata":     validateMetadata(out.Metadata, MaxMetadataKeys),
	}
	return out, fieldErrors(errs)
}

// validateMetadata checks metadata, or metadata filters, against the rules of metadata: at most
// maxKeys pairs, keys of 1 to MaxMetadataKey characters without brackets, values of at most
// MaxMetadataValue characters, all of them plain text. It reports the first problem in key
// order.
func validateMetadata(m map[string]string, maxKeys int) error {
	if len(m) > maxKeys {
		return fmt.Errorf("must have at most %d keys", maxKeys)
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v, keyProblem, valueProblem := m[k], textProblem(k), textProblem(m[k])
		switch {
		case k == "" || utf8.RuneCountInString(k) > MaxMetadataKey:
			return fmt.Errorf("key %q must be 1 to %d characters", truncate(k), MaxMetadataKey)
		case strings.ContainsAny(k, "[]"):
			return fmt.Errorf("key %q must not contain brackets", truncate(k))
		case keyProblem != "":
			return fmt.Errorf("key %q %s", truncate(k), keyProblem)
		case strings.IndexFunc(k, func(r rune) bool { return !unicode.IsPrint(r) || unicode.Is(defaultIgnorable, r) }) >= 0:
			return fmt.Errorf("key %q must contain only visible characters", truncate(k))
		case utf8.RuneCountInString(v) > MaxMetadataValue:
			return fmt.Errorf("value of %q must be at most %d characters", k, MaxMetadataValue)
		case valueProblem != "":
			return fmt.Errorf("value of %q %s", k, valueProblem)
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

// normalize validates a filter and returns it with its defaults applied. Its texts obey the
// rules of the fields they compare with, so that every store gets values it can hold.
func (f TenantFilter) normalize() (TenantFilter, *PageKey, error) {
	out := f
	out.Email = lower(strings.TrimSpace(f.Email))
	// Stores keep creation times in whole milliseconds: round the bounds outwards to them, so
	// that every store compares alike.
	out.CreatedAfter = f.CreatedAfter.Truncate(time.Millisecond)
	if out.CreatedBefore = f.CreatedBefore.Truncate(time.Millisecond); out.CreatedBefore.Before(f.CreatedBefore) {
		out.CreatedBefore = out.CreatedBefore.Add(time.Millisecond)
	}
	if out.Limit == 0 {
		out.Limit = 50
	}
	var after *PageKey
	errs := validation.Errors{
		"limit":          validation.Validate(out.Limit, validation.Min(1), validation.Max(200)),
		"status":         validation.Validate(out.Status, filterStatus),
		"q":              validation.Validate(f.Query, filterNameLength, plainText),
		"email":          validation.Validate(out.Email, filterEmailLength, plainText),
		"external_id":    validation.Validate(f.ExternalID, externalIDLength, plainText, printable),
		"metadata":       validateMetadata(f.Metadata, MaxMetadataFilters),
		"created_after":  validateFilterTime(f.CreatedAfter),
		"created_before": validateFilterTime(f.CreatedBefore),
		"cursor": validation.Validate(f.Cursor, validation.By(func(any) error {
			var err error
			after, err = decodeCursor(f.Cursor)
			return err
		})),
	}
	return out, after, fieldErrors(errs)
}

// validateFilterTime checks that a time filter, when set, lies within what every store holds.
func validateFilterTime(t time.Time) error {
	if !t.IsZero() && (t.Before(MinFilterTime) || t.After(MaxFilterTime)) {
		return fmt.Errorf("must be a time from year 1 to year 9999")
	}
	return nil
}
