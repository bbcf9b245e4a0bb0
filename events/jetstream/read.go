package jetstream

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/jsget"
	"github.com/fundbridge/fundbridge/internal/spans"
)

// directReads is how many commits a stream read fetches one by one from
// the leader before it switches to an ordered consumer, where batched
// direct gets are not allowed or a replica answered short: short streams
// are cheaper without one.
const directReads = 8

// ReadStream returns the stream's events from version from.
func (s *Store) ReadStream(ctx context.Context, streamID string, from uint64) ([]events.Event, error) {
	return s.ReadStreamAfter(ctx, streamID, from, 0)
}

// ReadStreamAfter is ReadStream for a caller that knows no event at or
// after version from has a position at or before after, as a snapshot
// taken at that position does. It lets the read start there.
func (s *Store) ReadStreamAfter(ctx context.Context, streamID string, from, after uint64) ([]events.Event, error) {
	subject, err := s.subject(streamID)
	if err != nil {
		return nil, err
	}
	if from == 0 {
		from = 1
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	var out []events.Event
	err = s.scanCommits(ctx, streamID, subject, after+1, from, func(seq uint64, c *commit) bool {
		if out == nil {
			// The scan has read the head: room for every event up to it.
			if h, ok := s.heads.get(streamID); ok && h.version >= from {
				out = make([]events.Event, 0, min(h.version-from+1, 1<<16))
			}
		}
		if c.last() >= from {
			out = c.appendEvents(out, seq, from)
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// scanCommits calls fn with each commit of one event stream at or after
// stream sequence start, in order, until fn returns false. It reads up to
// the stream's head as of the call. from is the first version the caller
// wants (1 for all): with start, it tells a short read from a long one.
func (s *Store) scanCommits(ctx context.Context, streamID, subject string, start, from uint64, fn func(seq uint64, c *commit) bool) error {
	// A read that looks short sends its batch before it asks the leader
	// for the head: the two round trips overlap.
	var first *pendingBatch
	if s.batching() && s.looksShort(streamID, start, from) {
		if b, err := s.sendBatch(subject, start); err == nil {
			first = b
			defer b.close()
		}
	}
	if first == nil && s.opts.Replicas == 1 && s.looksLong(streamID, start, from) {
		return s.consumeToHead(ctx, streamID, subject, start, fn)
	}
	last, err := s.lastOn(ctx, subject)
	if errors.Is(err, njs.ErrMsgNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", streamID, unavailable(err))
	}
	if start > last.Sequence {
		return nil
	}
	lastCommit, err := s.decodeOn(last.Data, subject, new(commit))
	if err != nil {
		// The last message is no commit: read the subject through, skipping it.
		s.quarantine(last.Sequence, subject, err)
		return s.consume(ctx, []string{subject}, start, func(m njs.Msg, seq uint64) (bool, error) {
			if c, err := s.decodeOn(m.Data(), subject, new(commit)); err != nil {
				s.quarantine(seq, subject, err)
			} else if !fn(seq, c) {
				return false, nil
			}
			return seq < last.Sequence, nil
		})
	}
	s.heads.put(streamID, head{version: lastCommit.last(), seq: last.Sequence})
	if lastCommit.First == 1 || start == last.Sequence {
		// The whole stream, or all that is left of it, is its last commit.
		fn(last.Sequence, lastCommit)
		return nil
	}

	seq := start
	if s.batching() {
		if first != nil || short(start, from, lastCommit.last()) {
			var done bool
			if seq, done, err = s.scanDirect(ctx, subject, start, last.Sequence, lastCommit, first, fn); done || err != nil {
				return err
			}
		}
		// A long read, or a short one a replica answered short: the leader's
		// ordered consumer from here.
		return s.consumeCommits(ctx, subject, seq, last.Sequence, fn)
	}
	for i := 0; i < directReads; i++ {
		msg, err := readAgain(ctx, func(ctx context.Context) (*njs.RawStreamMsg, error) {
			return s.leaderGet(ctx, jsget.Request{Seq: seq, NextFor: subject})
		})
		if err != nil {
			return fmt.Errorf("read %s from %d: %w", streamID, seq, unavailable(err))
		}
		c := lastCommit
		if msg.Sequence != last.Sequence {
			if c, err = s.decodeOn(msg.Data, subject, new(commit)); err != nil {
				s.quarantine(msg.Sequence, subject, err)
				c = nil
			}
		}
		if c != nil && !fn(msg.Sequence, c) || msg.Sequence == last.Sequence {
			return nil
		}
		seq = msg.Sequence + 1
	}
	return s.consumeCommits(ctx, subject, seq, last.Sequence, fn)
}

// consumeCommits calls fn with each commit on subject from stream sequence
// start through last, read by an ordered consumer, until fn says stop.
func (s *Store) consumeCommits(ctx context.Context, subject string, start, last uint64, fn func(seq uint64, c *commit) bool) error {
	return s.consume(ctx, []string{subject}, start, s.commitsOn(subject, func(seq uint64, c *commit) bool {
		return (c == nil || fn(seq, c)) && seq < last
	}))
}

// commitsOn decodes each message on subject a consumer delivers and hands
// fn the commit, or nil for a message that is none (quarantined).
func (s *Store) commitsOn(subject string, fn func(seq uint64, c *commit) bool) func(m njs.Msg, seq uint64) (bool, error) {
	return func(m njs.Msg, seq uint64) (bool, error) {
		c, err := s.decodeOn(m.Data(), subject, new(commit))
		if err != nil {
			s.quarantine(seq, subject, err)
			c = nil
		}
		return fn(seq, c), nil
	}
}

// consumeToHead calls fn with each commit on subject from stream sequence
// start up to the subject's last message when the read began, read by an
// ordered consumer, until fn says stop. On one server the consumer's
// create answers with how many messages it will deliver, so a long read
// needs no get of the head before it (a round trip); in a cluster the
// consumer may sit on a replica that is behind, and the leader's head
// bounds the read instead (scanCommits).
func (s *Store) consumeToHead(ctx context.Context, streamID, subject string, start uint64, fn func(seq uint64, c *commit) bool) error {
	var last head
	lastIsCommit, stopped := false, false
	err := s.consumeUpTo(ctx, []string{subject}, start, true, s.commitsOn(subject, func(seq uint64, c *commit) bool {
		if lastIsCommit = c != nil; c == nil {
			return true
		}
		last = head{version: c.last(), seq: seq}
		stopped = !fn(seq, c)
		return !stopped
	}))
	// Only a read that reached the subject's last message, a commit, saw
	// the head an append is checked against.
	if err == nil && lastIsCommit && !stopped {
		s.heads.put(streamID, last)
	}
	return err
}

// looksLong reports whether the head the store last saw makes a read
// from stream sequence start, wanting versions from from on, a long one.
func (s *Store) looksLong(streamID string, start, from uint64) bool {
	h, ok := s.heads.get(streamID)
	return ok && !short(start, from, h.version)
}

// directMost is the most events a read expects for it to read by batched
// direct gets. Per message, the server's direct get costs more than an
// ordered consumer's delivery (it rewrites each message's headers), while
// the consumer costs its create and delete: measured on this code, the
// direct get is the faster up to a couple of hundred commits.
const directMost = 128

// looksShort guesses, before the head is read, whether a read will be
// short: by the head the store last saw, or else by whether it starts
// after a snapshot (whose tail is short, the repository snapshotting every
// 100 events). A wrong guess costs time, never an event.
func (s *Store) looksShort(streamID string, start, from uint64) bool {
	if h, ok := s.heads.get(streamID); ok {
		return short(start, from, h.version)
	}
	return start > 1 && from > 1
}

// short reports whether a read from stream sequence start, wanting the
// versions from from on of a stream whose head is at version head, reads
// at most directMost commits: a read from the stream's start reads them
// all, one after a snapshot only those after it.
func short(start, from, head uint64) bool {
	if start <= 1 || from <= 1 {
		return head <= directMost
	}
	return head < from || head-from < directMost
}

// ReadAll returns up to limit events after the given position, whole commits only.
func (s *Store) ReadAll(ctx context.Context, after uint64, limit int) ([]events.Event, error) {
	if limit <= 0 {
		limit = 1000
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	headSeq, err := s.Head(ctx)
	if err != nil {
		return nil, err
	}
	if headSeq <= after {
		return nil, nil
	}
	var out []events.Event
	err = s.consume(ctx, nil, after+1, func(m njs.Msg, seq uint64) (bool, error) {
		c, err := s.decodeOn(m.Data(), m.Subject(), new(commit))
		if err != nil {
			s.quarantine(seq, m.Subject(), err)
			return seq < headSeq, nil
		}
		out = c.appendEvents(out, seq, 1)
		return len(out) < limit && seq < headSeq, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// subscribeOwn is Subscribe on a consumer of its own, from after. Once
// handOff (if set) says so after a whole commit, it stops and returns that
// commit's position with handed true: the feed takes over from there.
//
// Decoding and fn run on a goroutine of their own, fed in order by the one
// reading the consumer: catching up, reading and decoding overlap. fn is
// never called after subscribeOwn returns.
func (s *Store) subscribeOwn(ctx context.Context, after uint64, fn func(events.Event) error, handOff func(pos uint64) bool) (last uint64, handed bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type delivery struct {
		data    []byte
		subject string
		seq     uint64
		trace   string // the append's trace context, if it was traced
	}
	queue := make(chan delivery, subscribeQueue)
	handled := make(chan error, 1)
	last = after
	go func() {
		reuse := new(commit) // fn gets events, never the commit: decode into one
		for d := range queue {
			c, err := s.decodeOn(d.data, d.subject, reuse)
			done, err := s.deliver(ctx, d.seq, d.subject, d.trace, c, err, fn)
			if err != nil {
				handled <- err
				cancel()
				return
			}
			if !done {
				handled <- nil
				return
			}
			last = d.seq
			if handOff != nil && handOff(d.seq) {
				handed = true
				handled <- nil
				cancel()
				return
			}
		}
		handled <- nil
	}()
	err = s.consume(ctx, nil, after+1, func(m njs.Msg, seq uint64) (bool, error) {
		select {
		case queue <- delivery{m.Data(), m.Subject(), seq, traceOf(m)}:
			return true, nil
		case <-ctx.Done():
			return false, ctx.Err()
		}
	})
	close(queue)
	if ferr := <-handled; ferr != nil {
		return last, false, ferr // fn failed
	}
	if handed || ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return last, handed, nil
	}
	return last, false, err
}

// traceOf is the trace context kept with a commit's message, "" if none.
func traceOf(m njs.Msg) string {
	h := m.Headers()
	if len(h) == 0 {
		return ""
	}
	return h.Get(spans.Header)
}

// subscribeQueue is how many commits Subscribe reads ahead of fn.
const subscribeQueue = 256

// consume runs an ordered consumer from stream sequence start and calls fn
// for each message until fn says stop, fn fails, or ctx ends. The ordered
// consumer recreates itself on any gap, so fn sees every message once, in
// order, across reconnects.
func (s *Store) consume(ctx context.Context, subjects []string, start uint64, fn func(m njs.Msg, seq uint64) (bool, error)) error {
	return s.consumeUpTo(ctx, subjects, start, false, fn)
}

// consumeUpTo is consume, and if counted, only up to the last message on
// subjects when the consumer was made, however many are appended meanwhile.
func (s *Store) consumeUpTo(ctx context.Context, subjects []string, start uint64, counted bool, fn func(m njs.Msg, seq uint64) (bool, error)) error {
	cfg := njs.OrderedConsumerConfig{
		FilterSubjects:    subjects,
		DeliverPolicy:     njs.DeliverByStartSequencePolicy,
		OptStartSeq:       start,
		InactiveThreshold: 30 * time.Second,
	}
	if start <= 1 {
		cfg.DeliverPolicy, cfg.OptStartSeq = njs.DeliverAllPolicy, 0
	}
	cons, err := s.js.OrderedConsumer(ctx, s.opts.Stream, cfg)
	if err != nil {
		return fmt.Errorf("ordered consumer: %w", unavailable(err))
	}
	it, err := cons.Messages(njs.PullMaxMessages(1024))
	if err != nil {
		return fmt.Errorf("ordered consumer: %w", unavailable(err))
	}
	defer func() {
		it.Stop()
		if info := cons.CachedInfo(); info != nil {
			// The reader has what it came for: it does not wait for the
			// server to drop the consumer (a round trip); the inactive
			// threshold drops one whose delete is lost.
			go func() {
				dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
				_ = s.js.DeleteConsumer(dctx, s.opts.Stream, info.Name)
				cancel()
			}()
		}
	}()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	left := uint64(math.MaxUint64)
	if counted {
		// What the consumer had to deliver when it was made: the messages
		// on subjects from start, up to the last one then.
		info := cons.CachedInfo()
		if info == nil {
			return errors.New("ordered consumer: no info after its create")
		}
		if left = info.NumPending; left == 0 {
			return nil
		}
	}
	for {
		m, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("ordered consumer: %w", unavailable(err))
		}
		seq, ok := streamSequence(m.Reply())
		if !ok {
			md, err := m.Metadata()
			if err != nil {
				return fmt.Errorf("ordered consumer: %w", err)
			}
			seq = md.Sequence.Stream
		}
		more, err := fn(m, seq)
		if left--; err != nil || !more || left == 0 {
			return err
		}
	}
}

// streamSequence reads the stream sequence from a JetStream ack subject,
// as m.Metadata does but without building the rest of the metadata:
//
//	$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<tm>.<pending>
//	$JS.ACK.<domain>.<hash>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<tm>.<pending>[.<token>...]
//
// It reports false for anything else, and Metadata has the last word.
func streamSequence(reply string) (uint64, bool) {
	const prefix = "$JS.ACK."
	if !strings.HasPrefix(reply, prefix) {
		return 0, false
	}
	var dots [12]int // offsets of the first dots
	n := 0
	for i := 0; i < len(reply); i++ {
		if reply[i] == '.' {
			if n < len(dots) {
				dots[n] = i
			}
			n++
		}
	}
	var token int // index of <sseq> among the dot-separated tokens
	switch tokens := n + 1; {
	case tokens == 9:
		token = 5
	case tokens >= 11:
		token = 7
	default:
		return 0, false
	}
	digits := reply[dots[token-1]+1 : dots[token]]
	seq, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0, false
	}
	return seq, true
}

func (c *commit) event(i int, position uint64) events.Event {
	e := c.Events[i]
	return events.Event{
		ID:             e.ID,
		Type:           e.Type,
		StreamID:       c.Stream,
		Version:        c.First + uint64(i),
		Position:       position,
		RecordedAt:     c.RecordedAt,
		Actor:          c.Actor,
		CorrelationID:  c.CorrelationID,
		CausationID:    c.CausationID,
		Command:        c.Command,
		IdempotencyKey: c.IdempotencyKey,
		LastInCommit:   i == len(c.Events)-1,
		Payload:        e.Payload,
	}
}
