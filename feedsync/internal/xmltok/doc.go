// Package xmltok reads the raw tokens of an XML document from byte slices:
// what encoding/xml's Decoder.RawToken returns in Strict mode, accepting and
// rejecting the same documents, without reading the input one byte at a
// time through a function call per byte.
//
// It exists for one caller, feedsync.Reader, whose time went mostly into
// RawToken's getc, text and name (about 43% of a client's CPU on an initial
// pull). It lives under feedsync/internal because it is part of the core
// codec: the core imports nothing else of this module, and nothing outside
// feedsync should grow a dependency on a tokenizer shaped after one reader's
// needs. Should another package need it (converter/plainfeed reads with
// RawToken too), move it to the module's internal/ then.
//
// # What it matches, and how that is checked
//
// The Decoder follows encoding/xml's rawToken (Go 1.26) step by step:
// the same tokens (start and end elements with prefixes, attributes in
// order, character data with entities and character references decoded
// and \r\n and \r turned into \n, CDATA as character data, comments,
// processing instructions, directives), the same well-formedness checks
// (names, the XML character range and invalid UTF-8 in text and attribute
// values, unknown entities, "]]>" in text, "--" in comments, unquoted or
// missing attribute values, the xml declaration's version and encoding),
// the same messages in *xml.SyntaxError with the same lines, and the same
// InputOffset after every token. Like RawToken it does not pair end tags
// with start tags nor reject duplicate attributes: feedsync.Reader pairs
// tags itself. The differential test and FuzzDifferential compare it with
// encoding/xml on arbitrary input, read whole and one byte at a time.
//
// Names with characters beyond ASCII are checked by asking encoding/xml
// (and the answer is cached): they are rare in feeds, and that keeps the
// Unicode name tables in one place.
//
// # Buffering
//
// The Decoder keeps every byte from the oldest offset its caller still
// needs (see Discard), so that the caller can slice a token's exact source
// bytes out by offset (Slice): feedsync writes unchanged items back byte for
// byte. A token must be whole in the buffer to be returned; when it is not,
// more is read and the token is parsed again. One read is asked for at a
// time, as a bufio.Reader would; once a token has taken several, each
// refill reads at least as much again as is buffered of it, so that a large
// token costs time in proportion to its size even from a source that hands
// out a few bytes per read. Such a refill may wait for more input than the
// token needs, which matters only for a source that pauses in the middle
// of a document. Limit bounds what is kept at once (ErrTooLarge), as the
// recorder it replaces in feedsync did.
package xmltok
