package itemrow

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/feedsync/go-feedsync/store"
)

// mark is a store.Mark as the database stores keep it, in the marks
// column: a JSON list of [unix seconds, seq] pairs. The list is short
// (store.Compact keeps one mark per compaction within the retention
// window, and thins them), so a column serves better than a table.
type mark [2]int64

// EncodeMarks returns the marks column for ms.
func EncodeMarks(ms []store.Mark) (string, error) {
	out := make([]mark, len(ms))
	for i, m := range ms {
		out[i] = mark{m.At.Unix(), m.Seq}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", fmt.Errorf("encode retention marks: %w", err)
	}
	return string(b), nil
}

// DecodeMarks reads back a marks column.
func DecodeMarks(s string) ([]store.Mark, error) {
	var in []mark
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("decode retention marks: %w", err)
	}
	if len(in) == 0 {
		return nil, nil
	}
	ms := make([]store.Mark, len(in))
	for i, m := range in {
		ms[i] = store.Mark{At: time.Unix(m[0], 0).UTC(), Seq: m[1]}
	}
	return ms, nil
}
