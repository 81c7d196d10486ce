package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/provisiond/provisiond/provisioning"
)

// This file checks the syntax of request bodies: one JSON object, no duplicate keys, bounded
// nesting.
//
// Its memory is linear in the size of a body, with a small constant, whatever the body holds.
// The nesting is checked first, by a scan that allocates nothing; then the grammar, by
// encoding/json's scanner, which allocates nothing either; then one pass over the bytes keeps
// only the keys of the objects still open (to find duplicates) and the at most
// provisioning.MaxJSONDepth open scopes, and builds the path of a key only for the error it
// reports. That is what makes it safe to decode a body before the Provisioner has authorized
// the request (see server.decode).

// checkSyntax validates body as exactly one JSON object without duplicate keys at any depth,
// nested at most provisioning.MaxJSONDepth levels deep (the body's own object is level 1).
func checkSyntax(body []byte) error { return checkObject(body, nil) }

// checkObject is checkSyntax, calling onMember, if not nil, with each member of the body's
// object, in order, as soon as its value has been checked.
func checkObject(body []byte, onMember func(key string, value []byte)) error {
	start := skipSpace(body, 0)
	if start == len(body) {
		return httpError(codeInvalidJSON, "the body is empty; it must be a JSON object")
	}
	if at := provisioning.JSONDepthExceeded(body); at >= 0 {
		return httpError(codeInvalidJSON, "the JSON is nested more than %d levels deep (offset %d)", provisioning.MaxJSONDepth, at)
	}
	if !json.Valid(body) {
		return syntaxError(body)
	}
	if !utf8.Valid(body) { // encoding/json would quietly turn the bad bytes into U+FFFD
		return httpError(codeInvalidJSON, "the body is not valid UTF-8")
	}
	if body[start] != '{' {
		return httpError(codeInvalidJSON, "the body must be a JSON object")
	}
	return walk(body, start, onMember)
}

// walk walks body, valid JSON nested at most provisioning.MaxJSONDepth levels whose value
// starts at start, for duplicate keys, calling onMember (if not nil) with each value directly
// inside that value.
func walk(body []byte, start int, onMember func(key string, value []byte)) error {
	w := walker{body: body, stack: make([]scope, 0, provisioning.MaxJSONDepth), onMember: onMember, valueAt: -1}
	return w.walk(start)
}

// syntaxError describes why body, which is not valid JSON, is not.
func syntaxError(body []byte) error {
	var se *json.SyntaxError
	if err := json.Unmarshal(body, new(json.RawMessage)); errors.As(err, &se) {
		if se.Offset >= int64(len(body)) {
			return httpError(codeInvalidJSON, "the JSON ends unexpectedly")
		}
		return httpError(codeInvalidJSON, "malformed JSON near offset %d: %s", se.Offset, se.Error())
	}
	return httpError(codeInvalidJSON, "malformed JSON")
}

// scope is an object or array that the walker is inside.
type scope struct {
	object  bool
	seen    map[string]struct{} // the object's keys so far; made at its first key, or reused
	key     string              // the object's key whose value is being read, if inValue
	inValue bool
	index   int // the array's index of the value being read
}

// walker walks a valid JSON text for duplicate keys, knowing at each byte the scopes it is in.
type walker struct {
	body     []byte
	stack    []scope                        // the scopes open around the current byte, innermost last
	onMember func(key string, value []byte) // called with each value directly inside the outermost scope
	valueAt  int                            // where that value starts; -1 before it does
}

// walk checks the text, nested at most provisioning.MaxJSONDepth levels (more only costs a
// larger stack), from its first value at start.
func (w *walker) walk(start int) error {
	for i := start; i < len(w.body); i++ {
		c := w.body[i]
		if isSpace(c) || c == ',' || c == ':' {
			continue
		}
		if len(w.stack) == 1 && w.valueAt < 0 && (w.stack[0].inValue || !w.stack[0].object) {
			w.valueAt = i
		}
		switch c {
		case '{', '[':
			w.push(c == '{')
		case '}', ']':
			w.stack = w.stack[:len(w.stack)-1]
			w.valueDone(i + 1)
		case '"':
			end := stringEnd(w.body, i)
			if top := &w.stack[len(w.stack)-1]; top.object && !top.inValue {
				if err := top.addKey(w.body[i:end], w.stack); err != nil {
					return err
				}
			} else {
				w.valueDone(end)
			}
			i = end - 1
		default: // a number, true, false or null
			for i+1 < len(w.body) && !endsScalar(w.body[i+1]) {
				i++
			}
			w.valueDone(i + 1)
		}
	}
	return nil
}

