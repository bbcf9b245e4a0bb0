package jetstream

import (
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/fundbridge/fundbridge/events"
)

// A message on an event subject that is not a valid commit (garbage
// published by hand, a commit filed under another stream's subject) is
// quarantined: recorded with its position and reason, and skipped by every
// read. Retrying it would stall every reader behind it for good.

// maxQuarantined bounds what the store remembers; the count goes on.
const maxQuarantined = 1000

type quarantined struct {
	mu    sync.Mutex
	byPos map[uint64]events.Quarantine
	count uint64
}

// quarantine records the message at seq on subject as not a commit.
func (s *Store) quarantine(seq uint64, subject string, reason error) events.Quarantine {
	q := &s.bad
	q.mu.Lock()
	defer q.mu.Unlock()
	if old, ok := q.byPos[seq]; ok {
		return old
	}
	e := events.Quarantine{Position: seq, Subject: subject, Reason: reason.Error(), SeenAt: time.Now().UTC()}
	if q.byPos == nil {
		q.byPos = map[uint64]events.Quarantine{}
	}
	q.count++
	if len(q.byPos) < maxQuarantined {
		q.byPos[seq] = e
	}
	slog.Default().Warn("quarantined a message that is not a valid commit; every reader skips it", "position", seq, "subject", subject, "reason", e.Reason)
	return e
}

// Quarantined reports how many messages this store has quarantined since
// it opened and (up to a thousand of) which, by position.
func (s *Store) Quarantined() (uint64, []events.Quarantine) {
	q := &s.bad
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]events.Quarantine, 0, len(q.byPos))
	for _, e := range q.byPos {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Position < out[j].Position })
	return q.count, out
}

var (
	errForeignSubject = errors.New("the commit names another stream than its subject")
	// errForeignEvent: an event of a type another service's aggregates
	// hold (events.Registry.Home), filed by whoever may write here.
	errForeignEvent = errors.New("the commit holds an event that does not belong in its stream")
)

// decodeOn decodes the body of the message on subject, and checks that
// the commit belongs there.
func (s *Store) decodeOn(data []byte, subject string, reuse *commit) (*commit, error) {
	c, err := decodeCommitReusing(data, reuse)
	if err != nil {
		return nil, err
	}
	if !s.belongs(c.Stream, subject) {
		return nil, fmt.Errorf("%w (stream %q)", errForeignSubject, c.Stream)
	}
	if s.registry != nil {
		for i := range c.Events {
			if !s.registry.BelongsIn(c.Stream, c.Events[i].Type) {
				return nil, fmt.Errorf("%w (%s in stream %q)", errForeignEvent, c.Events[i].Type, c.Stream)
			}
		}
	}
	return c, nil
}

// belongs reports whether subject is the subject of stream, without
// building it: prefix "." type "." id, for stream "type-id".
func (s *Store) belongs(stream, subject string) bool {
	p := s.opts.SubjectPrefix
	i := 0
	for i < len(stream) && stream[i] != '-' {
		i++
	}
	if i == 0 || i >= len(stream)-1 || len(subject) != len(p)+1+len(stream) {
		return false
	}
	rest := subject[len(p)+1:]
	return subject[:len(p)] == p && subject[len(p)] == '.' &&
		rest[:i] == stream[:i] && rest[i] == '.' && rest[i+1:] == stream[i+1:]
}
