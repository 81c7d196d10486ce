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
	if problem, where := configValueProblem(m); problem != "" {
		return InvalidFields(map[string]string{"config": fmt.Sprintf(problem, pointer(where))})
	}
	return nil
}

// configValueProblem describes what is wrong with v, as a format with one %s for the place, and
// where: the path to it, innermost first. The path is built only for the problem reported, so
// checking a document costs time linear in its size.
func configValueProblem(v any) (problem string, where []string) {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if p := configTextProblem(k); p != "" {
				return "key at %s " + p, []string{k}
			}
			if p, w := configValueProblem(v[k]); p != "" {
				return p, append(w, k)
			}
		}
	case []any:
		for i, e := range v {
			if p, w := configValueProblem(e); p != "" {
				return p, append(w, strconv.Itoa(i))
			}
		}
	case string:
		if p := configTextProblem(v); p != "" {
			return "string at %s " + p, nil
		}
	case json.Number:
		if !storableNumber(string(v)) {
			return fmt.Sprintf("number at %%s must be a finite double-precision value written with an exponent of at most %d and at most %d decimal places",
				MaxConfigExponent, MaxConfigDecimals), nil
		}
	}
	return "", nil
}

// pointer turns a path, innermost first, into a JSON Pointer (RFC 6901).
func pointer(where []string) string {
	var b strings.Builder
	for i := len(where) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(pointerEscaper.Replace(where[i]))
	}
	return b.String()
}

// numberGrowth is how many bytes longer the numbers in v are when written out in plain decimal
// notation, as PostgreSQL's jsonb keeps and returns them (0e-1000 comes back as "0." and a
// thousand zeros), than in the canonical document. Counting it keeps the size limit of a
// configuration the same on every store.
func numberGrowth(v any) int {
	grow := 0
	switch v := v.(type) {
	case map[string]any:
		for _, e := range v {
			grow += numberGrowth(e)
		}
	case []any:
		for _, e := range v {
			grow += numberGrowth(e)
		}
	case json.Number:
		grow = max(0, plainLength(string(v))-len(v))
	}
	return grow
}

// plainLength is the length of a valid JSON number literal written without an exponent, its
// scale (digits after the point) kept.
func plainLength(lit string) int {
	n := 0
	if strings.HasPrefix(lit, "-") {
		n, lit = 1, lit[1:]
	}
	mantissa, exponent, _ := strings.Cut(strings.ToLower(lit), "e")
	e, _ := strconv.Atoi(exponent) // storableNumber has bounded it
	whole, fraction, _ := strings.Cut(mantissa, ".")
	wholeDigits := max(1, len(strings.TrimLeft(whole, "0"))+e)
	if strings.TrimLeft(whole, "0") == "" { // 0.00123e2: the whole part comes from the fraction
		wholeDigits = max(1, e-(len(fraction)-len(strings.TrimLeft(fraction, "0"))))
	}
	n += wholeDigits
	if scale := len(fraction) - e; scale > 0 {
		n += 1 + scale
	}
	return n
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
