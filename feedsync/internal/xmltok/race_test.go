//go:build race

package xmltok

// raceEnabled makes the differential tests sample less: the decoder runs on
// one goroutine, and the race detector slows encoding/xml's byte-at-a-time
// reading twentyfold.
const raceEnabled = true
