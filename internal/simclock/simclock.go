// Package simclock is a clock that can start in the past and be moved
// forward, for a history simulated through the product's own code:
// `fundbridge dev --demo` runs its seeding on one, so that loans disbursed
// months ago fall into arrears and quotes and policies expire by the
// product's durable deadlines, each at its time on this clock, and the
// events record that time. Between moves it runs at the wall clock's rate;
// it never runs backwards and never ahead of the wall clock, and once
// handed over it is the wall clock.
package simclock

import (
	"sync/atomic"
	"time"
)

// Clock is the wall clock shifted back by a skew that only shrinks.
type Clock struct {
	skew atomic.Int64 // nanoseconds, ≤ 0
}

// Starting is a clock reading start now (the wall clock if start is not
// in the past).
func Starting(start time.Time) *Clock {
	c := &Clock{}
	c.skew.Store(int64(min(time.Until(start), 0)))
	return c
}

// Now is the clock's time, in UTC.
func (c *Clock) Now() time.Time { return time.Now().Add(time.Duration(c.skew.Load())).UTC() }

// AdvanceTo moves the clock forward to t. A t the clock has passed
// changes nothing; a t beyond the wall clock hands over to it.
func (c *Clock) AdvanceTo(t time.Time) {
	for {
		old := c.skew.Load()
		next := min(int64(time.Until(t)), 0)
		if next <= old || c.skew.CompareAndSwap(old, next) {
			return
		}
	}
}

// HandOver makes the clock the wall clock from now on.
func (c *Clock) HandOver() { c.skew.Store(0) }

// Simulated reports whether the clock is still behind the wall clock.
func (c *Clock) Simulated() bool { return c.skew.Load() < 0 }
