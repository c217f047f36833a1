package httpfeed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
)

// Problem is the body of an error response, an RFC 9457 problem details
// object sent as application/problem+json, and the form of each rejected
// item in a Summary:
//
//	{"title": "Bad Request", "status": 400, "error": "end tag </item> does not match: expected </title>", "line": 12}
//
// Its type is always "about:blank" (left out, as RFC 9457 allows): the
// problem is what the status says, and Title is the status's phrase. Error,
// Item and Line are extension members: the message, the sync id of the
// item the problem is about and the line of the request body where it is,
// when known.
//
// Status is the response's status code. In a rejection of a Summary, where
// there is no title, it is the status the problem would have alone: 403
// for an item the sender may not write (FS-TRUST-1), 413 for one whose
// result would exceed the limits (FS-ROBUST-6); 0 for an invalid item
// (FS-ROBUST-1).
type Problem struct {
	Title  string `json:"title,omitempty"`
	Status int    `json:"status,omitempty"`
	Error  string `json:"error"`
	Item   string `json:"item,omitempty"`
	Line   int    `json:"line,omitempty"`
}

// problemOf returns the Problem that describes err, with the item and line
// of the innermost *feedsync.ItemError or *feedsync.SyntaxError.
func problemOf(err error) Problem {
	var ie *feedsync.ItemError
	if errors.As(err, &ie) {
		return Problem{Error: ie.Err.Error(), Item: ie.ID, Line: ie.Line}
	}
	var se *feedsync.SyntaxError
	if errors.As(err, &se) {
		return Problem{Error: se.Msg, Line: se.Line}
	}
	return Problem{Error: err.Error()}
}

// storeProblem is the Problem of a failure to read the store: msg, which
// says no more than that, unless an item is stored beyond the reader's
// limits (store.ErrOversized). That one is named, with its limit and the
// command that repairs it: it breaks every feed until the server's
// operator repairs it, and the message names nothing else of the server.
func storeProblem(err error, msg string) Problem {
	var oe *store.OversizedError
	if errors.As(err, &oe) {
		return Problem{Error: oe.Error(), Item: oe.ID}
	}
	if errors.Is(err, store.ErrOversized) {
		return Problem{Error: "an item is stored beyond the reader's limits (FS-ROBUST-6); the server's log names it"}
	}
	return Problem{Error: msg}
}

// Errors a POST can fail with, besides the feed's own.
var (
	errTooManyItems = errors.New("httpfeed: too many items")
	errBodyTooLarge = errors.New("httpfeed: request body too large")
)

// classify maps an error of a POST merge to a status and the Problem the
// client sees. Problems in the request get 4xx and say exactly what is
// wrong; failures of the server get 5xx and a generic message (the details,
// which may name tables or files, go to the log only).
func (h *Handler) classify(ctx context.Context, err error) (int, Problem) {
	var mbe *http.MaxBytesError
	var pm *errPeerMark
	switch {
	case errors.As(err, &pm):
		return http.StatusConflict, Problem{Error: pm.Error() + "; nothing was merged"}
	case errors.Is(context.Cause(ctx), errTooManyItems):
		return http.StatusRequestEntityTooLarge, Problem{Error: fmt.Sprintf("the feed has more than %d items; nothing was merged", h.maxItems())}
	case errors.As(err, &mbe), errors.Is(err, errBodyTooLarge):
		return http.StatusRequestEntityTooLarge, Problem{Error: "request body larger than " + strconv.FormatInt(h.maxBody(), 10) + " bytes; nothing was merged"}
	case errors.Is(err, feedsync.ErrLimit):
		p := problemOf(err)
		p.Error += "; nothing was merged"
		return http.StatusRequestEntityTooLarge, p
	case errors.Is(err, store.ErrClosed):
		return http.StatusServiceUnavailable, Problem{Error: "the store is closed; nothing was merged"}
	case errors.Is(err, store.ErrOversized):
		// The server's item, not the request, is at fault.
		p := storeProblem(err, "")
		p.Error += "; nothing was merged"
		return http.StatusInternalServerError, p
	case ctx.Err() != nil:
		// The client went away or the server is stopping: the merge was
		// rolled back. Nobody may read this answer.
		return http.StatusServiceUnavailable, Problem{Error: "request cancelled; nothing was merged"}
	}
	var ie *feedsync.ItemError
	var se *feedsync.SyntaxError
	if errors.As(err, &ie) || errors.As(err, &se) || errors.Is(err, feedsync.ErrNotFeed) ||
		errors.Is(err, feedsync.ErrDuplicateID) || errors.Is(err, feedsync.ErrInvalidSync) {
		p := problemOf(err)
		p.Error += "; nothing was merged"
		return http.StatusBadRequest, p
	}
	return http.StatusInternalServerError, Problem{Error: "internal error; nothing was merged"}
}

// mediaProblem is the media type of RFC 9457 problem details.
const mediaProblem = "application/problem+json"

// writeProblem sends p as an error response with status code: an RFC 9457
// problem whose title and status are the code's.
func writeProblem(w http.ResponseWriter, code int, p Problem) {
	p.Title, p.Status = http.StatusText(code), code
	writeBody(w, code, mediaProblem, p)
}

// writeJSON sends v as a JSON response with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	writeBody(w, code, "application/json", v)
}

// writeBody sends v in JSON as a response of media type media with status
// code.
func writeBody(w http.ResponseWriter, code int, media string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, media = http.StatusInternalServerError, mediaProblem
		b = []byte(`{"title":"Internal Server Error","status":500,"error":"internal error"}`)
	}
	b = append(b, '\n')
	h := w.Header()
	h.Set("Content-Type", media+"; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Encoding")
	w.WriteHeader(code)
	w.Write(b)
}
