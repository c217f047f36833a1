package feedsync

// Digest is a hash of an item's payload in a canonical form: namespace URIs
// instead of prefixes, whitespace-only text ignored, sx:sync left out. Two
// items with the same shared data have the same Digest whatever their
// formatting or prefixes.
type Digest [16]byte

// Digest returns the item's payload digest.
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
func samePayload(a, b *Item) bool {
	da, err1 := a.Digest()
	db, err2 := b.Digest()
	return err1 == nil && err2 == nil && da == db
}
