package jetstream

import (
	"context"
	"errors"
	"fmt"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/fundbridge/fundbridge/events"
)

// directReads is how many commits a stream read fetches one by one before
// it switches to an ordered consumer: short streams are cheaper without one.
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
	err = s.scanCommits(ctx, streamID, subject, after+1, func(seq uint64, c *commit) bool {
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
// the stream's head as of the call.
func (s *Store) scanCommits(ctx context.Context, streamID, subject string, start uint64, fn func(seq uint64, c *commit) bool) error {
	last, err := s.stream.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, njs.ErrMsgNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", streamID, unavailable(err))
	}
	lastCommit, err := decodeCommit(last.Data)
	if err != nil {
		return fmt.Errorf("read %s at %d: %w", streamID, last.Sequence, err)
	}
	s.heads.put(streamID, head{version: lastCommit.last(), seq: last.Sequence})
	if start > last.Sequence {
		return nil
	}
	if lastCommit.First == 1 || start == last.Sequence {
		// The whole stream, or all that is left of it, is its last commit.
		fn(last.Sequence, lastCommit)
		return nil
	}

	seq := start
	for i := 0; i < directReads; i++ {
		msg, err := s.stream.GetMsg(ctx, seq, njs.WithGetMsgSubject(subject))
		if err != nil {
			return fmt.Errorf("read %s from %d: %w", streamID, seq, unavailable(err))
		}
		c := lastCommit
		if msg.Sequence != last.Sequence {
			if c, err = decodeCommit(msg.Data); err != nil {
				return fmt.Errorf("read %s at %d: %w", streamID, msg.Sequence, err)
			}
		}
		if !fn(msg.Sequence, c) || msg.Sequence == last.Sequence {
			return nil
		}
		seq = msg.Sequence + 1
	}
	return s.consume(ctx, []string{subject}, seq, func(m njs.Msg, seq uint64) (bool, error) {
		c, err := decodeCommit(m.Data())
		if err != nil {
			return false, fmt.Errorf("read %s at %d: %w", streamID, seq, err)
		}
		return fn(seq, c) && seq < last.Sequence, nil
	})
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
		c, err := decodeCommit(m.Data())
		if err != nil {
			return false, fmt.Errorf("read all at %d: %w", seq, err)
		}
		out = c.appendEvents(out, seq, 1)
		return len(out) < limit && seq < headSeq, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Subscribe delivers every event after the given position, then live ones.
func (s *Store) Subscribe(ctx context.Context, after uint64, fn func(events.Event) error) error {
	err := s.consume(ctx, nil, after+1, func(m njs.Msg, seq uint64) (bool, error) {
		c, err := decodeCommit(m.Data())
		if err != nil {
			return false, fmt.Errorf("subscribe at %d: %w", seq, err)
		}
		for i := range c.Events {
			if err := fn(c.event(i, seq)); err != nil {
				return false, err
			}
		}
		return true, nil
	})
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil
	}
	return err
}

// consume runs an ordered consumer from stream sequence start and calls fn
// for each message until fn says stop, fn fails, or ctx ends. The ordered
// consumer recreates itself on any gap, so fn sees every message once, in
// order, across reconnects.
func (s *Store) consume(ctx context.Context, subjects []string, start uint64, fn func(m njs.Msg, seq uint64) (bool, error)) error {
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
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			_ = s.js.DeleteConsumer(dctx, s.opts.Stream, info.Name)
			cancel()
		}
	}()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	for {
		m, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("ordered consumer: %w", unavailable(err))
		}
		md, err := m.Metadata()
		if err != nil {
			return fmt.Errorf("ordered consumer: %w", err)
		}
		more, err := fn(m, md.Sequence.Stream)
		if err != nil || !more {
			return err
		}
	}
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
		IdempotencyKey: c.IdempotencyKey,
		LastInCommit:   i == len(c.Events)-1,
		Payload:        e.Payload,
	}
}
