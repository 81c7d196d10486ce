package provisioning

// DefaultIgnorable exposes the table of default-ignorable code points to the black-box tests.
var DefaultIgnorable = defaultIgnorable

// FoldCase exposes the case folding of NameKey.
var FoldCase = foldCase

// PlainLength exposes the length of a number in plain decimal notation.
var PlainLength = plainLength

// StatusCacheLen says how many partner statuses the Service caches.
func (s *Service) StatusCacheLen() int {
	s.e.statuses.mu.Lock()
	defer s.e.statuses.mu.Unlock()
	return len(s.e.statuses.entries)
}

// MaxStatuses exposes the bound of the partner-status cache.
const MaxStatuses = maxStatuses

// NameKeyUnicode exposes NameKey without its ASCII shortcut.
var NameKeyUnicode = nameKeyUnicode
