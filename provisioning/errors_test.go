package provisioning_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
)

func TestErrorCodeAndMessage(t *testing.T) {
	secret := errors.New("pq: password authentication failed for user app")
	cases := []struct {
		err  error
		code provisioning.Code
		msg  string
	}{
		{nil, "", "internal error"},
		{secret, provisioning.CodeInternal, "internal error"},
		{provisioning.Internal(secret), provisioning.CodeInternal, "internal error"},
		{fmt.Errorf("wrapped: %w", provisioning.Errorf(provisioning.CodeNotFound, "tenant not found")), provisioning.CodeNotFound, "tenant not found"},
	}
	for _, tc := range cases {
		if got := provisioning.ErrorCode(tc.err); got != tc.code {
			t.Errorf("ErrorCode(%v) = %q, want %q", tc.err, got, tc.code)
		}
		if tc.err != nil {
			if got := provisioning.ErrorMessage(tc.err); got != tc.msg {
				t.Errorf("ErrorMessage(%v) = %q, want %q", tc.err, got, tc.msg)
			}
		}
	}
	if !errors.Is(provisioning.Internal(secret), secret) {
		t.Error("Internal does not wrap its cause")
	}
}
