package httpapi_test

import "github.com/getkin/kin-openapi/openapi3"

// strictResponses closes the response schemas of doc for the tests. The published document
// leaves them open so that clients generated from it survive a new member or a new value: no
// object forbids other members, and a set of values that will grow is an x-extensible-enum
// rather than an enum. The tests hold the server to what the document lists: here an object
// schema with properties admits no other member, and an x-extensible-enum admits only its
// values, so a member or value the server sends without documenting it fails the test that
// received it.
func strictResponses(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var tighten func(ref *openapi3.SchemaRef)
	tighten = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		if len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
			s.AdditionalProperties.Has = openapi3.Ptr(false)
		}
		if values, ok := s.Extensions["x-extensible-enum"].([]any); ok && len(s.Enum) == 0 {
			s.Enum = values
		}
		for _, p := range s.Properties {
			tighten(p)
		}
		tighten(s.Items)
		tighten(s.AdditionalProperties.Schema)
		for _, refs := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
			for _, r := range refs {
				tighten(r)
			}
		}
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, resp := range op.Responses.Map() {
				if resp.Value == nil {
					continue
				}
				for _, mt := range resp.Value.Content {
					tighten(mt.Schema)
				}
			}
		}
	}
}
