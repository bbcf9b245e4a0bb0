package projections

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/fundbridge/fundbridge/services/svc/viewstate"
)

// A snapshot file holds one projection's state with the checkpoint it
// matches, in the checkpoint file format of viewstate (shared with the
// services' views), written atomically.

func snapshotPath(dir, name string) string { return viewstate.Path(dir, name) }

// SnapshotInfo describes a saved snapshot.
type SnapshotInfo struct {
	Name     string
	Schema   string
	Position uint64 // the checkpoint the state matches
	Events   uint64
	SavedAt  time.Time
}

// ReadSnapshot reads the named projection's snapshot in dir, checked,
// and returns its state as the projection encoded it: for tools that
// inspect snapshots.
func ReadSnapshot(dir, name string) (SnapshotInfo, []byte, error) {
	h, state, err := viewstate.Read(snapshotPath(dir, name))
	if err != nil {
		return SnapshotInfo{}, nil, fmt.Errorf("snapshot of %s: %w", name, err)
	}
	return SnapshotInfo{Name: h.Name, Schema: h.Schema, Position: h.Position, Events: h.Events, SavedAt: h.SavedAt}, state, nil
}

// loadAll restores every projection not yet loaded from its snapshot; one
// without a usable snapshot starts empty, to fold from position 0.
func (r *Runner) loadAll() {
	if r.opts.Dir != "" {
		if err := os.MkdirAll(r.opts.Dir, 0o755); err != nil {
			r.log.Error("snapshot directory unusable; folding from 0", "dir", r.opts.Dir, "err", err)
		}
	}
	for _, l := range r.lanes {
		l.lastSave = time.Now() // the interval runs from the start
		if l.getState() != StateStarting {
			continue
		}
		if r.opts.Dir != "" {
			r.load(l)
		}
	}
}

func (r *Runner) load(l *lane) {
	name := l.p.Name()
	viewstate.RemoveLeftovers(r.opts.Dir, name) // saves cut short by a crash
	start := time.Now()
	h, state, err := viewstate.Read(snapshotPath(r.opts.Dir, name))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return
	case err != nil:
		r.log.Warn("snapshot unreadable; folding from 0", "projection", name, "err", err)
		return
	case h.Name != name || h.Schema != l.p.Schema():
		r.log.Info("snapshot of another schema; folding from 0", "projection", name, "schema", h.Schema, "want", l.p.Schema())
		return
	}
	if err := l.p.UnmarshalState(state); err != nil {
		l.p.Reset()
		r.log.Warn("snapshot undecodable; folding from 0", "projection", name, "err", err)
		return
	}
	l.checkpoint.Store(h.Position) // queries wait until the log is checked against it (Run)
	l.applied.Store(h.Events)
	l.mu.Lock()
	l.savedPos, l.savedAt, l.savedBytes, l.restored = h.Position, h.SavedAt, len(state), h.Position
	l.mu.Unlock()
	r.log.Info("projection restored", "projection", name, "position", h.Position, "bytes", len(state), "took", time.Since(start).Round(time.Millisecond))
}

// due reports whether the lane should be saved at a commit boundary now.
func (r *Runner) due(l *lane, now time.Time) bool {
	return r.opts.Dir != "" && l.sinceSave > 0 && (l.sinceSave >= r.opts.SaveEvery || now.Sub(l.lastSave) >= r.opts.SaveInterval)
}

// save writes the lane's state, in the background unless forced. The
// caller applies the lane's events, so the state it marshals matches the
// checkpoint.
func (r *Runner) save(l *lane, force bool) {
	if r.opts.Dir == "" || !l.active() {
		return
	}
	pos := l.checkpoint.Load()
	if l.saving != nil {
		if !force {
			select {
			case <-l.saving:
			default:
				return // the last write is still going: try at a later append
			}
		} else {
			<-l.saving
		}
		l.saving = nil
	}
	l.mu.Lock()
	unchanged := l.savedPos == pos && !l.savedAt.IsZero()
	l.mu.Unlock()
	if unchanged && l.sinceSave == 0 {
		return
	}
	var encode func() ([]byte, error)
	if f, ok := l.p.(Freezer); ok {
		encode = f.Freeze()
	} else {
		state, err := l.p.MarshalState()
		encode = func() ([]byte, error) { return state, err }
	}
	l.sinceSave, l.lastSave = 0, time.Now()
	h := viewstate.Header{Name: l.p.Name(), Schema: l.p.Schema(), Position: pos, Events: l.applied.Load(), SavedAt: time.Now().UTC()}
	write := func() {
		state, err := encode()
		if err != nil {
			r.log.Error("projection state not encodable; not saved", "projection", h.Name, "err", err)
			return
		}
		if err := viewstate.Write(r.opts.Dir, h, state); err != nil {
			r.log.Warn("projection snapshot not saved", "projection", h.Name, "position", pos, "err", err)
			return
		}
		l.mu.Lock()
		l.savedPos, l.savedAt, l.savedBytes = pos, h.SavedAt, len(state)
		l.mu.Unlock()
	}
	if force {
		write()
		return
	}
	done := make(chan struct{})
	l.saving = done
	go func() {
		defer close(done)
		write()
	}()
}

// saveAll saves every running projection, on a clean stop.
func (r *Runner) saveAll() {
	for _, l := range r.lanes {
		if l.active() {
			r.save(l, true)
		} else if l.saving != nil {
			<-l.saving
			l.saving = nil
		}
	}
}

// EncodeState encodes a projection's state for its snapshot (gob).
func EncodeState(name string, state any) ([]byte, error) { return viewstate.EncodeState(name, state) }

// DecodeState decodes what EncodeState wrote.
func DecodeState(name string, data []byte, state any) error {
	return viewstate.DecodeState(name, data, state)
}
