package xmltok

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// errRefused is what both decoders answer to a declared encoding other
// than UTF-8, as feedsync.Reader does.
var errRefused = errors.New("unsupported encoding")

// errBoom ends the input in the "error after the data" reading mode.
var errBoom = errors.New("boom")

// read is one way of handing the input to a decoder.
type read struct {
	name string
	wrap func([]byte) io.Reader
}

var reads = []read{
	{"whole", func(b []byte) io.Reader { return bytes.NewReader(b) }},
	{"bytewise", func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) }},
	{"halves", func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) }},
	{"data+EOF", func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) }},
	{"then-error", func(b []byte) io.Reader { return io.MultiReader(bytes.NewReader(b), iotest.ErrReader(errBoom)) }},
}

// outcome is the token sequence a decoder gives, with the input offset and
// line after each token, and how it ended.
type outcome struct {
	toks  []xml.Token
	offs  []int64
	lines []int
	err   error
}

func stdOutcome(r io.Reader) outcome {
	d := xml.NewDecoder(r)
	d.Strict = true
	d.CharsetReader = func(label string, _ io.Reader) (io.Reader, error) { return nil, errRefused }
	var o outcome
	for {
		t, err := d.RawToken()
		if err != nil {
			o.err = err
			return o
		}
		if t == nil {
			// RawToken gives (nil, nil) for an empty CDATA section while
			// its buffer was never used; that is empty character data.
			t = xml.CharData{}
		}
		line, _ := d.InputPos()
		o.toks = append(o.toks, xml.CopyToken(t))
		o.offs = append(o.offs, d.InputOffset())
		o.lines = append(o.lines, line)
		if len(o.toks) > 1<<16 {
			o.err = errors.New("too many tokens")
			return o
		}
	}
}

func ourOutcome(r io.Reader) outcome {
	d := NewDecoder(r, Options{Charset: func(string) error { return errRefused }})
	var o outcome
	for {
		t, err := d.Next()
		if err != nil {
			o.err = err
			return o
		}
		o.toks = append(o.toks, t.XML())
		o.offs = append(o.offs, d.InputOffset())
		o.lines = append(o.lines, d.InputLine())
		if len(o.toks) > 1<<16 {
			o.err = errors.New("too many tokens")
			return o
		}
	}
}

// sameToken compares tokens, taking a start element without attributes
// as one whatever its Attr slice.
func sameToken(a, b xml.Token) bool {
	sa, ok1 := a.(xml.StartElement)
	sb, ok2 := b.(xml.StartElement)
	if ok1 && ok2 {
		return sa.Name == sb.Name && len(sa.Attr) == len(sb.Attr) && (len(sa.Attr) == 0 || reflect.DeepEqual(sa.Attr, sb.Attr))
	}
	return reflect.DeepEqual(a, b)
}

// compare reports how two outcomes differ: in tokens, offsets and lines,
// and in their errors, which must be the same error (message and line).
func compare(want, got outcome) string {
	for i := range min(len(want.toks), len(got.toks)) {
		if !sameToken(want.toks[i], got.toks[i]) {
			return fmt.Sprintf("token %d: encoding/xml %#v, xmltok %#v", i, want.toks[i], got.toks[i])
		}
		if want.offs[i] != got.offs[i] || want.lines[i] != got.lines[i] {
			return fmt.Sprintf("after token %d (%#v): encoding/xml at offset %d line %d, xmltok at %d line %d",
				i, want.toks[i], want.offs[i], want.lines[i], got.offs[i], got.lines[i])
		}
	}
	if len(want.toks) != len(got.toks) {
		return fmt.Sprintf("encoding/xml gives %d tokens then %v, xmltok %d then %v", len(want.toks), want.err, len(got.toks), got.err)
	}
	if (want.err == io.EOF) != (got.err == io.EOF) {
		return fmt.Sprintf("encoding/xml ends with %v, xmltok with %v", want.err, got.err)
	}
	var ws, gs *xml.SyntaxError
	if errors.As(want.err, &ws) != errors.As(got.err, &gs) || want.err.Error() != got.err.Error() {
		return fmt.Sprintf("encoding/xml ends with %v, xmltok with %v", want.err, got.err)
	}
	return ""
}

// check compares the decoders on in, read each way.
func check(t *testing.T, in []byte) {
	t.Helper()
	for _, rd := range reads {
		want := stdOutcome(rd.wrap(in))
		got := ourOutcome(rd.wrap(in))
		if msg := compare(want, got); msg != "" {
			t.Fatalf("%s read of %q:\n%s", rd.name, truncate(in), msg)
		}
	}
}

func truncate(b []byte) string {
	if len(b) > 400 {
		return string(b[:200]) + "…" + string(b[len(b)-200:])
	}
	return string(b)
}

