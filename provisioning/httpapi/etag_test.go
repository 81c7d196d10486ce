package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// reqLines is e.req with headers given as an http.Header, so a field may have several lines.
func (e *env) reqLines(t *testing.T, method, path, token, body string, h http.Header) response {
	t.Helper()
	r, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header = h.Clone()
	r.Header.Set("Authorization", "Bearer "+token)
	if body != "" && r.Header.Get("Content-Type") == "" {
		r.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, body: b}
	checkOpenAPI(t, r, body, out)
	return out
}

// If-Match uses the strong comparison on every conditional route: a weak tag never matches;
// a list matches when any of its strong tags names the current version; "*" matches any; a
// malformed header, or one naming more than 8 versions, matches nothing. A refused change
// changes nothing.
func TestIfMatchIsStrongOnEveryConditionalRoute(t *testing.T) {
	e := newEnv(t)
	versions := func(from, to int) string { // "from", …, "to"
		var tags []string
		for v := from; v <= to; v++ {
			tags = append(tags, fmt.Sprintf(`"%d"`, v))
		}
		return strings.Join(tags, ", ")
	}
	// Each case runs against a resource at version 2.
	cases := []struct {
		name  string
		lines []string // the If-Match lines
		match bool
	}{
		{"the current tag", []string{`"2"`}, true},
		{"with white space", []string{"  \"2\"\t"}, true},
		{"a stale tag", []string{`"1"`}, false},
		{"a weak current tag", []string{`W/"2"`}, false},
		{"a list naming the current version", []string{`"1", "2"`}, true},
		{"a list naming it first", []string{`"2","1"`}, true},
		{"a list with empty elements", []string{`, "1",, "2" ,`}, true},
		{"a list of stale tags", []string{`"1", "3"`}, false},
		{"a list where only a weak tag names it", []string{`W/"2", "1"`}, false},
		{"a weak stale tag and the strong current one", []string{`W/"1", "2"`}, true},
		{"two lines", []string{`"9"`, `"2"`}, true},
		{"eight versions", []string{versions(3, 9) + `, "2"`}, true},
		{"nine versions", []string{versions(3, 10) + `, "2"`}, false},
		{"any", []string{`*`}, true},
		{"any in a list", []string{`*, "2"`}, false},
		{"unquoted", []string{`2`}, false},
		{"unterminated", []string{`"2`}, false},
		{"trailing garbage", []string{`"2" x`}, false},
		{"leading zero", []string{`"02"`}, false},
		{"plus sign", []string{`"+2"`}, false},
		{"empty tag", []string{`""`}, false},
		{"lower-case weak", []string{`w/"2"`}, false},
		{"not a tag at all", []string{`abc`}, false},
	}
	n := 0
	newTenant := func(t *testing.T) string {
		n++
		return e.create(t, e.admin, fmt.Sprintf(`{"company_name":"Etag %d","email":"e@example.com"}`, n))["tenant"].(string)
	}
	routes := []struct {
		name, method, body string
		path               func(id string) string
		bump               func(t *testing.T, id string) // brings the resource to version 2
	}{
		{"PATCH tenant", "PATCH", `{"industry":"Changed"}`, tenantPath, bumpTenant(e)},
		{"PUT tenant", "PUT", `{"company_name":"Replaced ID","email":"r@example.com"}`, tenantPath, bumpTenant(e)},
		{"DELETE tenant", "DELETE", ``, tenantPath, bumpTenant(e)},
		{"PUT config", "PUT", `{"plan":"changed"}`, configPath, bumpConfig(e)},
		{"PATCH config", "PATCH", `{"seats":5}`, configPath, bumpConfig(e)},
	}
	for _, rt := range routes {
		for _, tc := range cases {
			t.Run(rt.name+"/"+tc.name, func(t *testing.T) {
				id := newTenant(t)
				rt.bump(t, id)
				h := http.Header{"If-Match": tc.lines}
				if rt.method == "PATCH" {
					h.Set("Content-Type", "application/merge-patch+json")
				}
				r := e.reqLines(t, rt.method, rt.path(id), e.admin, strings.ReplaceAll(rt.body, "ID", id), h)
				if !tc.match {
					wantProblem(t, r, http.StatusPreconditionFailed, "precondition_failed")
					if got := e.req(t, "GET", rt.path(id), e.admin, "").header.Get("ETag"); got != `"2"` {
						t.Fatalf("after a refused change the ETag is %s, want \"2\"", got)
					}
					return
				}
				if r.status < 200 || r.status > 299 {
					t.Fatalf("%d %s, want success", r.status, r.body)
				}
			})
		}
	}
}

func tenantPath(id string) string { return base + "/tenants/" + id }
func configPath(id string) string { return base + "/tenants/" + id + "/config" }

func bumpTenant(e *env) func(*testing.T, string) {
	return func(t *testing.T, id string) {
		if r := e.req(t, "PATCH", tenantPath(id), e.admin, `{"industry":"Second"}`); r.header.Get("ETag") != `"2"` {
			t.Fatalf("bump: %d %s", r.status, r.body)
		}
	}
}

func bumpConfig(e *env) func(*testing.T, string) {
	return func(t *testing.T, id string) {
		if r := e.req(t, "PUT", configPath(id), e.admin, `{"plan":"second"}`); r.header.Get("ETag") != `"2"` {
			t.Fatalf("bump: %d %s", r.status, r.body)
		}
	}
}

// If-None-Match uses the weak comparison: a weak tag of the current version, or a list naming
// it, answers 304; a malformed header is ignored.
func TestIfNoneMatchIsWeak(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, e.admin, acme)["tenant"].(string)
	for _, path := range []string{tenantPath(id), configPath(id)} {
		for inm, want := range map[string]int{`"1"`: 304, `W/"1"`: 304, `"7", W/"1"`: 304, `*`: 304, `"2"`: 200, `1`: 200, `"1" x`: 200} {
			if r := e.req(t, "GET", path, e.admin, "", "If-None-Match", inm); r.status != want {
				t.Errorf("GET %s with If-None-Match %s: %d, want %d", path, inm, r.status, want)
			}
		}
	}
}
