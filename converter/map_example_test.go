package converter_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/beevik/etree"

	"github.com/feedsync/go-feedsync/converter"
	"github.com/feedsync/go-feedsync/feedsync"
)

// A JSON record becomes an RSS item payload: title and link go into the
// standard elements, the other fields into elements of FieldNamespace. Reading
// the payload back gives the record again.
func ExampleMap() {
	dec := json.NewDecoder(strings.NewReader(`{"id":"task 7","title":"Buy stamps","link":"https://tasks.example.org/7","done":false,"tags":["post","errand"]}`))
	dec.UseNumber() // numbers come back as json.Number
	var rec map[string]any
	if err := dec.Decode(&rec); err != nil {
		panic(err)
	}

	m := converter.Map{Format: feedsync.RSS}
	id := m.SyncID(rec["id"].(string)) // "task 7" is not a valid sync id
	payload, err := m.ToPayload(id, rec)
	if err != nil {
		panic(err)
	}
	doc := etree.NewDocumentWithRoot(payload)
	doc.Indent(2)
	doc.WriteTo(os.Stdout)

	back, err := m.FromPayload(payload)
	if err != nil {
		panic(err)
	}
	fmt.Println(id, back["title"], back["done"], back["tags"])
	// Output:
	// <item xmlns:f="urn:feedsync:field">
	//   <title>Buy stamps</title>
	//   <link>https://tasks.example.org/7</link>
	//   <f:done type="boolean">false</f:done>
	//   <f:id>task 7</f:id>
	//   <f:tags type="array">[&quot;post&quot;,&quot;errand&quot;]</f:tags>
	// </item>
	// task%207 Buy stamps false [post errand]
}
