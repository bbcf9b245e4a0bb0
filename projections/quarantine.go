package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/svc/viewstate"
)

// StateDiverged is a projection whose checkpoint the log no longer backs:
// the log ends before it, or lost its start. It serves nothing (a stale
// answer would pass for a current one) until it is rebuilt.
const StateDiverged State = "diverged"

// maxQuarantined bounds the quarantine list kept; the count goes on.
const maxQuarantined = 1000

const quarantineFile = "quarantine.json"

// quarantineList is what the runner keeps of the messages the store
// quarantined: in memory, and beside the snapshots, since a restart
// resumes after them and would not see them again.
type quarantineList struct {
	Count uint64              `json:"count"`
	Items []events.Quarantine `json:"items"`
}

// quarantine records a placeholder the store delivered for a message that
// is not a valid commit. Called by the subscription's goroutine.
func (r *Runner) quarantine(q events.Quarantine) {
	r.qmu.Lock()
	defer r.qmu.Unlock()
	for _, old := range r.quarantined.Items {
		if old.Position == q.Position {
			return
		}
	}
	r.quarantined.Count++
	if len(r.quarantined.Items) < maxQuarantined {
		r.quarantined.Items = append(r.quarantined.Items, q)
	}
	r.log.Warn("skipped a message that is not a valid commit", "position", q.Position, "subject", q.Subject, "reason", q.Reason)
	if r.opts.Dir == "" {
		return
	}
	data, err := json.Marshal(r.quarantined)
	if err == nil {
		err = viewstate.WriteFileAtomic(filepath.Join(r.opts.Dir, quarantineFile), func(w io.Writer) error { _, err := w.Write(data); return err })
	}
	if err != nil {
		r.log.Warn("quarantine list not saved", "err", err)
	}
}

func (r *Runner) loadQuarantine() {
	if r.opts.Dir == "" {
		return
	}
	data, err := os.ReadFile(filepath.Join(r.opts.Dir, quarantineFile))
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	var list quarantineList
	if err == nil {
		err = json.Unmarshal(data, &list)
	}
	if err != nil {
		r.log.Warn("quarantine list unreadable", "err", err)
		return
	}
	r.qmu.Lock()
	r.quarantined = list
	r.qmu.Unlock()
}

// Quarantined reports how many messages the log holds that are not valid
// commits, as far as the runner has read, and (up to a thousand of) which.
func (r *Runner) Quarantined() (uint64, []events.Quarantine) {
	r.qmu.Lock()
	defer r.qmu.Unlock()
	return r.quarantined.Count, append([]events.Quarantine(nil), r.quarantined.Items...)
}

// bounded is a store that knows where its log starts.
type bounded interface {
	Bounds(ctx context.Context) (first, last uint64, err error)
}

// checkLog compares each projection's checkpoint with the log as it is now:
// a log that ends before a checkpoint, or whose first position moved, was
// reset, replaced or cut, and the views folded from the old one would
// answer for events the log no longer has and never see the new ones.
func (r *Runner) checkLog(ctx context.Context) {
	first, last := uint64(1), uint64(0)
	var err error
	if b, ok := r.store.(bounded); ok {
		first, last, err = b.Bounds(ctx)
	} else {
		last, err = r.store.Head(ctx)
	}
	if err != nil {
		r.log.Warn("cannot compare the checkpoints with the log", "err", err)
		return
	}
	for _, l := range r.lanes {
		if s := l.getState(); s != StateStarting && s != StateRunning {
			continue
		}
		var reason string
		switch c := l.checkpoint.Load(); {
		case first > 1:
			reason = fmt.Sprintf("the log starts at position %d, not 1: the events before it are gone", first)
		case c > last:
			reason = fmt.Sprintf("the log ends at position %d, before this view's checkpoint %d: the log was reset or replaced", last, c)
		default:
			continue
		}
		l.mu.Lock()
		l.diverged = reason
		l.state.Store(StateDiverged)
		l.mu.Unlock()
		r.log.Error("projection does not match the log; it serves nothing until rebuilt", "projection", l.p.Name(), "reason", reason)
	}
}

// serving refuses queries of a projection that must not answer.
func (l *lane) serving() error {
	if l.getState() != StateDiverged {
		return nil
	}
	l.mu.Lock()
	reason := l.diverged
	l.mu.Unlock()
	return fundbridge.Errorf(fundbridge.EUNAVAILABLE, "the %s view is not served: %s; an operator must rebuild it (fundbridge projections rebuild %s)", l.p.Name(), reason, l.p.Name())
}
