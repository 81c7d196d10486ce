package provisioning

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The values of a configuration document: the partner chooses the document, but every store
// must hold it as it was given. PostgreSQL's jsonb refuses NUL in strings and numbers beyond
// its numeric type, and most JSON readers turn numbers into double-precision floats, so a
// configuration keeps to what all of them hold.

// Limits of the numbers in a configuration document. A number must also be a finite
// double-precision value: at most 1.7976931348623157e308 in magnitude, and not so small that
// a nonzero number rounds to zero (below about 4.9e-324).
const (
	// MaxConfigExponent bounds the exponent a number is written with (1e1000, 1e-1000).
	MaxConfigExponent = 1000
	// MaxConfigDecimals bounds the digits after the decimal point once the exponent is applied:
	// 1.25e-3 has 5 (0.00125).
	MaxConfigDecimals = 1000
)

// validateConfigValues checks every key and value of a decoded configuration document (or merge
// patch) and returns a CodeInvalid error naming the first offending place by its JSON Pointer.
func validateConfigValues(m map[string]any) error {
	if problem := configValueProblem(m, ""); problem != "" {
		return InvalidFields(map[string]string{"config": problem})
	}
	return nil
}

// configValueProblem describes what is wrong with v, found at the JSON Pointer path, or "".
func configValueProblem(v any, path string) string {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			at := path + "/" + pointerEscaper.Replace(k)
			if problem := configTextProblem(k); problem != "" {
				return fmt.Sprintf("key at %s %s", at, problem)
			}
			if problem := configValueProblem(v[k], at); problem != "" {
				return problem
			}
		}
	case []any:
		for i, e := range v {
			if problem := configValueProblem(e, path+"/"+strconv.Itoa(i)); problem != "" {
				return problem
			}
		}
	case string:
		if problem := configTextProblem(v); problem != "" {
			return fmt.Sprintf("string at %s %s", path, problem)
		}
	case json.Number:
		if !storableNumber(string(v)) {
			return fmt.Sprintf("number at %s must be a finite double-precision value written with an exponent of at most %d and at most %d decimal places",
				path, MaxConfigExponent, MaxConfigDecimals)
		}
	}
	return ""
}

// pointerEscaper escapes a key as a JSON Pointer (RFC 6901) reference token.
var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// configTextProblem is the rule of a configuration's strings and keys: valid UTF-8 without
// NUL. Other control characters are the partner's business (a PEM certificate has newlines).
func configTextProblem(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	case strings.ContainsRune(s, 0):
		return "must not contain NUL characters"
	}
	return ""
}

// storableNumber reports whether a JSON number literal keeps to the limits of configuration
// numbers.
func storableNumber(lit string) bool {
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return false
	}
	mantissa, exponent, hasExponent := strings.Cut(strings.ToLower(lit), "e")
	e := 0
	if hasExponent {
		if e, err = strconv.Atoi(exponent); err != nil || e < -MaxConfigExponent || e > MaxConfigExponent {
			return false
		}
	}
	_, fraction, _ := strings.Cut(mantissa, ".")
	if len(fraction)-e > MaxConfigDecimals {
		return false
	}
	// A nonzero mantissa that parses to 0 underflowed.
	return f != 0 || !strings.ContainsAny(mantissa, "123456789")
}
