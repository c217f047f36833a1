package httpfeed

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// errBadZstd marks a request body that is not a valid zstd stream.
var errBadZstd = errors.New("not valid zstd")

// zstdDecoders holds single-goroutine decoders, which are expensive to
// make. Their window is bounded (maxZstdWindow) so that a stream cannot
// make a decoder allocate what it claims; the decoded size is bounded by
// the reader around it (boundedReader: a zstd bomb is refused like a gzip
// one).
var zstdDecoders = sync.Pool{New: func() any {
	zr, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow),
		zstd.WithDecoderMaxMemory(maxZstdWindow))
	if err != nil {
		panic("httpfeed: zstd decoder: " + err.Error()) // constant options
	}
	return zr
}}

// zstdBody decodes a zstd request body. It tells a failure to read the
// body (too large, cut off), which it passes on as it came, from a stream
// that is not zstd (errBadZstd) and one whose window is larger than the
// package reads (errBodyTooLarge).
type zstdBody struct {
	src *errReader
	zr  *zstd.Decoder
}

// errReader remembers the error of the reader under a decoder.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

func newZstdBody(r io.Reader) (*zstdBody, error) {
	b := &zstdBody{src: &errReader{r: r}, zr: zstdDecoders.Get().(*zstd.Decoder)}
	if err := b.zr.Reset(b.src); err != nil {
		b.close()
		return nil, err
	}
	return b, nil
}

func (b *zstdBody) Read(p []byte) (int, error) {
	n, err := b.zr.Read(p)
	switch {
	case err == nil || err == io.EOF:
	case b.src.err != nil:
		err = b.src.err
	case errors.Is(err, zstd.ErrWindowSizeExceeded), errors.Is(err, zstd.ErrDecoderSizeExceeded):
		err = fmt.Errorf("%w: zstd window larger than %d bytes", errBodyTooLarge, maxZstdWindow)
	default:
		err = fmt.Errorf("%w: %w", errBadZstd, err)
	}
	return n, err
}

// close returns the decoder to its pool.
func (b *zstdBody) close() {
	if b.zr != nil {
		b.zr.Reset(nil)
		zstdDecoders.Put(b.zr)
		b.zr = nil
	}
}

// clientZstdDecoders holds the decoders of response bodies. A client
// reads other servers than Handler, so it takes the window RFC 8878 has
// every HTTP decoder take, 8 MiB, and no more.
var clientZstdDecoders = sync.Pool{New: func() any {
	zr, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow))
	if err != nil {
		panic("httpfeed: zstd decoder: " + err.Error()) // constant options
	}
	return zr
}}

// decodeBody replaces the body of resp with its decoding when it has a
// Content-Encoding of zstd or gzip. The client asks for them itself
// (Accept-Encoding), so net/http leaves the body as it came.
func decodeBody(resp *http.Response) error {
	enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding")))
	if enc == "" || enc == "identity" || resp.StatusCode == http.StatusNotModified || resp.ContentLength == 0 ||
		resp.Request.Method == http.MethodHead {
		return nil
	}
	var body io.ReadCloser
	switch enc {
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return fmt.Errorf("response body is not gzip: %w", err)
		}
		body = &decodedBody{Reader: zr, raw: resp.Body}
	case "zstd":
		zr := clientZstdDecoders.Get().(*zstd.Decoder)
		if err := zr.Reset(resp.Body); err != nil {
			clientZstdDecoders.Put(zr)
			return fmt.Errorf("response body is not zstd: %w", err)
		}
		body = &decodedBody{Reader: zr, raw: resp.Body, zr: zr}
	default:
		return fmt.Errorf("response has Content-Encoding %q, not the zstd or gzip asked for", enc)
	}
	resp.Body = body
	resp.Header.Del("Content-Encoding")
	resp.Header.Del("Content-Length")
	resp.ContentLength = -1
	resp.Uncompressed = true
	return nil
}

// decodedBody is a decoded response body; Close closes the body it reads
// and returns a zstd decoder to its pool.
type decodedBody struct {
	io.Reader
	raw  io.ReadCloser
	zr   *zstd.Decoder
	once sync.Once
}

func (d *decodedBody) Close() error {
	err := d.raw.Close()
	d.once.Do(func() {
		if d.zr != nil {
			d.zr.Reset(nil)
			clientZstdDecoders.Put(d.zr)
		}
	})
	return err
}
