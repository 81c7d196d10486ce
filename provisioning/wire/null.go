package wire

// nullable returns nil for "", else a pointer to s: unset optional strings are JSON null.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// deref returns the string s points to, or "" for nil.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
