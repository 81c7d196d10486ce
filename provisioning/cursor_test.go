package provisioning

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestCursorRoundTrip(t *testing.T) {
	k := PageKey{CreatedAt: time.UnixMilli(1739205000123).UTC(), ID: "550e8400-e29b-41d4-a716-446655440000"}
	got, err := decodeCursor(encodeCursor(k))
	if err != nil || *got != k {
		t.Fatalf("decodeCursor(encodeCursor(%v)) = %v, %v", k, got, err)
	}
	if got, err := decodeCursor(""); got != nil || err != nil {
		t.Fatalf(`decodeCursor("") = %v, %v; want the first page`, got, err)
	}
	for _, bad := range []string{"!!", "bm90LWEtY3Vyc29y", encodeCursor(PageKey{ID: "not-a-uuid"}), "MTIzfA"} {
		if _, err := decodeCursor(bad); err != errCursor {
			t.Errorf("decodeCursor(%q) error = %v, want errCursor", bad, err)
		}
	}
}

// FuzzDecodeCursor feeds arbitrary query values to the cursor parser: it never panics, rejects
// with errCursor only, and whatever it accepts names a valid id and survives a round trip.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(PageKey{CreatedAt: time.UnixMilli(1739205000123), ID: uuid.NewString()}))
	f.Add("")
	f.Add("MTIzfA")
	f.Add("LTF8NTUwZTg0MDAtZTI5Yi00MWQ0LWE3MTYtNDQ2NjU1NDQwMDAw")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := decodeCursor(s)
		if err != nil {
			if err != errCursor || k != nil {
				t.Fatalf("decodeCursor(%q) = %v, %v", s, k, err)
			}
			return
		}
		if k == nil {
			if s != "" {
				t.Fatalf("decodeCursor(%q) = nil without error", s)
			}
			return
		}
		if uuid.Validate(k.ID) != nil {
			t.Fatalf("accepted id %q", k.ID)
		}
		again, err := decodeCursor(encodeCursor(*k))
		if err != nil || !again.CreatedAt.Equal(k.CreatedAt) || again.ID != k.ID {
			t.Fatalf("round trip of %v: %v, %v", k, again, err)
		}
	})
}
