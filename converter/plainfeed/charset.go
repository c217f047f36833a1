package plainfeed

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// latin1Reader is the CharsetReader of the XML parses this package does
// itself: it reads ISO-8859-1 (and US-ASCII, a subset) as UTF-8, like the
// core reader, and passes UTF-8 through. Other encodings are refused.
func latin1Reader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf-8", "utf8":
		return in, nil
	case "iso-8859-1", "latin1", "latin-1", "iso8859-1", "l1", "us-ascii", "ascii":
		return &latin1{r: bufio.NewReader(in)}, nil
	}
	return nil, fmt.Errorf("unsupported encoding %q", label)
}

type latin1 struct {
	r   *bufio.Reader
	out []byte
}

func (l *latin1) Read(p []byte) (int, error) {
	for len(l.out) == 0 {
		b, err := l.r.ReadByte()
		if err != nil {
			return 0, err
		}
		l.out = utf8.AppendRune(l.out, rune(b))
	}
	n := copy(p, l.out)
	l.out = l.out[n:]
	return n, nil
}
