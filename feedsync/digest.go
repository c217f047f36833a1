package feedsync

// Digest is a hash of an item's payload in a canonical form: namespace URIs
// instead of prefixes, whitespace-only text ignored, sx:sync left out. Two
// items with the same shared data have the same Digest whatever their
// formatting or prefixes.
type Digest [16]byte

// Digest returns the item's payload digest. Items read by a Reader or built
// by this package have it already; the error is for an item whose source
// bytes cannot be parsed.
func (it *Item) Digest() (Digest, error) {
	if it.hasDigest {
		return it.digest, nil
	}
	e, err := it.payload()
	if err != nil {
		return Digest{}, err
	}
	var sc *scope
	if it.src != nil {
		sc = it.src.scope
	}
	it.digest, it.hasDigest = digestElement(e, sc), true
	return it.digest, nil
}

// samePayload reports whether a and b carry the same payload. An item whose
// payload cannot be parsed is never the same as another.
//
// Payloads of different formats are compared in a's format: b is converted
// first (FS-FEED-10). Conversion gives the payload back after one round trip
// (ConvertItem), so a version that reached an endpoint directly and one
// that came through a feed of the other format carry the same payload, and
// a real difference is one (§17 A-18: the incoming payload wins).
func samePayload(a, b *Item) bool {
	if a.format != b.format && a.format != FormatUnknown && b.format != FormatUnknown {
		c, err := ConvertItem(b, a.format)
		if err != nil {
			return false
		}
		b = c
	}
	da, err1 := a.Digest()
	db, err2 := b.Digest()
	return err1 == nil && err2 == nil && da == db
}
