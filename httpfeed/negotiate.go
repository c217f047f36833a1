package httpfeed

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/klauspost/compress/zstd"
)

// Media types of the two feed formats.
const (
	mediaRSS  = "application/rss+xml"
	mediaAtom = "application/atom+xml"
)

// contentType returns the Content-Type of a feed in format f.
func contentType(f feedsync.Format) string {
	if f == feedsync.Atom {
		return mediaAtom + "; charset=utf-8"
	}
	return mediaRSS + "; charset=utf-8"
}

// errBadFormat is returned by requestFormat for an unknown ?format.
var errBadFormat = errors.New("unknown format (want rss or atom)")

// requestFormat returns the format a request asks for: ?format=rss|atom,
// else the feed type its Accept header prefers, else FormatUnknown (the
// store's own). explicit reports whether the request named a feed format at
// all, which makes a POST answer with a feed instead of a JSON summary.
func requestFormat(r *http.Request) (f feedsync.Format, explicit bool, err error) {
	return queryFormat(r, r.URL.Query())
}

// queryFormat is requestFormat with the request's query parsed already.
func queryFormat(r *http.Request, query url.Values) (f feedsync.Format, explicit bool, err error) {
	if q := query.Get("format"); q != "" {
		f, err := feedsync.ParseFormat(strings.ToLower(q))
		if err != nil {
			return feedsync.FormatUnknown, false, errBadFormat
		}
		return f, true, nil
	}
	f, explicit = acceptFormat(r.Header.Values("Accept"))
	return f, explicit, nil
}

// acceptFormat returns the feed format an Accept header prefers: the one of
// application/rss+xml and application/atom+xml with the higher q value, or
// FormatUnknown (the store's own) when both have the same. listed reports
// whether either is acceptable at all.
func acceptFormat(values []string) (f feedsync.Format, listed bool) {
	best, bestQ, tie := feedsync.FormatUnknown, 0.0, false
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			media, q := mediaRange(part)
			var f feedsync.Format
			switch media {
			case mediaRSS:
				f = feedsync.RSS
			case mediaAtom:
				f = feedsync.Atom
			default:
				continue
			}
			switch {
			case q > bestQ:
				best, bestQ, tie = f, q, false
			case q == bestQ && q > 0 && f != best:
				tie = true
			}
		}
	}
	if tie {
		return feedsync.FormatUnknown, true
	}
	return best, best != feedsync.FormatUnknown
}

// mediaRange splits one element of an Accept or Accept-Encoding header into
// its lower-case value and q parameter (1 when absent, 0 when malformed).
func mediaRange(part string) (string, float64) {
	media, params, _ := strings.Cut(part, ";")
	q := 1.0
	for p := range strings.SplitSeq(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
			x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || x < 0 || x > 1 {
				x = 0
			}
			q = x
		}
	}
	return strings.ToLower(strings.TrimSpace(media)), q
}

// coding is the content coding of a response body.
type coding uint8

const (
	codingIdentity coding = iota
	codingGzip
	codingZstd
)

// String returns the coding's Content-Encoding value ("" for identity).
func (c coding) String() string {
	switch c {
	case codingGzip:
		return "gzip"
	case codingZstd:
		return "zstd"
	}
	return ""
}

// acceptedEncodings is the Accept-Encoding header of every Handler
// response: the codings a request body may have (RFC 9110 §12.5.3). A
// Client sends zstd bodies only to a server that said so.
const acceptedEncodings = "zstd, gzip"

// responseCoding returns the content coding of a response to r: zstd when
// its Accept-Encoding accepts zstd at least as much as gzip, else gzip when
// accepted, else identity. A q of 0 refuses a coding. "*" is not read, so
// that requests without zstd or gzip named get what they always got.
func responseCoding(r *http.Request) coding {
	gzipQ, zstdQ := 0.0, 0.0
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			switch c, q := mediaRange(part); c {
			case "gzip", "x-gzip":
				gzipQ = max(gzipQ, q)
			case "zstd":
				zstdQ = max(zstdQ, q)
			}
		}
	}
	switch {
	case zstdQ > 0 && zstdQ >= gzipQ:
		return codingZstd
	case gzipQ > 0:
		return codingGzip
	}
	return codingIdentity
}

// etag returns the weak entity tag of a feed response: a digest of
// everything the feed is made from. The store's id and latest sequence
// number stand for its content, since every change takes a new number; the
// format, the since token and the peer choose which feed of that content is
// sent. It is weak because two responses with the same tag are equivalent
// feeds, not byte-identical ones (an Atom feed's updated time, gzip).
//
// What the store knows about the peer is not in the tag. Without a new
// sequence number it changes only when the peer sends versions older than
// it sent before, that is, when it lost data; such a peer needs the
// complete feed anyway (FS-FEED-4), which has a tag of its own (no since).
// more names what else chooses the response (a page's bounds).
func etag(storeID string, last int64, f feedsync.Format, since, peer string, more ...string) string {
	d := sha256.New()
	for _, s := range append([]string{"v1", storeID, strconv.FormatInt(last, 10), f.String(), since, peer}, more...) {
		io.WriteString(d, s)
		d.Write([]byte{0})
	}
	var sum [sha256.Size]byte
	return `W/"` + hex.EncodeToString(d.Sum(sum[:0])[:16]) + `"`
}

// noneMatch reports whether an If-None-Match header lists tag (weak
// comparison, RFC 9110 §13.1.2), or is "*".
func noneMatch(values []string, tag string) bool {
	want := strings.TrimPrefix(tag, "W/")
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			t = strings.TrimSpace(t)
			if t == "*" || strings.TrimPrefix(t, "W/") == want {
				return true
			}
		}
	}
	return false
}

