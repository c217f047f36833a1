package export_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/feedsync/go-feedsync/converter/export"
)

func ExampleWrite() {
	const in = `<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"><channel>
<title>Tasks</title><link>https://tasks.example/</link><description>Shared</description>
<item><title>Buy stamps</title><sx:sync id="stamps-1" updates="1"><sx:history sequence="1" by="laptop"/></sx:sync></item>
<item><title>Old task</title><sx:sync id="old-1" updates="2" deleted="true"><sx:history sequence="2" by="laptop"/><sx:history sequence="1" by="laptop"/></sx:sync></item>
</channel></rss>`
	sum, err := export.Write(os.Stdout, strings.NewReader(in), export.Options{Format: export.JSON})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sum)
	// Output:
	// {
	//   "version": "https://jsonfeed.org/version/1.1",
	//   "title": "Tasks",
	//   "home_page_url": "https://tasks.example/",
	//   "description": "Shared",
	//   "items": [
	//     {
	//       "id": "urn:feedsync:stamps-1",
	//       "title": "Buy stamps"
	//     }
	//   ]
	// }
	// 1 exported, 1 tombstones left out, 0 with conflicts, 0 invalid
}
