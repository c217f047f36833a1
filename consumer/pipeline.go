package consumer

import (
	"context"
	"sync"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/merge"
)

// pipelineDepth is how many store writes may wait for the writer goroutine.
const pipelineDepth = 64

// pipeline is the local side ConsumeTx gives merge.Run: a Local whose store
// work runs on a goroutine of its own, so that reading and parsing the next
// incoming item (on Run's goroutine) overlaps writing the previous one. On a
// machine with two cores this takes a consume close to the cost of the
// slower of the two, instead of their sum: parsing is about half the work
// of an initial load into SQLite (see BenchmarkConsume).
//
// The transaction is used by the writer goroutine only (a Tx is not safe
// for concurrent use), in the order Run made its calls. Put and Observe
// queue their write and return; Get waits for the writes queued before it,
// except where Local needs no store lookup (an id not put yet, in a store
// that was empty). A failed write fails every later call, and close returns
// it: the caller rolls the transaction back.
type pipeline struct {
	l    *Local
	ctx  context.Context
	ops  chan op
	done chan struct{}

	mu  sync.Mutex
	err error // first failure of the writer
}

// op is one call for the writer: a Put (put set), an Observe (observe set)
// or a Get (reply set).
type op struct {
	put, observe *feedsync.Item
	id           string
	reply        chan getReply
}

type getReply struct {
	it  *feedsync.Item
	err error
}

var (
	_ merge.Local    = (*pipeline)(nil)
	_ merge.Observer = (*pipeline)(nil)
)

// newPipeline starts the writer for l. It reads the store's LastSeq first,
// on the caller's goroutine, so that Get knows whether the store was empty
// without asking the writer.
func newPipeline(ctx context.Context, l *Local) (*pipeline, error) {
	if err := l.check(ctx); err != nil {
		return nil, err
	}
	p := &pipeline{l: l, ctx: ctx, ops: make(chan op, pipelineDepth), done: make(chan struct{})}
	go p.write()
	return p, nil
}

// write runs the queued calls in order until the queue is closed.
func (p *pipeline) write() {
	defer close(p.done)
	for o := range p.ops {
		if err := p.failed(); err != nil {
			if o.reply != nil {
				o.reply <- getReply{err: err}
			}
			continue
		}
		var err error
		switch {
		case o.reply != nil:
			var it *feedsync.Item
			it, err = p.l.tx.Get(p.ctx, o.id)
			o.reply <- getReply{it, err}
		case o.put != nil:
			_, err = p.l.tx.Put(p.ctx, o.put)
		case o.observe != nil:
			err = p.l.Observe(p.ctx, o.observe)
		}
		if err != nil {
			p.fail(err)
		}
	}
}

func (p *pipeline) failed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

func (p *pipeline) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = err
	}
}

// Get returns the stored item with sync id id, or nil, nil (Local.Get).
func (p *pipeline) Get(ctx context.Context, id string) (*feedsync.Item, error) {
	if err := p.failed(); err != nil {
		return nil, err
	}
	if !p.l.lookup(id) {
		return nil, nil
	}
	reply := make(chan getReply, 1)
	p.ops <- op{id: id, reply: reply}
	r := <-reply
	return r.it, r.err
}

// Put queues the store write of the merge result (Local.Put). A failure
// shows up in a later call or in close.
func (p *pipeline) Put(ctx context.Context, it *feedsync.Item, _ feedsync.Outcome) error {
	if err := p.failed(); err != nil {
		return err
	}
	p.l.remember(it.ID())
	p.ops <- op{put: it}
	return nil
}

// Observe queues the record of the version the peer sent (Local.Observe).
func (p *pipeline) Observe(ctx context.Context, incoming *feedsync.Item) error {
	if err := p.failed(); err != nil {
		return err
	}
	if p.l.peer == "" {
		return nil
	}
	p.ops <- op{observe: incoming}
	return nil
}

// close waits for the queued writes and returns the first failure.
func (p *pipeline) close() error {
	close(p.ops)
	<-p.done
	return p.failed()
}

// consumeTx is ConsumeTx through a pipeline.
func consumeTx(ctx context.Context, r *feedsync.Reader, l *Local, opts merge.Options) (merge.Summary, error) {
	p, err := newPipeline(ctx, l)
	if err != nil {
		return merge.Summary{}, err
	}
	sum, err := merge.Run(ctx, p, r, opts)
	if cerr := p.close(); err == nil && cerr != nil {
		err = cerr
	}
	return sum, err
}
