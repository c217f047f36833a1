package converter_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/feedsync/go-feedsync/converter"
	"github.com/feedsync/go-feedsync/feedsync"
)

// An application that keeps its items as XML text hands the text to Raw
// and gets it back from the synchronized item; a payload with a document
// type declaration is refused.
func ExampleRaw() {
	var raw converter.Raw
	in := []byte(`<entry xmlns="http://www.w3.org/2005/Atom"><id>urn:x</id><title>Fence repair</title><updated>2009-04-02T11:00:00Z</updated></entry>`)
	payload, err := raw.ToPayload("", in)
	if err != nil {
		panic(err)
	}
	format := converter.RawFormat(payload)
	stamp := feedsync.Stamp{By: "laptop", When: time.Date(2009, 4, 2, 11, 0, 0, 0, time.UTC)}
	item, err := feedsync.Create(format, payload, "fence-1", stamp, false)
	if err != nil {
		panic(err)
	}
	out, err := converter.FromItem[[]byte](raw, item)
	if err != nil {
		panic(err)
	}
	fmt.Println(format, string(out) == string(in))

	_, err = raw.ToPayload("", []byte(`<!DOCTYPE item [<!ENTITY x SYSTEM "file:///etc/passwd">]><item>&x;</item>`))
	fmt.Println(errors.Is(err, converter.ErrUnsafeXML))
	fmt.Println(err)
	// Output:
	// atom true
	// true
	// converter: unsafe or non-namespace-well-formed XML: raw payload line 1: <!DOCTYPE> (document type declarations and entities are refused)
}
