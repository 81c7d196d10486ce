package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// writeJSON answers with v as application/json.
func writeJSON(w http.ResponseWriter, status int, v any) {
	writeJSONType(w, status, "application/json", v)
}

// writeJSONType encodes v before writing anything, so that an encoding failure can still
// become a clean 500.
func writeJSONType(w http.ResponseWriter, status int, contentType string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, contentType = http.StatusInternalServerError, "application/problem+json"
		body = []byte(`{"type":"urn:provisiond:problem:internal","title":"Internal error","status":500,"code":"internal"}`)
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