// hostile are inputs written to reach each check of encoding/xml's
// rawToken, and the edges of reading from a buffer.
var hostile = []string{
	``,
	`<`,
	`<a`,
	`<a>`,
	`<a/>`,
	`<a/ >`,
	`<a></a>`,
	`<a></b>`,
	`</a>`,
	`</>`,
	`</a b>`,
	`</a `,
	`<a:b:c/>`,
	`</a:b:c>`,
	`<:a/>`,
	`<a:/>`,
	`<x:a xmlns:x="u" x:b='1' c = "2"/>`,
	`<a b/>`,
	`<a b=c/>`,
	`<a b=/>`,
	`<a b="/>`,
	`<a b="x`,
	`<a b='x"y'/>`,
	`<a b="<"/>`,
	`<a b="&lt;&#60;&#x3c;&#X3c;"/>`,
	`<a b="]]>"/>`,
	`<a b="&bad;"/>`,
	`<a b="&bad</a>`,
	`<a b="1" b="2"/>`,
	`<a b="1"c="2"/>`,
	`<1a/>`,
	`<.a/>`,
	`<-a/>`,
	`<a1.-_:b/>`,
	`<é/>`,
	`<日本語 属性="値"/>`,
	"<a\xffb/>",
	"<\u0300a/>",
	"<a\u0300/>",
	"<a\u00b7/>",
	`<a>text</a>`,
	`<a>]]></a>`,
	`<a>]]</a>`,
	`<a>] ]></a>`,
	`<a>]]]></a>`,
	`<a>]]&gt;</a>`,
	`<a>&amp;&lt;&gt;&apos;&quot;</a>`,
	`<a>&nbsp;</a>`,
	`<a>&amp</a>`,
	`<a>&amp`,
	`<a>&`,
	`<a>&#</a>`,
	`<a>&#;</a>`,
	`<a>&#x;</a>`,
	`<a>&#65</a>`,
	`<a>&#65;&#x41;&#X41;</a>`,
	`<a>&#0;</a>`,
	`<a>&#9;&#10;&#13;</a>`,
	`<a>&#xD800;</a>`,
	`<a>&#xFFFE;</a>`,
	`<a>&#x110000;</a>`,
	`<a>&#99999999999999999999999;</a>`,
	`<a>&#0000000000000000000065;</a>`,
	`<a>&;</a>`,
	`<a>& </a>`,
	`<a>&é;</a>`,
	`<a>&a:b;</a>`,
	`<a>]]>&bad;</a>`,
	`<a>&bad;]]></a>`,
	"<a>\x00</a>",
	"<a>\x01</a>",
	"<a>\x7f\u0080\u009f</a>",
	"<a>\xff</a>",
	"<a>\xc3</a>",
	"<a>\xed\xa0\x80</a>",
	"<a>\uFFFE</a>",
	"<a>\uFFFF</a>",
	"<a>\U0010FFFF</a>",
	"<a>ok\x01\n\n</a>",
	"<a b=\"\x01\"/>",
	"<a b=\"\xff\"/>",
	"<a>\r\n\r\r\n\n\r</a>",
	"<a b=\"\r\n\"/>",
	"<a>\r&amp;\n</a>",
	"<a>\r",
	"\r\n<a\r\nb\r\n=\r\n'c'\r\n/>\r\n",
	"\ufeff<a/>",
	"\xef\xbb\xbf<?xml version=\"1.0\"?><a/>",
	`<![CDATA[]]>`,
	`<a><![CDATA[x]]></a>`,
	`<a><![CDATA[]]]]></a>`,
	`<a><![CDATA[<&>]]></a>`,
	`<a><![CDATA[x]]`,
	`<a><![CDATA[x`,
	`<a><![CDAT[x]]></a>`,
	`<a><![cdata[x]]></a>`,
	"<a><![CDATA[\r\n\x01]]></a>",
	"<a><![CDATA[\xff]]></a>",
	`<!-- c -->`,
	`<!---->`,
	`<!--->`,
	`<!-- a -- b -->`,
	`<!-- a --->`,
	`<!-x-->`,
	`<!--`,
	`<!-- a -`,
	`<!-- a --`,
	"<!-- \x01\xff -->",
	`<?xml version="1.0" encoding="UTF-8"?><a/>`,
	`<?xml version="1.1"?><a/>`,
	`<?xml version='1.0' encoding='utf-8'?><a/>`,
	`<?xml version="1.0" encoding="ISO-8859-1"?><a/>`,
	`<?xml version="1.0" encoding="utf8"?><a/>`,
	`<?xml encoding="?><a/>`,
	`<?xml?><a/>`,
	`<??><a/>`,
	`<?pi data ?><a/>`,
	`<?pi`,
	`<?pi ?`,
	`<?x-y.z data?>`,
	`<?1 x?>`,
	`<!DOCTYPE a>`,
	`<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>`,
	`<!DOCTYPE a [<!-- c --><!ELEMENT a ANY>]>`,
	`<!DOCTYPE a "'>" '">'>`,
	`<!DOCTYPE a [<!- x>]>`,
	`<!DOCTYPE a [<!-- x`,
	`<!DOCTYPE a [<`,
	`<!>`,
	`<!'>'>`,
	`<!`,
	`<!DOCTYPE`,
	"<!DOCTYPE \xff\x01>",
	`<a><b><c><d></d></c></b></a>`,
	`<a>x</a>trailing`,
	`<a>x</a><b/>`,
	"<a>\n\n</a>\n<!-- \n -->\n",
	"<a\n\n",
	"<a\n\nb",
	"<a b\n=\n\"\n\"",
	"</a\n\n",
}

