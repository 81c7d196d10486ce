package provisioning

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// PageKey is the position of a tenant in the newest-first order of listings: by creation time,
// ties broken by id. A listing continues strictly after its key, so pages neither skip nor
// repeat tenants when others are inserted meanwhile.
type PageKey struct {
	CreatedAt time.Time
	ID        string
}

// encodeCursor turns the key of the last tenant of a page into an opaque cursor.
func encodeCursor(k PageKey) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(k.CreatedAt.UnixMilli(), 10) + "|" + k.ID))
}

var errCursor = errors.New("is not a cursor returned by this API")

// decodeCursor parses a cursor from encodeCursor; "" means the first page.
func decodeCursor(s string) (*PageKey, error) {
	if s == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, errCursor
	}
	ms, id, ok := strings.Cut(string(raw), "|")
	if !ok {
		return nil, errCursor
	}
	n, err := strconv.ParseInt(ms, 10, 64)
	id, isID := canonicalID(id)
	if err != nil || !isID || n < MinFilterTime.UnixMilli() || n > MaxFilterTime.UnixMilli() {
		return nil, errCursor // only what a store can compare with: a tenant id and a time it holds
	}
	return &PageKey{CreatedAt: time.UnixMilli(n).UTC(), ID: id}, nil
}
