package projections

import (
	"fmt"

	"github.com/fundbridge/fundbridge/events"
)

// Folds is a fold as one typed function per event type: the events a
// projection handles are exactly those it registered a function for, so
// its Handles and its Apply cannot drift apart, and no function takes an
// untyped payload.
type Folds struct {
	byType map[string]func(events.Event, any) error
}

// On registers fn for the events whose payload is a T (T's EventType).
func On[T events.Payload](f *Folds, fn func(events.Event, T) error) {
	if f.byType == nil {
		f.byType = map[string]func(events.Event, any) error{}
	}
	var zero T
	f.byType[zero.EventType()] = func(e events.Event, payload any) error {
		v, ok := payload.(T)
		if !ok {
			return fmt.Errorf("event %s: payload %T, want %T", e.Type, payload, zero)
		}
		return fn(e, v)
	}
}

// Handles reports whether a function is registered for the event type.
func (f *Folds) Handles(eventType string) bool {
	_, ok := f.byType[eventType]
	return ok
}

// Apply runs the function registered for the payload's type; a payload
// nothing is registered for is an error (Handles said no to it).
func (f *Folds) Apply(e events.Event, payload any) error {
	p, ok := payload.(events.Payload)
	if !ok {
		return fmt.Errorf("event %s: payload %T has no event type", e.Type, payload)
	}
	fn, ok := f.byType[p.EventType()]
	if !ok {
		return fmt.Errorf("unexpected payload %T", payload)
	}
	return fn(e, payload)
}
