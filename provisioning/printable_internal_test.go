package provisioning

import (
	"testing"
	"unicode"
)

// printableASCII is a shortcut, never a different answer: no rune it lets through is one that
// textProblem's or Principal.check's slower tests refuse.
func TestPrintableASCIIHasNoProblem(t *testing.T) {
	for r := rune(0); r < 0x80; r++ {
		s := string(r)
		if !printableASCII(s) {
			continue
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || unicode.Is(defaultIgnorable, r) {
			t.Errorf("%q is printable ASCII but a problem", r)
		}
	}
	for _, s := range []string{"", "partner-1", "a b~"} {
		if !printableASCII(s) || textProblem(s) != "" {
			t.Errorf("%q: not printable ASCII, or a problem", s)
		}
	}
	for _, s := range []string{"a\x7f", "\x1fb", "é", "a\u200b"} {
		if printableASCII(s) {
			t.Errorf("%q taken for printable ASCII", s)
		}
	}
}
