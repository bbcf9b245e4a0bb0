// Package projections holds the read models: state folded from the event
// log, kept current by following it, and queried instead of the log.
package projections

import (
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/svc/viewstate"
)

// Subscriber is the part of the store a follower reads.
type Subscriber = viewstate.Subscriber

// Follower feeds the event log to a read model (see viewstate.Follower;
// viewstate.View adds a checkpoint to resume from).
type Follower = viewstate.Follower

// NewFollower returns a follower that calls apply for every event in log order.
func NewFollower(name string, store Subscriber, apply func(events.Event) error) *Follower {
	return viewstate.NewFollower(name, store, apply)
}

// MaxWait bounds how long a query waits for its model to catch up.
const MaxWait = viewstate.MaxWait