func TestHostile(t *testing.T) {
	for i, in := range hostile {
		t.Run(strconv.Itoa(i), func(t *testing.T) { check(t, []byte(in)) })
	}
}

// TestLarge crosses the Decoder's buffer and its reading of long tokens:
// text, attributes, comments, CDATA and names longer than a read, deep
// nesting and many small tokens.
func TestLarge(t *testing.T) {
	big := strings.Repeat("0123456789abcdef&amp;\r\n", 20000)
	cases := map[string]string{
		"text":      "<a>" + big + "</a>",
		"text-eof":  "<a>" + big,
		"bad-late":  "<a>" + big + "&bad;</a>",
		"attribute": `<a b="` + big + `"/>`,
		"attr-eof":  `<a b="` + big,
		"comment":   "<!--" + strings.Repeat("-x", 100000) + "-->",
		"cdata":     "<a><![CDATA[" + strings.Repeat("]]x", 100000) + "]]></a>",
		"name":      "<" + strings.Repeat("n", 300000) + "/>",
		"pi":        "<?p " + strings.Repeat("?x", 100000) + "?>",
		"directive": "<!DOCTYPE " + strings.Repeat(`'>'<x>`, 50000) + ">",
		"deep":      strings.Repeat("<a>", 50000) + strings.Repeat("</a>", 50000),
		"many":      "<r>" + strings.Repeat("<i a='1'>x&lt;</i>\n", 30000) + "</r>",
		"attrs":     "<a " + strings.Repeat(`b="1" `, 50000) + "/>",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			for _, rd := range reads {
				if rd.name == "bytewise" && (len(in) > 1<<18 || raceEnabled) {
					continue
				}
				want := stdOutcome(rd.wrap([]byte(in)))
				got := ourOutcome(rd.wrap([]byte(in)))
				if msg := compare(want, got); msg != "" {
					t.Fatalf("%s read: %s", rd.name, msg)
				}
			}
		})
	}
}

// seeds are the feeds of the module's testdata and the stored fuzz
// corpora of the packages that read feeds.
func seeds(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	root := filepath.Join("..", "..", "..")
	err := filepath.WalkDir(filepath.Join(root, "testdata"), func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() || filepath.Ext(path) != ".xml" {
			return err
		}
		b, err := os.ReadFile(path)
		out = append(out, b)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	for _, dir := range []string{"merge/testdata/fuzz", "feedsync/testdata/fuzz"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, e os.DirEntry, err error) error {
			if os.IsNotExist(err) {
				return filepath.SkipDir
			}
			if err != nil || e.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			// go test fuzz v1: one Go literal a line.
			for _, line := range strings.Split(string(b), "\n") {
				if s, ok := strings.CutPrefix(line, "[]byte("); ok {
					v, err := strconv.Unquote(strings.TrimSuffix(s, ")"))
					if err != nil {
						return fmt.Errorf("%s: %w", path, err)
					}
					out = append(out, []byte(v))
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	if len(out) < 10 {
		tb.Fatalf("only %d seed feeds found", len(out))
	}
	return out
}

func TestSeeds(t *testing.T) {
	for i, in := range seeds(t) {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			check(t, in)
			// Truncation at every point of a small feed, and at 500
			// points (a different set for each feed) of a larger one.
			points := 500
			if raceEnabled {
				points = 50
			}
			step := len(in)/points + 1
			for n := i % step; n < len(in); n += step {
				want := stdOutcome(bytes.NewReader(in[:n]))
				got := ourOutcome(bytes.NewReader(in[:n]))
				if msg := compare(want, got); msg != "" {
					t.Fatalf("first %d bytes: %s", n, msg)
				}
			}
		})
	}
}

// FuzzDifferential checks that xmltok and encoding/xml's RawToken (Strict)
// give the same tokens, offsets and lines, and end with the same error,
// on any input read in any of the ways of reads.
func FuzzDifferential(f *testing.F) {
	for _, in := range seeds(f) {
		f.Add(in)
	}
	for _, in := range hostile {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) { check(t, in) })
}
