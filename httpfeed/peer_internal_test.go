package httpfeed

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		v    string
		want time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"99999999", time.Hour},
		{"soon", 0},
	} {
		if got := retryAfter(tc.v, now); got != tc.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

// The back-off doubles up to its limit, with at most a quarter of jitter
// taken off, and waits at least what a 429 or 503 answer asks.
func TestBackoff(t *testing.T) {
	plain := errors.New("connection refused")
	for failures, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 10: time.Minute, 100: time.Minute} {
		for range 20 {
			if got := backoff(failures, time.Minute, plain); got > want || got < want*3/4 {
				t.Errorf("backoff(%d) = %v, want within [%v, %v]", failures, got, want*3/4, want)
			}
		}
	}
	busy := &StatusError{StatusCode: http.StatusServiceUnavailable, RetryAfter: 30 * time.Second}
	if got := backoff(1, time.Minute, busy); got != 30*time.Second {
		t.Errorf("backoff after 503 with Retry-After 30s = %v, want 30s", got)
	}
	other := &StatusError{StatusCode: http.StatusInternalServerError, RetryAfter: 30 * time.Second}
	if got := backoff(1, time.Minute, other); got > time.Second {
		t.Errorf("backoff after 500 with Retry-After = %v, want the plain back-off", got)
	}
}
