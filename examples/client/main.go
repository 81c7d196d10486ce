// Command client walks through the provisioning API as a partner integration would: create a
// tenant safely, read it, suspend it with a conditional update, list, and delete.
//
//	go run ./cmd/provisiond --dev          # in one shell; copy the TOKEN it prints
//	PROVISIOND_URL=http://127.0.0.1:8080 TOKEN=… go run ./examples/client
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"time"
)

// client calls the API with a bearer token and a bounded timeout.
type client struct {
	base, token string
	http        *http.Client
}

// do sends a request and decodes a JSON answer into out (when not nil). headers are name, value pairs.
func (c *client) do(method, path string, body any, out any, headers ...string) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+"/api/provisioning"+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp, err
	}
	if resp.StatusCode >= 400 {
		return resp, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil && len(raw) > 0 {
		err = json.Unmarshal(raw, out)
	}
	return resp, err
}

type tenant struct {
	ID          string `json:"tenant"`
	CompanyName string `json:"company_name"`
	Status      string `json:"status"`
	Version     int    `json:"version"`
}

func main() {
	c := &client{base: os.Getenv("PROVISIOND_URL"), token: os.Getenv("TOKEN"), http: &http.Client{Timeout: 10 * time.Second}}
	if c.base == "" {
		c.base = "http://127.0.0.1:8080"
	}
	if c.token == "" {
		log.Fatal("set TOKEN to the token provisiond --dev printed")
	}
	var t tenant
	name := fmt.Sprintf("Walkthrough %d", time.Now().Unix())
	resp, err := c.do("POST", "/tenants", map[string]any{"company_name": name, "email": "ops@walkthrough.example",
		"metadata": map[string]string{"plan": "gold"}}, &t)
	must(err)
	fmt.Printf("created %s (%s), at %s, ETag %s\n", t.ID, t.CompanyName, resp.Header.Get("Location"), resp.Header.Get("ETag"))

	resp, err = c.do("GET", "/tenants/"+t.ID, nil, &t)
	must(err)
	fmt.Printf("read version %d\n", t.Version)

	// Suspend only if nobody changed the tenant since we read it.
	_, err = c.do("PATCH", "/tenants/"+t.ID, map[string]any{"status": "suspended"}, &t, "If-Match", resp.Header.Get("ETag"))
	must(err)
	fmt.Printf("suspended: status %s, version %d\n", t.Status, t.Version)

	var page struct {
		Data    []tenant `json:"data"`
		HasMore bool     `json:"has_more"`
	}
	_, err = c.do("GET", "/tenants?status=suspended&metadata%5Bplan%5D=gold&limit=10", nil, &page)
	must(err)
	fmt.Printf("suspended gold tenants on the first page: %d (more: %v)\n", len(page.Data), page.HasMore)

	_, err = c.do("DELETE", "/tenants/"+t.ID, nil, nil)
	must(err)
	fmt.Println("deleted")
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
