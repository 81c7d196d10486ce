package provisioning

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// The uniqueness key of company names. Two names that a person cannot tell apart must not
// name two tenants, so the key folds away what does not show or does not matter: compatibility
// forms (fullwidth letters, ligatures), case, composed versus decomposed accents, invisible
// characters and the shape of white space.

// NameKeyVersion identifies the rules of NameKey. A SQL store keeps it beside each stored key
// and recomputes, when it migrates, the keys written under an older version; raise it whenever
// NameKey changes what it returns.
const NameKeyVersion = 2

// NameKey is the form of a company name that uniqueness compares (its uniqueness key): NFKC
// case-folded, with every Unicode default-ignorable code point (zero-width space and joiners,
// word joiner, soft hyphen, BOM, variation selectors, bidirectional controls, …) removed, and
// white-space runs collapsed to one space and trimmed. So "Acme", "ACME ", "Ａｃｍｅ",
// "Ac\u00ADme" and "Acme\u200B" have one key, as do "Café" and "Cafe\u0301". Every Store
// enforces uniqueness on it, and the q filter of a listing matches against it.
//
// NameKey is idempotent: NameKey(NameKey(s)) == NameKey(s). Invalid UTF-8 is read as U+FFFD.
func NameKey(companyName string) string {
	if isASCII(companyName) {
		// ASCII is its own NFKC form, folds by lower-casing and holds no default-ignorable
		// code point: the rounds below would only lower-case it and tidy its white space.
		return strings.Join(strings.Fields(strings.ToLower(companyName)), " ")
	}
	return nameKeyUnicode(companyName)
}

// nameKeyUnicode is NameKey for any text.
func nameKeyUnicode(companyName string) string {
	key := nameKeyStep(companyName)
	// Removing an ignorable can bring a base letter and its accent together, and folding can
	// leave text that normalizes once more; a few rounds reach the fixed point.
	for range 4 {
		next := nameKeyStep(key)
		if next == key {
			break
		}
		key = next
	}
	return key
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// nameKeyStep is one round of NameKey.
func nameKeyStep(s string) string {
	s = strings.Map(dropIgnorable, s)
	s = norm.NFKC.String(foldCase(norm.NFKC.String(s)))
	s = strings.Map(dropIgnorable, s)
	return strings.Join(strings.Fields(s), " ")
}

// foldCase is Unicode full case folding (CaseFolding.txt, statuses C and F). x/text's Fold
// lower-cases Cherokee, whose folding is upper case (its lower-case letters came late, and
// folding is stable), so that the two cases swap on every fold; foldCase puts them right.
func foldCase(s string) string {
	return strings.Map(foldCherokee, cases.Fold().String(s))
}

// foldCherokee maps a lower-case Cherokee letter to the upper-case letter it folds to.
func foldCherokee(r rune) rune {
	switch {
	case r >= 0xAB70 && r <= 0xABBF: // CHEROKEE SMALL LETTER A .. MOV
		return r - 0xAB70 + 0x13A0
	case r >= 0x13F8 && r <= 0x13FD: // CHEROKEE SMALL LETTER YE .. MV
		return r - 8
	}
	return r
}

// dropIgnorable is a strings.Map function that removes default-ignorable code points.
func dropIgnorable(r rune) rune {
	if unicode.Is(defaultIgnorable, r) {
		return -1
	}
	return r
}

// defaultIgnorable is the Unicode property Default_Ignorable_Code_Point (DerivedCoreProperties,
// Unicode 15.0): code points that are not shown unless a renderer is told to show them. It is
// derived as Other_Default_Ignorable_Code_Point + Cf + Variation_Selector − White_Space −
// U+FFF9..FFFB − U+13430..1343F − Prepended_Concatenation_Mark; the tests check this table
// against that derivation from the standard library's tables.
var defaultIgnorable = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x00AD, Hi: 0x00AD, Stride: 1}, // soft hyphen
		{Lo: 0x034F, Hi: 0x034F, Stride: 1}, // combining grapheme joiner
		{Lo: 0x061C, Hi: 0x061C, Stride: 1}, // Arabic letter mark
		{Lo: 0x115F, Hi: 0x1160, Stride: 1}, // Hangul choseong and jungseong fillers
		{Lo: 0x17B4, Hi: 0x17B5, Stride: 1}, // Khmer inherent vowels
		{Lo: 0x180B, Hi: 0x180F, Stride: 1}, // Mongolian variation selectors and vowel separator
		{Lo: 0x200B, Hi: 0x200F, Stride: 1}, // zero-width space, non-joiner, joiner; LRM, RLM
		{Lo: 0x202A, Hi: 0x202E, Stride: 1}, // bidirectional embeddings and overrides
		{Lo: 0x2060, Hi: 0x206F, Stride: 1}, // word joiner, invisible operators, bidi isolates, …
		{Lo: 0x3164, Hi: 0x3164, Stride: 1}, // Hangul filler
		{Lo: 0xFE00, Hi: 0xFE0F, Stride: 1}, // variation selectors 1–16
		{Lo: 0xFEFF, Hi: 0xFEFF, Stride: 1}, // zero-width no-break space (BOM)
		{Lo: 0xFFA0, Hi: 0xFFA0, Stride: 1}, // halfwidth Hangul filler
		{Lo: 0xFFF0, Hi: 0xFFF8, Stride: 1}, // reserved
	},
	R32: []unicode.Range32{
		{Lo: 0x1BCA0, Hi: 0x1BCA3, Stride: 1}, // shorthand format controls
		{Lo: 0x1D173, Hi: 0x1D17A, Stride: 1}, // musical symbol format controls
		{Lo: 0xE0000, Hi: 0xE0FFF, Stride: 1}, // tags, variation selectors 17–256, reserved
	},
}
