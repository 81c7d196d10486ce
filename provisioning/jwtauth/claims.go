package jwtauth

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/provisiond/provisiond/provisioning"
)

// Bounds on what a token may put into a Principal. A claim beyond them is refused (401), so a
// Principal from this package never carries more.
const (
	// MaxClaimBytes bounds the partner id, the subject, and each role and permission.
	MaxClaimBytes = 255
	// MaxRoles bounds the roles one token may carry.
	MaxRoles = 100
	// MaxPermissions bounds the permissions one token may carry, its permissions and scope
	// claims together.
	MaxPermissions = 100
)

// principal reads the Principal from verified claims. Every string it copies is non-empty,
// at most MaxClaimBytes long, valid UTF-8 and free of control and invisible format characters;
// a claim present with the wrong type or holding anything else is refused with a message
// naming it.
func (a *Authenticator) principal(claims map[string]any) (provisioning.Principal, error) {
	var p provisioning.Principal
	var err error
	if p.Subject, err = subject(claims); err != nil {
		return provisioning.Principal{}, err
	}
	if p.PartnerID, err = a.partner(claims, p.Subject); err != nil {
		return provisioning.Principal{}, err
	}
	if p.Roles, err = a.roles(claims); err != nil {
		return provisioning.Principal{}, err
	}
	if p.Permissions, err = a.permissions(claims); err != nil {
		return provisioning.Principal{}, err
	}
	p.Operator = a.cfg.OperatorRole != "" && slices.Contains(p.Roles, a.cfg.OperatorRole)
	return p, nil
}

// subject reads sub: absent is "", present it must be a clean string.
func subject(claims map[string]any) (string, error) {
	v, ok := claims["sub"]
	if !ok {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", claimError("sub", "is not a string")
	}
	if problem := valueProblem(s); problem != "" {
		return "", claimError("sub", problem)
	}
	return s, nil
}

// partner reads the partner claim, falling back to the subject only when the claim is absent:
// a partner claim of the wrong type must never make the caller act as another partner.
func (a *Authenticator) partner(claims map[string]any, sub string) (string, error) {
	name := a.cfg.PartnerClaim
	v, ok, err := lookup(claims, name)
	if err != nil {
		return "", err
	}
	if !ok {
		if sub == "" {
			return "", provisioning.Errorf(provisioning.CodeUnauthenticated,
				"the token names no partner: it has neither a %s nor a sub claim", name)
		}
		return sub, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", claimError(name, "is not a string")
	}
	if problem := valueProblem(s); problem != "" {
		return "", claimError(name, problem)
	}
	return s, nil
}

// roles reads the roles claim: an array of strings, or one role as a string. A string with
// spaces is refused rather than split, so a group named "not partner-admin" never grants
// partner-admin.
func (a *Authenticator) roles(claims map[string]any) ([]string, error) {
	name := a.cfg.RolesClaim
	v, ok, err := lookup(claims, name)
	if err != nil || !ok {
		return nil, err
	}
	switch v := v.(type) {
	case []any:
		return stringArray(name, v, MaxRoles)
	case string:
		if v == "" {
			return nil, nil
		}
		if problem := valueProblem(v); problem != "" {
			return nil, claimError(name, problem)
		}
		if strings.ContainsFunc(v, unicode.IsSpace) {
			return nil, claimError(name, "is a string with spaces (send several roles as an array)")
		}
		return []string{v}, nil
	}
	return nil, claimError(name, "is neither an array of strings nor a string")
}

// permissions reads the permissions claim (an array of strings) and the OAuth scope claim (a
// space-separated string), together at most MaxPermissions.
func (a *Authenticator) permissions(claims map[string]any) ([]provisioning.Permission, error) {
	granted, err := a.permissionsClaim(claims)
	if err != nil {
		return nil, err
	}
	scopes, err := a.scopeClaim(claims)
	if err != nil {
		return nil, err
	}
	if len(granted)+len(scopes) > MaxPermissions {
		return nil, provisioning.Errorf(provisioning.CodeUnauthenticated,
			"the token's %s and %s claims hold more than %d permissions",
			a.cfg.PermissionsClaim, a.cfg.ScopeClaim, MaxPermissions)
	}
	var out []provisioning.Permission
	for _, s := range slices.Concat(granted, scopes) {
		out = append(out, provisioning.Permission(s))
	}
	return out, nil
}

