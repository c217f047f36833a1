package converter_test

import (
	"fmt"
	"time"

	"github.com/feedsync/go-feedsync/converter"
	"github.com/feedsync/go-feedsync/feedsync"
)

// Application keys become sync ids and endpoint names become by values,
// one to one; an anonymous history entry gets an endpoint name from its
// when and sequence.
func ExampleIDs() {
	var strs converter.IDs[string]
	id, _ := strs.SyncID("tasks/7 (Ann's)")
	key, _ := strs.AppID(id)
	fmt.Println(id, "→", key)

	var ints converter.IDs[int64]
	id, _ = ints.SyncID(-42)
	n, _ := ints.AppID(id)
	fmt.Println(id, "→", n)
	_, err := ints.AppID("042")
	fmt.Println(err)

	var uuids converter.IDs[[16]byte]
	u, _ := uuids.AppID("1b4e28ba-2fa1-4d2e-883f-0016d3cca427")
	fmt.Printf("%x\n", u)

	by, _ := strs.ByFromEndpoint("ann@example.org/phone")
	endpoint, _ := strs.EndpointFromBy(by)
	fmt.Println(by, "→", endpoint)

	h := feedsync.History{Sequence: 2, When: time.Date(2009, 3, 5, 11, 0, 0, 0, time.FixedZone("CET", 3600))}
	fmt.Println(strs.AnonymousEndpoint(h))
	// Output:
	// tasks%2F7%20(Ann's) → tasks/7 (Ann's)
	// -42 → -42
	// converter: invalid id: sync id "042" as int64 key: not in canonical decimal form
	// 1b4e28ba2fa14d2e883f0016d3cca427
	// ann@example.org%2Fphone → ann@example.org/phone
	// anonymous/2009-03-05T10:00:00Z/2
}
