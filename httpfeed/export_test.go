package httpfeed

import "time"

// SetHeadMaxAge sets how long h answers polls from the head it read
// (head.go), so that tests do not depend on how fast they run.
func SetHeadMaxAge(h *Handler, d time.Duration) { h.headMaxAge = d }