// push opens an object or array. The set of seen keys of the last object closed at the same
// depth is cleared and used again when it is small, so that a thousand small objects do not
// make a thousand sets; a large one is left to the garbage collector, as clearing it would
// cost its size again.
func (w *walker) push(object bool) {
	n := len(w.stack)
	if n == cap(w.stack) {
		w.stack = append(w.stack, scope{})
	}
	w.stack = w.stack[:n+1]
	seen := w.stack[n].seen
	if len(seen) > reusedKeys {
		seen = nil
	}
	clear(seen)
	w.stack[n] = scope{object: object, seen: seen}
}

// reusedKeys is the most keys a set of seen keys may hold to be used again.
const reusedKeys = 8

// valueDone marks the end, at end, of a value in the innermost open scope, if any. A value
// directly inside the outermost scope goes to onMember, with its key in an object.
func (w *walker) valueDone(end int) {
	if len(w.stack) == 0 {
		return
	}
	top := &w.stack[len(w.stack)-1]
	if len(w.stack) == 1 {
		if w.onMember != nil {
			w.onMember(top.key, w.body[w.valueAt:end])
		}
		w.valueAt = -1
	}
	if top.object {
		top.inValue = false
	} else {
		top.index++
	}
}

// addKey records the key of the object's next member, given as the JSON string literal raw;
// a key seen before is an error.
func (s *scope) addKey(raw []byte, stack []scope) error {
	s.key, s.inValue = keyOf(raw), true
	if _, dup := s.seen[s.key]; dup {
		return httpError(codeInvalidJSON, "duplicate key %q", jsonPath(stack))
	}
	if s.seen == nil {
		s.seen = map[string]struct{}{}
	}
	s.seen[s.key] = struct{}{}
	return nil
}

// keyOf decodes the JSON string literal raw (valid JSON) as encoding/json does, so that keys
// equal there are equal here: escapes are resolved, a lone surrogate and each byte of invalid
// UTF-8 become U+FFFD.
func keyOf(raw []byte) string {
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner)
	}
	var b strings.Builder
	b.Grow(len(inner))
	for i := 0; i < len(inner); {
		c := inner[i]
		switch {
		case c == '\\' && inner[i+1] == 'u':
			r, n := unicodeEscape(inner[i:])
			b.WriteRune(r)
			i += n
		case c == '\\':
			b.WriteByte(unescaped[inner[i+1]])
			i += 2
		default:
			r, n := utf8.DecodeRune(inner[i:])
			b.WriteRune(r) // utf8.RuneError for a byte of invalid UTF-8
			i += n
		}
	}
	return b.String()
}

// unescaped maps the letter of a one-letter JSON escape to its byte.
var unescaped = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// unicodeEscape decodes the \uXXXX escape at the start of s, with the low half that follows a
// high surrogate, and returns the rune and the bytes read.
func unicodeEscape(s []byte) (rune, int) {
	r := hex4(s[2:6])
	if !utf16.IsSurrogate(r) {
		return r, 6
	}
	if len(s) >= 12 && s[6] == '\\' && s[7] == 'u' {
		if pair := utf16.DecodeRune(r, hex4(s[8:12])); pair != utf8.RuneError {
			return pair, 12
		}
	}
	return utf8.RuneError, 6
}

// hex4 reads four hexadecimal digits (valid JSON).
func hex4(s []byte) rune {
	var r rune
	for _, c := range s {
		switch {
		case c <= '9':
			c -= '0'
		case c >= 'a':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// stringEnd returns the index just after the string literal that starts at body[i], in valid
// JSON.
func stringEnd(body []byte, i int) int {
	for i++; body[i] != '"'; i++ {
		if body[i] == '\\' {
			i++
		}
	}
	return i + 1
}

// endsScalar reports whether c, in valid JSON, ends the number or literal before it.
func endsScalar(c byte) bool { return isSpace(c) || c == ',' || c == ']' || c == '}' }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipSpace returns the index of the first byte at or after i that is not JSON white space.
func skipSpace(body []byte, i int) int {
	for i < len(body) && isSpace(body[i]) {
		i++
	}
	return i
}

// jsonPath names the value being read, such as tenants[2].metadata.plan, with long keys cut
// short: only for error messages.
func jsonPath(stack []scope) string {
	var b strings.Builder
	for _, s := range stack {
		switch {
		case s.object && s.inValue:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(shorten(s.key, 40))
		case !s.object:
			fmt.Fprintf(&b, "[%d]", s.index)
		}
	}
	return b.String()
}

// shorten cuts s to at most n bytes, on a character boundary, marking the cut with "…".
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
