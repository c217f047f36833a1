package itemrow

// dict is the preset dictionary of the stored form encDict (RFC 1951 §2.2
// "preset dictionary", flate.NewReaderDict): markup that standalone items
// of the three formats repeat, and words common in English text, so that
// an item of a kilobyte or two finds back-references from its first byte
// instead of spelling out what every item spells out.
//
// Rows of the encDict form depend on these exact bytes: never change them
// (TestDictPinned checks). A different dictionary takes a new first byte.
// The strings met most often are at the end, where the distances to them
// are shortest.
const dict = ` the of and to in is that for it as was with be by on not he this are or his from at which but have an had they you were their one all we can her has there been if more when will would who so no she other its may these about than them some into only could new time two most also after first what over any very out our then such like just those many how where made did each even well both because through before while between during should under without against people year years week day days today tomorrow yesterday morning evening please thank thanks note notes list task tasks item items update updated review send call meeting project report order price email reply check again still back next last here there now 
<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"><channel><title></title><link></link><description></description><item><title></title><link>https://</link><description></description><author></author><category></category><comments></comments><enclosure url="" length="" type=""/><guid isPermaLink="false"></guid><pubDate>Mon, Tue, Wed, Thu, Fri, Sat, Sun, Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec GMT</pubDate><source url=""></source></item>
<sx:sharing since="" until="" window=""><sx:related link="" title="" type="complete"/></sx:sharing><sx:conflicts><sx:sync id="" updates="" deleted="true" noconflicts="true"><sx:history sequence="" when="" by=""/></sx:sync></sx:conflicts>
<entry xmlns="http://www.w3.org/2005/Atom"><title type="text"></title><id>urn:uuid:</id><updated></updated><published></published><author><name></name><email></email><uri></uri></author><contributor><name></name></contributor><link rel="alternate" type="text/html" href="https://"/><summary type="html"></summary><category term="" label=""/><rights></rights><content type="text">. The </content>
<sx:sync xmlns:sx="http://feedsync.org/2007/feedsync" id="" updates="1" deleted="false"><sx:history sequence="1" when="2026-01-01T00:00:00Z" by=""/><sx:history sequence="2" when="T12:00:00Z" by=""/></sx:sync></entry></item>`
