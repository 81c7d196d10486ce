package provisioning

// DefaultIgnorable exposes the table of default-ignorable code points to the black-box tests.
var DefaultIgnorable = defaultIgnorable

// FoldCase exposes the case folding of NameKey.
var FoldCase = foldCase

// PlainLength exposes the length of a number in plain decimal notation.
var PlainLength = plainLength
