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
// Payloads of different formats cannot be compared: converting between RSS
// and Atom is not an exact round trip (FS-FEED-10). They count as the same,
// so re-merging a peer that writes the other format changes nothing
// (FS-MERGE-14); the metadata has already been found equal by the caller.
func samePayload(a, b *Item) bool {
	if a.format != b.format && a.format != FormatUnknown && b.format != FormatUnknown {
		return true
	}
	da, err1 := a.Digest()
	db, err2 := b.Digest()
	return err1 == nil && err2 == nil && da == db
}
