// Package fold writes a fold over the event log as one typed function per
// event type: what a fold handles is exactly what it registered, so the
// list of handled events and the fold cannot drift apart, and no function
// takes an untyped payload. Projections and services' views use it, and
// the aggregates' evolve functions.
package fold

import (
	"fmt"

	"github.com/fundbridge/fundbridge/events"
)

// Handlers is a fold with effects of its own (a read model that updates
// itself): one function per event type, each returning an error when the
// log breaks the model's invariants.
type Handlers struct {
	byType map[string]func(events.Event, any) error
}

// On registers fn for the events whose payload is a T (T's EventType).
func On[T events.Payload](h *Handlers, fn func(events.Event, T) error) {
	if h.byType == nil {
		h.byType = map[string]func(events.Event, any) error{}
	}
	var zero T
	h.byType[zero.EventType()] = func(e events.Event, payload any) error {
		v, ok := payload.(T)
		if !ok {
			return fmt.Errorf("event %s: payload %T, want %T", e.Type, payload, zero)
		}
		return fn(e, v)
	}
}

// Handles reports whether a function is registered for the event type
// (the newest version's name, which every older one is upcast to).
func (h *Handlers) Handles(eventType string) bool {
	_, ok := h.byType[eventType]
	return ok
}

// Apply runs the function registered for the payload's type; a payload
// nothing is registered for is an error (Handles said no to it).
func (h *Handlers) Apply(e events.Event, payload any) error {
	p, ok := payload.(events.Payload)
	if !ok {
		return fmt.Errorf("event %s: payload %T has no event type", e.Type, payload)
	}
	fn, ok := h.byType[p.EventType()]
	if !ok {
		return fmt.Errorf("unexpected payload %T", payload)
	}
	return fn(e, payload)
}

// Evolve is a pure fold of a state S: one function per event type, each
// returning the next state. Apply has the shape of an aggregate's evolve
// (svc.Decider.Evolve), so one table serves the repository and the views.
type Evolve[S any] struct {
	byType map[string]func(S, events.Event, any) S
	then   func(S, events.Event) S
}

// Step registers fn for the events whose payload is a T.
func Step[T events.Payload, S any](f *Evolve[S], fn func(S, events.Event, T) S) {
	if f.byType == nil {
		f.byType = map[string]func(S, events.Event, any) S{}
	}
	var zero T
	f.byType[zero.EventType()] = func(s S, e events.Event, payload any) S { return fn(s, e, payload.(T)) }
}

// Then runs fn after every registered step (stamping the version and the
// time of the last change, say).
func (f *Evolve[S]) Then(fn func(S, events.Event) S) { f.then = fn }

// Handles reports whether a step is registered for the event type.
func (f *Evolve[S]) Handles(eventType string) bool {
	_, ok := f.byType[eventType]
	return ok
}

// Apply folds one event into s. A payload of a type no step is
// registered for (one this version does not know) changes nothing.
func (f *Evolve[S]) Apply(s S, e events.Event, payload any) S {
	p, ok := payload.(events.Payload)
	if !ok {
		return s
	}
	step, ok := f.byType[p.EventType()]
	if !ok {
		return s
	}
	s = step(s, e, payload)
	if f.then != nil {
		s = f.then(s, e)
	}
	return s
}
