package projections

import (
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/fold"
)

// Folds is a fold as one typed function per event type (fold.Handlers):
// the events a projection handles are exactly those it registered a
// function for, so its Handles and its Apply cannot drift apart.
type Folds = fold.Handlers

// On registers fn for the events whose payload is a T (T's EventType).
func On[T events.Payload](f *Folds, fn func(events.Event, T) error) { fold.On(f, fn) }
