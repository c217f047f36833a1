package collection_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/feedsync/go-feedsync/collection"
	"github.com/feedsync/go-feedsync/consumer"
	"github.com/feedsync/go-feedsync/converter"
	"github.com/feedsync/go-feedsync/producer"
	"github.com/feedsync/go-feedsync/store"
)

// Task is the application's data; the struct tags place each field in the
// feed item (converter.Struct).
type Task struct {
	Title string `xml:"title"`
	Done  bool   `xml:"http://example.org/tasks done"`
}

// clock is a fixed clock, so the Example's output does not change.
func clock(hour int) func() time.Time {
	return func() time.Time { return time.Date(2009, 4, 1, hour, 0, 0, 0, time.UTC) }
}

// sync sends the items of from to to, as a feed (httpfeed does this over
// HTTP).
func sync(ctx context.Context, from, to store.Store, peer string) error {
	var feed bytes.Buffer
	if _, err := producer.Produce(ctx, from, "", &feed, producer.Options{}); err != nil {
		return err
	}
	_, err := consumer.Consume(ctx, to, &feed, consumer.Options{Peer: peer})
	return err
}

// An application keeps tasks by key; every call is one line, and the
// spec's rules are applied underneath.
func Example() {
	ctx := context.Background()
	st := store.NewMemory()
	defer st.Close()
	tasks := &collection.Collection[string, Task]{
		Store: st, Items: converter.Struct[Task]{}, IDs: converter.IDs[string]{}, By: "laptop",
	}

	tasks.Put(ctx, "stamps", Task{Title: "Buy stamps"})             // a create (FS-CREATE)
	tasks.Put(ctx, "fence", Task{Title: "Fix the fence"})           // a create
	tasks.Put(ctx, "stamps", Task{Title: "Buy stamps", Done: true}) // an update (FS-UPDATE)
	tasks.Delete(ctx, "fence")                                      // a tombstone (FS-DELETE)

	t, ok, err := tasks.Get(ctx, "stamps")
	fmt.Println(t, ok, err)
	for e, err := range tasks.All(ctx) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: %+v\n", e.Key, e.Value)
	}
	// Output:
	// {Buy stamps true} true <nil>
	// stamps: {Title:Buy stamps Done:true}
}

// Two endpoints change the same task before they sync: both keep both
// versions (FS-CONFLICT), the page lists them, and one is kept.
func ExampleCollection_Resolve() {
	ctx := context.Background()
	newTasks := func(by string, hour int) *collection.Collection[string, Task] {
		return &collection.Collection[string, Task]{
			Store: store.NewMemory(), Items: converter.Struct[Task]{}, IDs: converter.IDs[string]{},
			By: by, Now: clock(hour),
		}
	}
	laptop, phone := newTasks("laptop", 9), newTasks("phone", 10)
	defer laptop.Store.Close()
	defer phone.Store.Close()

	laptop.Put(ctx, "stamps", Task{Title: "Buy stamps"})
	sync(ctx, laptop.Store, phone.Store, "laptop")
	laptop.Put(ctx, "stamps", Task{Title: "Buy 10 stamps"})
	phone.Put(ctx, "stamps", Task{Title: "Buy 20 stamps"})
	sync(ctx, phone.Store, laptop.Store, "phone")

	conflicts, err := laptop.Conflicts(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range conflicts {
		for _, v := range c.Versions {
			fmt.Printf("%s: %q by %s at %s\n", c.Key, v.Value.Title, v.By, v.When.Format(time.Kitchen))
		}
	}
	if err := laptop.Resolve(ctx, "stamps", conflicts[0].Versions[1].Value); err != nil {
		fmt.Println(err)
		return
	}
	sync(ctx, laptop.Store, phone.Store, "laptop")
	t, _, _ := phone.Get(ctx, "stamps")
	conflicts, _ = phone.Conflicts(ctx)
	fmt.Printf("phone: %q, %d conflicts\n", t.Title, len(conflicts))
	// Output:
	// stamps: "Buy 20 stamps" by phone at 10:00AM
	// stamps: "Buy 10 stamps" by laptop at 9:00AM
	// phone: "Buy 10 stamps", 0 conflicts
}
