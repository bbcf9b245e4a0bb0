package simclock_test

import (
	"testing"
	"time"

	"github.com/fundbridge/fundbridge/internal/simclock"
)

func TestTheClockOnlyMovesForwardAndNeverPassesTheWallClock(t *testing.T) {
	start := time.Now().AddDate(0, 0, -200)
	c := simclock.Starting(start)
	if now := c.Now(); now.Before(start) || !now.Before(start.Add(time.Hour)) || !c.Simulated() {
		t.Fatalf("a clock starting 200 days back reads %s (start %s)", now, start)
	}
	c.AdvanceTo(start.AddDate(0, 0, 100))
	at100 := c.Now()
	if at100.Before(start.AddDate(0, 0, 100)) {
		t.Errorf("advanced to day 100, reads %s", at100)
	}
	c.AdvanceTo(start.AddDate(0, 0, 50)) // backwards: nothing
	if c.Now().Before(at100) {
		t.Errorf("went back to %s from %s", c.Now(), at100)
	}
	c.AdvanceTo(time.Now().AddDate(1, 0, 0)) // beyond the wall clock: the wall clock
	if c.Now().After(time.Now()) || c.Simulated() {
		t.Errorf("ahead of the wall clock or still simulated: %s", c.Now())
	}
	d := simclock.Starting(start)
	d.HandOver()
	if d.Simulated() || d.Now().Before(time.Now().Add(-time.Minute)) {
		t.Errorf("after the hand-over it reads %s", d.Now())
	}
	if future := simclock.Starting(time.Now().Add(time.Hour)); future.Simulated() || future.Now().After(time.Now()) {
		t.Errorf("a clock asked to start in the future runs ahead: %s", future.Now())
	}
}
