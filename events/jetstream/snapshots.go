package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/fundbridge/fundbridge/events"
)

// Snapshots keeps the latest snapshot of each aggregate in its own stream,
// one subject per event stream, only the last message per subject kept.
type Snapshots struct {
	js      njs.JetStream
	stream  njs.Stream
	prefix  string
	timeout time.Duration
}

// OpenSnapshots creates or updates the snapshot stream.
func OpenSnapshots(ctx context.Context, nc *nats.Conn, replicas int) (*Snapshots, error) {
	if replicas == 0 {
		replicas = 1
	}
	js, err := njs.New(nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	cfg := njs.StreamConfig{
		Name:              "FUNDBRIDGE_SNAPSHOTS",
		Description:       "Latest aggregate snapshot per event stream; a cache, rebuilt from events when missing",
		Subjects:          []string{"fb.snap.>"},
		Storage:           njs.FileStorage,
		Replicas:          replicas,
		MaxMsgsPerSubject: 1,
		MaxMsgSize:        4 << 20,
		// A load gets its snapshot by a direct get, from any server that
		// holds the stream: one a replica has not caught up with is an
		// older snapshot, and the load reads a longer tail after it.
		AllowDirect: true,
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	stream, err := createOrUpdateStream(ctx, js, cfg)
	if err != nil {
		return nil, fmt.Errorf("open snapshot stream: %w", unavailable(err))
	}
	return &Snapshots{js: js, stream: stream, prefix: "fb.snap", timeout: 10 * time.Second}, nil
}

func (s *Snapshots) subject(streamID string) (string, error) {
	typ, id, err := events.SplitStreamID(streamID)
	if err != nil {
		return "", err
	}
	return s.prefix + "." + typ + "." + id, nil
}

// LoadSnapshot returns the latest snapshot of the stream, if any.
func (s *Snapshots) LoadSnapshot(ctx context.Context, streamID string) (events.Snapshot, bool, error) {
	subject, err := s.subject(streamID)
	if err != nil {
		return events.Snapshot{}, false, err
	}
	msg, err := s.stream.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, njs.ErrMsgNotFound) {
		return events.Snapshot{}, false, nil
	}
	if err != nil {
		return events.Snapshot{}, false, fmt.Errorf("load snapshot of %s: %w", streamID, unavailable(err))
	}
	var snap events.Snapshot
	if err := json.Unmarshal(msg.Data, &snap); err != nil {
		return events.Snapshot{}, false, fmt.Errorf("load snapshot of %s: %w", streamID, err)
	}
	return snap, true, nil
}

// SaveSnapshot stores the snapshot, replacing the previous one.
func (s *Snapshots) SaveSnapshot(ctx context.Context, snap events.Snapshot) error {
	subject, err := s.subject(snap.StreamID)
	if err != nil {
		return err
	}
	data, err := json.Marshal(snap)
	if err != nil {
		return fmt.Errorf("save snapshot of %s: %w", snap.StreamID, err)
	}
	if _, err := s.js.Publish(ctx, subject, data); err != nil {
		return fmt.Errorf("save snapshot of %s: %w", snap.StreamID, unavailable(err))
	}
	return nil
}