// Response buffering.
const (
	// bufferLimit is how much of a feed response is held before the status
	// line goes out. An error found before then still becomes a 500 with
	// a Problem; a body that fits entirely gets a Content-Length. Empty
	// and small incremental feeds, the common case of polling, always fit.
	bufferLimit = 64 << 10
	// minGzip is the smallest body worth compressing: below it the gzip
	// (or zstd) header and trailer outweigh the savings.
	minGzip = 1024
	// zstdWindow is the window of the zstd streams the package writes, and
	// maxZstdWindow the largest it reads: RFC 8878 §3.1.1.1.2 has HTTP
	// decoders accept 8 MiB, which bounds a decoder's memory whatever the
	// stream claims. 1 MiB spans many items, which is where a feed's
	// repetition is; a larger one costs memory in every pooled encoder.
	zstdWindow    = 1 << 20
	maxZstdWindow = 8 << 20
)

var (
	bufioPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}
	bufPool   = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}
	gzipPool  = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed); return w }}
	// zstd encoders are expensive to make (tables of several hundred KiB),
	// so they are pooled like the gzip writers. Fastest: see newZstdWriter.
	zstdPool = sync.Pool{New: func() any { return newZstdWriter(nil) }}
)

// newZstdWriter returns a zstd encoder writing to w at SpeedFastest. On
// the pages of BenchmarkServePull it sends 7% fewer bytes than gzip's
// BestSpeed for 15% less CPU of the whole pull; SpeedDefault would send
// 10% fewer bytes again but cost 18% more CPU than SpeedFastest, more than
// gzip, a poor trade when the server's CPU is what a pull costs. One
// goroutine: requests are the concurrency.
func newZstdWriter(w io.Writer) *zstd.Encoder {
	zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(zstdWindow), zstd.WithZeroFrames(true)) // an empty body is a frame too, as with gzip
	if err != nil {
		panic("httpfeed: zstd encoder: " + err.Error()) // constant options
	}
	return zw
}

// compressor is a pooled gzip or zstd writer.
type compressor interface {
	io.WriteCloser
	Reset(io.Writer)
}

// getCompressor returns a pooled writer of coding c writing to w.
func getCompressor(c coding, w io.Writer) compressor {
	var zw compressor
	if c == codingZstd {
		zw = zstdPool.Get().(*zstd.Encoder)
	} else {
		zw = gzipPool.Get().(*gzip.Writer)
	}
	zw.Reset(w)
	return zw
}

// putCompressor returns zw to its pool.
func putCompressor(zw compressor) {
	zw.Reset(io.Discard)
	switch zw := zw.(type) {
	case *zstd.Encoder:
		zstdPool.Put(zw)
	case *gzip.Writer:
		gzipPool.Put(zw)
	}
}

// feedWriter is the body of a feed response. It holds the first
// bufferLimit bytes; then, or at Close, it sends the header (compressed
// with the coding when there is one and it is worth it) and streams the
// rest.
type feedWriter struct {
	rw      http.ResponseWriter
	coding  coding
	buf     *[]byte
	started bool
	zw      compressor
	out     io.Writer
	n       int64 // body bytes written, before compression
}

func newFeedWriter(rw http.ResponseWriter, c coding) *feedWriter {
	return &feedWriter{rw: rw, coding: c, buf: bufPool.Get().(*[]byte)}
}

func (f *feedWriter) Write(p []byte) (int, error) {
	f.n += int64(len(p))
	if f.started {
		return f.out.Write(p)
	}
	if len(*f.buf)+len(p) <= bufferLimit {
		*f.buf = append(*f.buf, p...)
		return len(p), nil
	}
	if err := f.start(false); err != nil {
		return 0, err
	}
	return f.out.Write(p)
}

// start sends the status line and headers, then the buffered bytes.
// complete says the whole body is in the buffer.
func (f *feedWriter) start(complete bool) error {
	f.started = true
	h := f.rw.Header()
	b := *f.buf
	if f.coding != codingIdentity && (!complete || len(b) >= minGzip) {
		h.Set("Content-Encoding", f.coding.String())
		h.Del("Content-Length")
		f.zw = getCompressor(f.coding, f.rw)
		f.out = f.zw
	} else {
		if complete {
			h.Set("Content-Length", strconv.Itoa(len(b)))
		}
		f.out = f.rw
	}
	f.rw.WriteHeader(http.StatusOK)
	_, err := f.out.Write(b)
	f.release()
	return err
}

// release returns the buffer to its pool.
func (f *feedWriter) release() {
	if f.buf == nil {
		return
	}
	if cap(*f.buf) <= bufferLimit {
		*f.buf = (*f.buf)[:0]
		bufPool.Put(f.buf)
	}
	f.buf = nil
}

// Close sends what is still buffered and ends the compressed stream.
func (f *feedWriter) Close() error {
	if !f.started {
		if err := f.start(true); err != nil {
			return err
		}
	}
	if f.zw != nil {
		err := f.zw.Close()
		putCompressor(f.zw)
		f.zw = nil
		return err
	}
	return nil
}

// small returns a copy of the body written so far when it is all still
// buffered and too small to be compressed (so the same bytes go out
// whatever the client accepts); else nil.
func (f *feedWriter) small() []byte {
	if f.started || len(*f.buf) >= minGzip {
		return nil
	}
	return append([]byte(nil), *f.buf...)
}

// discard drops what is buffered, before an error response replaces it.
// It reports false when part of the body has been sent already.
func (f *feedWriter) discard() bool {
	if f.started {
		return false
	}
	f.release()
	return true
}
