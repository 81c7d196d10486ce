package provisioning

// DefaultIgnorable exposes the table of default-ignorable code points to the black-box tests.
var DefaultIgnorable = defaultIgnorable
