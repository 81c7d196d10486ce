package httpapi

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/provisiond/provisiond/provisioning"
)

// loadOpenAPI parses the served document as it is published, its references resolved.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// schemaNamed returns the component schema of the name.
func schemaNamed(t *testing.T, doc *openapi3.T, name string) *openapi3.Schema {
	t.Helper()
	ref := doc.Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		t.Fatalf("the document has no schema %s", name)
	}
	return ref.Value
}

// extensibleEnum returns the values of a schema's x-extensible-enum.
func extensibleEnum(t *testing.T, s *openapi3.Schema) []string {
	t.Helper()
	values, _ := s.Extensions["x-extensible-enum"].([]any)
	out := make([]string, len(values))
	for i, v := range values {
		out[i], _ = v.(string)
	}
	return out
}

// Every error code the server can answer is documented, with its status, and none that it
// cannot.
func TestOpenAPIDocumentsEveryErrorCode(t *testing.T) {
	schema := schemaNamed(t, loadOpenAPI(t), "ProblemCode")
	var want []string
	for code := range statuses {
		want = append(want, string(code))
	}
	if got := extensibleEnum(t, schema); !sameStrings(got, want) {
		t.Errorf("ProblemCode lists %v; the server answers %v", got, want)
	}
	for code, st := range statuses {
		if row := fmt.Sprintf("| `%s` | %d |", code, st.status); !strings.Contains(schema.Description, row) {
			t.Errorf("ProblemCode's table has no row %q", row)
		}
	}
}

// Every event type is documented: open in answers, closed in requests (the server refuses an
// unknown one).
func TestOpenAPIDocumentsEveryEventType(t *testing.T) {
	doc := loadOpenAPI(t)
	var want []string
	for _, et := range provisioning.EventTypes {
		want = append(want, string(et))
	}
	if got := extensibleEnum(t, schemaNamed(t, doc, "EventType")); !sameStrings(got, want) {
		t.Errorf("EventType lists %v, want %v", got, want)
	}
	var known []string
	for _, v := range schemaNamed(t, doc, "KnownEventType").Enum {
		known = append(known, fmt.Sprint(v))
	}
	if !sameStrings(known, want) {
		t.Errorf("KnownEventType lists %v, want %v", known, want)
	}
}

// sameStrings reports whether a and b hold the same strings, in any order.
func sameStrings(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// A client generated from the document must survive the server's growth: no answer's schema
// forbids other members or closes a set of values (the tests close them, see
// strictResponses).
func TestOpenAPIAnswersStayOpen(t *testing.T) {
	doc := loadOpenAPI(t)
	seen := map[*openapi3.Schema]bool{}
	var check func(at string, ref *openapi3.SchemaRef)
	check = func(at string, ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		if ref.Ref != "" {
			at = ref.Ref
		}
		if has := s.AdditionalProperties.Has; has != nil && !*has {
			t.Errorf("%s: additionalProperties: false in an answer", at)
		}
		if len(s.Enum) > 0 {
			t.Errorf("%s: a closed enum in an answer; use x-extensible-enum", at)
		}
		for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
			check(at+"/"+name, s.Properties[name])
		}
		check(at+"/items", s.Items)
		check(at+"/additionalProperties", s.AdditionalProperties.Schema)
		for _, refs := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
			for _, r := range refs {
				check(at, r)
			}
		}
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for status, resp := range op.Responses.Map() {
				for media, mt := range resp.Value.Content {
					check(fmt.Sprintf("%s %s %s %s", method, path, status, media), mt.Schema)
				}
			}
		}
	}
}

// Every operation is tagged with a declared tag and described, and every body it takes or
// answers has an example.
func TestOpenAPIOperationsAreTaggedAndExemplified(t *testing.T) {
	doc := loadOpenAPI(t)
	declared := map[string]bool{}
	for _, tag := range doc.Tags {
		if tag.Description == "" {
			t.Errorf("tag %s has no description", tag.Name)
		}
		declared[tag.Name] = true
	}
	hasExample := func(mt *openapi3.MediaType) bool { return mt.Example != nil || len(mt.Examples) > 0 }
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			if len(op.Tags) == 0 || op.Description == "" || op.OperationID == "" {
				t.Errorf("%s: tags, description and operationId are required", name)
			}
			for _, tag := range op.Tags {
				if !declared[tag] {
					t.Errorf("%s: tag %s is not declared", name, tag)
				}
			}
			if op.RequestBody != nil {
				for media, mt := range op.RequestBody.Value.Content {
					if !hasExample(mt) {
						t.Errorf("%s: the %s body has no example", name, media)
					}
				}
			}
			for status, resp := range op.Responses.Map() {
				for media, mt := range resp.Value.Content {
					if !hasExample(mt) {
						t.Errorf("%s → %s: the %s answer has no example", name, status, media)
					}
				}
			}
		}
	}
}
