// Package library_test is the program of the README's section "The
// library", kept as an Example so that it runs with the tests and cannot
// drift from the code.
package library_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/feedsync/go-feedsync/collection"
	"github.com/feedsync/go-feedsync/consumer"
	"github.com/feedsync/go-feedsync/converter"
	"github.com/feedsync/go-feedsync/producer"
	"github.com/feedsync/go-feedsync/store"
)

// Task is the application's data. The struct tags say where each field
// goes in the feed item (converter.Struct).
type Task struct {
	Title string `xml:"title"`
	Done  bool   `xml:"http://example.org/tasks done"`
}

// run publishes three tasks, lets phone mark one done, merges phone's feed
// back and prints the tasks.
func run(ctx context.Context) error {
	// The application's tasks, by key, in a store (or open.Open(ctx,
	// "sqlite:tasks.db")); each change is stamped by laptop.
	st := store.NewMemory()
	defer st.Close()
	tasks := &collection.Collection[string, Task]{
		Store: st,
		Items: converter.Struct[Task]{}, // RSS <item> payloads
		IDs:   converter.IDs[string]{},  // application keys <-> sync ids
		By:    "laptop",
		Now:   func() time.Time { return time.Date(2009, 4, 1, 9, 0, 0, 0, time.UTC) },
	}
	for _, t := range []struct{ key, title string }{
		{"stamps", "Buy stamps"}, {"fence", "Fix the fence"}, {"shed", "Paint the shed"},
	} {
		if err := tasks.Put(ctx, t.key, Task{Title: t.title}); err != nil { // a create (FS-CREATE)
			return err
		}
	}
	// The store gives the feed to publish: the complete one, as no token is
	// given (the Result's Token, given next time, asks for the changes since).
	var feed bytes.Buffer
	if _, err := producer.Produce(ctx, st, "", &feed, producer.Options{}); err != nil {
		return err
	}

	// Another endpoint, phone, merges the feed into its own store and marks
	// the stamps done: an update (FS-UPDATE) in the feed it publishes.
	phoneStore := store.NewMemory()
	defer phoneStore.Close()
	if _, err := consumer.Consume(ctx, phoneStore, &feed, consumer.Options{Peer: "laptop"}); err != nil {
		return err
	}
	phone := &collection.Collection[string, Task]{
		Store: phoneStore, Items: converter.Struct[Task]{}, IDs: converter.IDs[string]{}, By: "phone",
	}
	if err := phone.Put(ctx, "stamps", Task{Title: "Buy stamps", Done: true}); err != nil {
		return err
	}
	var phoneFeed bytes.Buffer
	if _, err := producer.Produce(ctx, phoneStore, "", &phoneFeed, producer.Options{}); err != nil {
		return err
	}

	// Merge phone's feed back (FS-MERGE), in one transaction.
	sum, err := consumer.Consume(ctx, st, &phoneFeed, consumer.Options{Peer: "phone"})
	if err != nil {
		return err
	}
	fmt.Println(sum)

	// Read the tasks back, in the order of their latest change.
	for e, err := range tasks.All(ctx) {
		if err != nil {
			return err
		}
		fmt.Printf("%s: %+v\n", e.Key, e.Value)
	}
	return nil
}

// An application publishes its tasks as a FeedSync feed, another endpoint
// marks one done in its copy, and the application merges that endpoint's
// feed back and reads its tasks again.
func Example() {
	if err := run(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 0 new, 1 updated, 0 deleted, 0 conflicts, 2 unchanged, 0 rejected
	// fence: {Title:Fix the fence Done:false}
	// shed: {Title:Paint the shed Done:false}
	// stamps: {Title:Buy stamps Done:true}
}

// TestREADME checks that the README's section "The library" shows this
// program as it is: from Task to the end of run.
func TestREADME(t *testing.T) {
	src, err := os.ReadFile("example_library_test.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, program, ok1 := strings.Cut(string(src), "\n)\n\n") // the end of the imports
	program, _, ok2 := strings.Cut(program, "\n// An application publishes")
	if !ok1 || !ok2 {
		t.Fatal("cannot find the program in example_library_test.go")
	}
	program = strings.TrimSpace(program)
	if !strings.Contains(string(readme), "```go\n"+program+"\n```\n") {
		t.Errorf("README.md does not show the program of Example; copy it from example_library_test.go (from Task to the end of run) into the section \"The library\":\n%s", program)
	}
}