func (a *Authenticator) permissionsClaim(claims map[string]any) ([]string, error) {
	name := a.cfg.PermissionsClaim
	v, ok, err := lookup(claims, name)
	if err != nil || !ok {
		return nil, err
	}
	list, ok := v.([]any)
	if !ok {
		return nil, claimError(name, "is not an array of strings")
	}
	return stringArray(name, list, MaxPermissions)
}

func (a *Authenticator) scopeClaim(claims map[string]any) ([]string, error) {
	name := a.cfg.ScopeClaim
	v, ok, err := lookup(claims, name)
	if err != nil || !ok {
		return nil, err
	}
	s, ok := v.(string)
	if !ok {
		return nil, claimError(name, "is not a string")
	}
	// Checked whole first: splitting would drop the tabs and newlines between scopes.
	if problem := textProblem(s); problem != "" {
		return nil, claimError(name, problem)
	}
	scopes := strings.Fields(s)
	if len(scopes) > MaxPermissions {
		return nil, claimError(name, fmt.Sprintf("has more than %d scopes", MaxPermissions))
	}
	for _, sc := range scopes {
		if len(sc) > MaxClaimBytes {
			return nil, claimError(name, fmt.Sprintf("has a scope longer than %d bytes", MaxClaimBytes))
		}
	}
	return scopes, nil
}

// stringArray reads an array claim whose entries must all be clean strings, at most limit.
func stringArray(name string, list []any, limit int) ([]string, error) {
	if len(list) > limit {
		return nil, claimError(name, fmt.Sprintf("has more than %d entries", limit))
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, claimError(name, "has an entry that is not a string")
		}
		if problem := valueProblem(s); problem != "" {
			return nil, claimError(name, "has an entry that "+problem)
		}
		out = append(out, s)
	}
	return out, nil
}

// lookup finds the claim named by path: the top-level claim of exactly that name if there is
// one (so namespaced claims such as "https://example.com/roles" work), else the dot path
// (such as "realm_access.roles") into nested objects. ok is false when the claim is absent; an
// error says that a step of the path is present but not an object.
func lookup(claims map[string]any, path string) (v any, ok bool, err error) {
	if v, ok := claims[path]; ok {
		return v, true, nil
	}
	parts := strings.Split(path, ".")
	m := claims
	for i, part := range parts {
		if v, ok = m[part]; !ok {
			return nil, false, nil
		}
		if i == len(parts)-1 {
			break
		}
		if m, ok = v.(map[string]any); !ok {
			return nil, false, claimError(strings.Join(parts[:i+1], "."), "is not an object")
		}
	}
	return v, true, nil
}

// valueProblem says what makes s unfit to copy into a Principal, or "" when nothing does.
func valueProblem(s string) string {
	switch {
	case s == "":
		return "is empty"
	case len(s) > MaxClaimBytes:
		return fmt.Sprintf("is longer than %d bytes", MaxClaimBytes)
	}
	return textProblem(s)
}

// textProblem says which character of s is unfit for an identifier, or "" when none is:
// invalid UTF-8 (which JSON decoding turns into U+FFFD), NUL and the other C0 and C1 controls,
// DEL, the bidirectional controls and other invisible format characters (Unicode category
// Cf), and the line and paragraph separators.
func textProblem(s string) string {
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			return "holds invalid UTF-8 or U+FFFD"
		case r == 0:
			return "holds a NUL character"
		case unicode.IsControl(r):
			return "holds a control character"
		case unicode.Is(unicode.Bidi_Control, r):
			return "holds a bidirectional control character"
		case unicode.Is(unicode.Cf, r):
			return "holds an invisible format character"
		case r == '\u2028' || r == '\u2029':
			return "holds a line or paragraph separator"
		}
	}
	return ""
}

// claimError is the 401 for a claim that is present but unacceptable.
func claimError(name, problem string) error {
	return provisioning.Errorf(provisioning.CodeUnauthenticated, "the token's %s claim %s", name, problem)
}
