// Package eventtest writes events as the log holds them, for tests that
// fold them into a view the way its service folds the log.
package eventtest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge/events"
)

// Stream is one stream's payloads, in order.
type Stream struct {
	ID       string
	Payloads []events.Payload
}

// Fold encodes each stream's payloads as the log holds them (versions
// from 1 in each stream, positions from 1 across them, all recorded at
// at) and hands each event to apply in order, failing t on any error.
func Fold(t testing.TB, at time.Time, apply func(events.Event) error, streams ...Stream) {
	t.Helper()
	pos := uint64(0)
	for _, s := range streams {
		for i, p := range s.Payloads {
			data, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			pos++
			e := events.Event{Type: p.EventType(), StreamID: s.ID, Version: uint64(i + 1), Position: pos, RecordedAt: at, Payload: data}
			if err := apply(e); err != nil {
				t.Fatal(err)
			}
		}
	}
}
