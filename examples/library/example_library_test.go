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

	"github.com/feedsync/go-feedsync/consumer"
	"github.com/feedsync/go-feedsync/converter"
	"github.com/feedsync/go-feedsync/feedsync"
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
	conv := converter.Struct[Task]{} // RSS <item> payloads
	var ids converter.IDs[string]    // application keys <-> sync ids
	laptop := feedsync.Stamp{By: "laptop", When: time.Date(2009, 4, 1, 9, 0, 0, 0, time.UTC)}

	// Publish: each task becomes an item (FS-CREATE) in a store...
	st := store.NewMemory() // or open.Open(ctx, "sqlite:tasks.db")
	defer st.Close()
	tx, err := st.Begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, t := range []struct {
		key  string
		task Task
	}{
		{"stamps", Task{Title: "Buy stamps"}},
		{"fence", Task{Title: "Fix the fence"}},
		{"shed", Task{Title: "Paint the shed"}},
	} {
		id, err := ids.SyncID(t.key)
		if err != nil {
			return err
		}
		payload, err := conv.ToPayload(id, t.task)
		if err != nil {
			return err
		}
		it, err := feedsync.Create(feedsync.RSS, payload, id, laptop, false)
		if err != nil {
			return err
		}
		if _, err := tx.Put(ctx, it); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	// ...and the store gives the feed to publish: the complete one, as no
	// token is given (the Result's Token, given next time, asks for the
	// changes since).
	var feed bytes.Buffer
	if _, err := producer.Produce(ctx, st, "", &feed, producer.Options{}); err != nil {
		return err
	}

	// Another endpoint, phone, reads the feed and marks the stamps done: an
	// update (FS-UPDATE) in the feed it publishes.
	_, items, err := feedsync.ReadAll(&feed)
	if err != nil {
		return err
	}
	fmt.Printf("published %d items\n", len(items))
	phone := feedsync.Stamp{By: "phone", When: laptop.When.Add(time.Hour)}
	var changed []*feedsync.Item
	for _, it := range items {
		if it.ID() != "stamps" {
			continue
		}
		task, err := converter.FromItem[Task](conv, it)
		if err != nil {
			return err
		}
		task.Done = true
		payload, err := conv.ToPayload(it.ID(), task)
		if err != nil {
			return err
		}
		it, err = feedsync.Update(it, payload, phone)
		if err != nil {
			return err
		}
		changed = append(changed, it)
	}
	var phoneFeed bytes.Buffer
	h := feedsync.NewHeader(feedsync.RSS, feedsync.FeedInfo{Title: "Tasks (phone)"})
	if err := feedsync.WriteAll(&phoneFeed, h, changed); err != nil {
		return err
	}

	// Merge phone's feed back (FS-MERGE), in one transaction.
	sum, err := consumer.Consume(ctx, st, &phoneFeed, consumer.Options{Peer: "phone"})
	if err != nil {
		return err
	}
	fmt.Println(sum)

	// Read the tasks back, in the order of their latest change.
	rtx, err := st.Begin(ctx, false)
	if err != nil {
		return err
	}
	defer rtx.Rollback()
	for it, err := range rtx.All(ctx) {
		if err != nil {
			return err
		}
		key, err := ids.AppID(it.ID())
		if err != nil {
			return err
		}
		task, err := converter.FromItem[Task](conv, it)
		if err != nil {
			return err
		}
		fmt.Printf("%s: %+v", key, task)
		if by := it.Sync.Top().By; by != "laptop" {
			fmt.Printf(" (updated by %s)", by)
		}
		fmt.Println()
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
	// published 3 items
	// 0 new, 1 updated, 0 deleted, 0 conflicts, 0 unchanged, 0 rejected
	// fence: {Title:Fix the fence Done:false}
	// shed: {Title:Paint the shed Done:false}
	// stamps: {Title:Buy stamps Done:true} (updated by phone)
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
