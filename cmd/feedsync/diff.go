package main

import (
	"reflect"
	"slices"
	"strings"

	"github.com/beevik/etree"

	"github.com/feedsync/go-feedsync/converter"
	"github.com/feedsync/go-feedsync/feedsync"
)

// fieldChange is one part of a version's payload that differs from the
// winner's: a field as 'feedsync update' names it (converter.Map), or, for
// elements no field reads, the element's name in angle brackets with its
// XML. A nil side means the version does not have it.
type fieldChange struct {
	Field  string `json:"field"`
	Winner any    `json:"winner"`
	Copy   any    `json:"copy"`
}

// versionDiff returns what differs between the payloads of a conflict copy
// and the winner, fields first, in name order; nil when the payloads hold
// the same data (the versions may still differ in deleted, which the
// listing shows). Conflict copies are in the format of the item that holds
// them (FS-FEED-10), so both are read the same way.
func versionDiff(winner, copy *feedsync.Item) []fieldChange {
	wp, err := payloadOf(winner)
	if err != nil {
		return nil
	}
	cp, err := payloadOf(copy)
	if err != nil {
		return nil
	}
	cm := converter.Map{Format: winner.Format()}
	wf, err := cm.FromPayload(wp)
	if err != nil {
		return nil
	}
	cf, err := cm.FromPayload(cp)
	if err != nil {
		return nil
	}
	var out []fieldChange
	for _, k := range unionKeys(wf, cf) {
		if !reflect.DeepEqual(wf[k], cf[k]) {
			out = append(out, fieldChange{Field: k, Winner: wf[k], Copy: cf[k]})
		}
	}
	we, ce := otherElements(cm, wp), otherElements(cm, cp)
	for _, k := range unionKeys(we, ce) {
		if we[k] != ce[k] {
			c := fieldChange{Field: "<" + k + ">"}
			if v, ok := we[k]; ok {
				c.Winner = v
			}
			if v, ok := ce[k]; ok {
				c.Copy = v
			}
			out = append(out, c)
		}
	}
	return out
}

// otherElements returns, by name, the XML of the payload's children that no
// field reads (several with one name are joined).
func otherElements(cm converter.Map, payload *etree.Element) map[string]string {
	out := map[string]string{}
	for _, c := range payload.ChildElements() {
		if cm.Known(c) {
			continue
		}
		doc := etree.NewDocument()
		doc.SetRoot(c.Copy())
		s, err := doc.WriteToString()
		if err != nil {
			continue
		}
		out[c.FullTag()] += strings.TrimSpace(s)
	}
	return out
}

func unionKeys[V any](a, b map[string]V) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
