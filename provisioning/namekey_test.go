package provisioning_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/provisiond/provisiond/provisioning"
)

// Names that a reader cannot tell apart share a key; names that differ do not.
func TestNameKeyLookAlikes(t *testing.T) {
	same := [][]string{
		{"Acme", "ACME ", "  acme", "Ａｃｍｅ", "Ac\u00ADme", "Acme\u200B", "\uFEFFAcme", "A\u200Dc\u200Cme", "Acm\u2060e", "Acme\uFE0F", "Ａ\u180Eｃｍｅ"},
		{"Café", "Cafe\u0301", "CAFÉ", "CAFE\u0301", "Caf\u00E9\u034F"},
		{"Acme Corp", "acme  corp", "ACME\u00A0Corp", "Acme\u3000Corp", "Acme\t\nCorp", "Acme \u200B Corp"},
		{"Straße", "STRASSE", "strasse"},
		{"ﬁrm", "FIRM", "firm"},
		{"Ǆemal", "ǅemal", "džemal", "dz\u030Cemal"},
		{"\u13A0\u13A1", "\uAB70\uAB71", "\u13A0\uAB71"},
	}
	for _, group := range same {
		want := provisioning.NameKey(group[0])
		for _, name := range group[1:] {
			if got := provisioning.NameKey(name); got != want {
				t.Errorf("NameKey(%+q) = %+q, want %+q as for %+q", name, got, want, group[0])
			}
		}
	}
	differ := [][2]string{{"Acme", "Acme Corp"}, {"Acme", "Acne"}, {"Café", "Cafe"}, {"A B", "AB"}, {"Acme", "Асме"}}
	for _, p := range differ {
		if provisioning.NameKey(p[0]) == provisioning.NameKey(p[1]) {
			t.Errorf("%+q and %+q share the key %+q", p[0], p[1], provisioning.NameKey(p[0]))
		}
	}
	if got := provisioning.NameKey(" \u200B\u00AD "); got != "" {
		t.Errorf("a name of invisible characters has the key %+q, want empty", got)
	}
}

// The table of default-ignorable code points is the one Unicode defines: it equals the
// derivation of DerivedCoreProperties from the standard library's tables, and holds the 4174
// code points that Unicode 15 lists.
func TestDefaultIgnorableIsUnicodes(t *testing.T) {
	derived := func(r rune) bool {
		in := unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) || unicode.Is(unicode.Cf, r) ||
			unicode.Is(unicode.Variation_Selector, r)
		out := unicode.Is(unicode.White_Space, r) || (r >= 0xFFF9 && r <= 0xFFFB) ||
			(r >= 0x13430 && r <= 0x1343F) || unicode.Is(unicode.Prepended_Concatenation_Mark, r)
		return in && !out
	}
	n := 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		got := unicode.Is(provisioning.DefaultIgnorable, r)
		if got != derived(r) {
			t.Errorf("%U: in table %v, derived %v", r, got, derived(r))
		}
		if got {
			n++
		}
	}
	if n != 4174 {
		t.Errorf("the table holds %d code points, want 4174", n)
	}
	for _, r := range []rune{0x00AD, 0x034F, 0x061C, 0x180E, 0x200B, 0x200D, 0x202E, 0x2060, 0x2066, 0x3164, 0xFE0F, 0xFEFF, 0xE0001, 0xE01EF} {
		if !unicode.Is(provisioning.DefaultIgnorable, r) {
			t.Errorf("%U is not in the table", r)
		}
	}
}

// Case folding folds as Unicode's CaseFolding.txt says, so that it is idempotent for every
// cased code point (all lie in planes 0 and 1): Cherokee folds to upper case, ß and ẞ to ss.
func TestFoldCase(t *testing.T) {
	for in, want := range map[string]string{"\u13A0\uAB70": "\u13A0\u13A0", "\u13F8\u13F0": "\u13F0\u13F0",
		"Straße ẞ": "strasse ss", "ǅ": "ǆ", "ſ": "s", "ΣΑΣ": "σασ"} {
		if got := provisioning.FoldCase(in); got != want {
			t.Errorf("FoldCase(%+q) = %+q, want %+q", in, got, want)
		}
	}
	for r := rune(0); r <= 0x1FFFF; r++ {
		if once := provisioning.FoldCase(string(r)); provisioning.FoldCase(once) != once {
			t.Errorf("%U folds to %+q, which folds to %+q", r, once, provisioning.FoldCase(once))
		}
	}
}

// FuzzNameKey checks the key's laws on arbitrary text: it is idempotent, valid UTF-8 in NFKC,
// free of default-ignorable and bidirectional control code points, with single inner spaces
// and none at the ends; and inserting an ignorable code point anywhere does not change it.
func FuzzNameKey(f *testing.F) {
	for _, s := range []string{"Acme", "Ａｃｍｅ ", "Ac\u00ADme", "Cafe\u0301", "e\u034F\u0301", "\u202EemcA",
		"ǅ\u200B", "a \u3000 b", "\xff\xfe", "ﬀ\uFE0F", "\u0345\u0399", "İstanbul", "x\u0000y"} {
		f.Add(s, 1)
	}
	ignorables := []rune{0x00AD, 0x200B, 0x200D, 0x2060, 0xFEFF, 0xFE0F, 0x034F, 0x202E}
	f.Fuzz(func(t *testing.T, s string, at int) {
		key := provisioning.NameKey(s)
		if general := provisioning.NameKeyUnicode(s); key != general {
			t.Fatalf("NameKey(%+q) = %+q, but the general rules give %+q", s, key, general)
		}
		if again := provisioning.NameKey(key); again != key {
			t.Fatalf("NameKey(%+q) = %+q, but NameKey of that is %+q", s, key, again)
		}
		if !utf8.ValidString(key) || !norm.NFKC.IsNormalString(key) {
			t.Fatalf("NameKey(%+q) = %+q is not valid NFKC text", s, key)
		}
		if i := strings.IndexFunc(key, func(r rune) bool {
			return unicode.Is(provisioning.DefaultIgnorable, r) || unicode.Is(unicode.Bidi_Control, r)
		}); i >= 0 {
			t.Fatalf("NameKey(%+q) = %+q keeps an invisible character at %d", s, key, i)
		}
		if key != strings.Join(strings.Fields(key), " ") {
			t.Fatalf("NameKey(%+q) = %+q has untidy white space", s, key)
		}
		runes := []rune(strings.ToValidUTF8(s, "\uFFFD"))
		if at < 0 {
			at = -at
		}
		i := at % (len(runes) + 1)
		with := string(runes[:i]) + string(ignorables[at%len(ignorables)]) + string(runes[i:])
		if got := provisioning.NameKey(with); got != provisioning.NameKey(string(runes)) {
			t.Fatalf("NameKey(%+q) = %+q, but %+q without the ignorable has %+q", with, got, string(runes), provisioning.NameKey(string(runes)))
		}
	})
}

// The ASCII shortcut of NameKey gives what the general rules give, for every ASCII byte in
// every position of a name.
func TestNameKeyASCIIShortcut(t *testing.T) {
	for b := range 128 {
		for _, s := range []string{string(rune(b)), "Acme" + string(rune(b)) + "Corp", " \t" + string(rune(b)) + " X  y\n"} {
			if got, want := provisioning.NameKey(s), provisioning.NameKeyUnicode(s); got != want {
				t.Fatalf("NameKey(%+q) = %+q, the general rules give %+q", s, got, want)
			}
		}
	}
}
