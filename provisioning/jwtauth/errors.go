package jwtauth

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/provisiond/provisiond/provisioning"
)

// unauthenticated turns golang-jwt's error into a CodeUnauthenticated error whose message
// names the cause without echoing the token. claims are those the parser read; they are
// trusted only once the signature has been verified, which is when claims errors arise.
func (a *Authenticator) unauthenticated(err error, claims map[string]any) error {
	msg := "the token is invalid"
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		msg = "the token is malformed"
	case errors.Is(err, jwt.ErrTokenUnverifiable), errors.Is(err, jwt.ErrTokenSignatureInvalid):
		msg = "the token's signature could not be verified"
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		msg = a.claimsProblem(claims, err)
	}
	return &provisioning.Error{Code: provisioning.CodeUnauthenticated, Message: msg, Err: err}
}

// claimsSentinels are golang-jwt's errors that name their claim and cause.
var claimsSentinels = []struct {
	err error
	msg string
}{
	{jwt.ErrTokenExpired, "the token has expired"},
	{jwt.ErrTokenNotValidYet, "the token is not valid yet (nbf)"},
	{jwt.ErrTokenUsedBeforeIssued, "the token is issued in the future (iat)"},
	{jwt.ErrTokenInvalidIssuer, "the token's issuer is not accepted"},
	{jwt.ErrTokenInvalidAudience, "the token's audience is not accepted"},
}

// claimsProblem explains why golang-jwt refused the claims: every cause, joined by "; ".
// Its ErrTokenRequiredClaimMissing and ErrInvalidType do not say which claim, so the claims it
// checks are examined here by the rules it applies: exp required, nbf and iat numbers when
// present, iss and aud required when configured.
func (a *Authenticator) claimsProblem(claims map[string]any, err error) string {
	problems := []string{
		numericDateProblem(claims, "exp", true),
		numericDateProblem(claims, "nbf", false),
		numericDateProblem(claims, "iat", false),
	}
	if a.cfg.Issuer != "" {
		problems = append(problems, issuerProblem(claims))
	}
	if a.cfg.Audience != "" {
		problems = append(problems, audienceProblem(claims))
	}
	for _, s := range claimsSentinels {
		if errors.Is(err, s.err) {
			problems = append(problems, s.msg)
		}
	}
	problems = slices.DeleteFunc(problems, func(s string) bool { return s == "" })
	if len(problems) == 0 {
		return "the token's claims are invalid"
	}
	return strings.Join(problems, "; ")
}

// numericDateProblem checks a time claim the way golang-jwt reads it: a JSON number, where 0
// counts as absent.
func numericDateProblem(claims map[string]any, name string, required bool) string {
	v, ok := claims[name]
	if !ok {
		if required {
			return fmt.Sprintf("the token has no %s claim", name)
		}
		return ""
	}
	f, ok := v.(float64)
	switch {
	case !ok:
		return fmt.Sprintf("the token's %s claim is not a number", name)
	case f == 0 && required:
		return fmt.Sprintf("the token's %s claim is 0", name)
	}
	return ""
}

func issuerProblem(claims map[string]any) string {
	v, ok := claims["iss"]
	if !ok {
		return "the token has no iss claim"
	}
	s, ok := v.(string)
	switch {
	case !ok:
		return "the token's iss claim is not a string"
	case s == "":
		return "the token's iss claim is empty"
	}
	return ""
}

// audienceProblem checks aud the way golang-jwt reads it: a string or an array of strings,
// where "", [] and [""] count as absent (and any other type too, which it does not report).
func audienceProblem(claims map[string]any) string {
	v, ok := claims["aud"]
	if !ok {
		return "the token has no aud claim"
	}
	const wrongType = "the token's aud claim is neither a string nor an array of strings"
	switch v := v.(type) {
	case string:
		if v == "" {
			return "the token's aud claim is empty"
		}
		return ""
	case []any:
		for _, e := range v {
			if _, ok := e.(string); !ok {
				return wrongType
			}
		}
		if len(v) == 0 || len(v) == 1 && v[0] == "" {
			return "the token's aud claim is empty"
		}
		return ""
	}
	return wrongType
}

// checkCrit refuses a token with a crit header (RFC 7515, section 4.1.11): it names extensions
// the recipient must understand to accept the token, and this server understands none.
func checkCrit(header map[string]any) error {
	v, ok := header["crit"]
	if !ok {
		return nil
	}
	msg := "the token's crit header is malformed"
	if list, ok := v.([]any); ok && len(list) > 0 && allStrings(list) {
		msg = "the token's crit header names extensions this server does not understand"
	}
	return provisioning.Errorf(provisioning.CodeUnauthenticated, "%s", msg)
}

func allStrings(list []any) bool {
	for _, e := range list {
		if s, ok := e.(string); !ok || s == "" {
			return false
		}
	}
	return true
}
