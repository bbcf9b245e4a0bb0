package demo

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Clock is the product's clock, when the demo loads the process it runs
// in (fundbridge dev --demo with a fresh data directory). The demo then
// simulates months of history through the product's own code: it moves
// the clock forward to the day of each step (a drawdown half a year ago,
// each instalment paid two days before it falls due, a quote issued forty
// days ago) and the product's durable deadlines fire on it as they would
// have: unpaid periods go into arrears, quotes and policies expire. At
// the end it hands the clock over to the wall clock.
type Clock interface {
	Now() time.Time
	AdvanceTo(t time.Time) // never backwards
	HandOver()             // the wall clock from now on
}

// wallClock is the clock of a market loaded from outside (fundbridge
// demo --url, or a data directory that already has a history): today
// only, so nothing the demo does falls due while it loads.
type wallClock struct{}

func (wallClock) Now() time.Time      { return time.Now().UTC() }
func (wallClock) AdvanceTo(time.Time) {}
func (wallClock) HandOver()           {}

// HistoryDays is how far back a simulated history starts: the oldest
// loans were drawn about six months before today.
const HistoryDays = 200

// day moves the clock to day d of the history (from when the load
// began; fractions of days too): the equity market's sign-ups,
// applications and pipelines take the first two weeks, before the
// oldest loan is drawn (HistoryDays less six months).
func (l *loader) day(d float64) {
	l.clock.AdvanceTo(l.origin.Add(time.Duration(d * float64(24*time.Hour))))
}

// timeline runs the demo's dated steps in the order of their days, the
// clock moved to each before it runs. A step may add later steps (the
// repayments of a loan once its schedule is fixed).
type timeline struct {
	clock Clock
	today time.Time // what the simulated history leads up to
	steps []step
}

type step struct {
	at   time.Time
	name string
	do   func(context.Context) error
}

// at adds a step on day t; a step after today is not taken.
func (tl *timeline) at(t time.Time, name string, do func(context.Context) error) {
	if t.After(tl.today) {
		return
	}
	tl.steps = append(tl.steps, step{at: t, name: name, do: do})
}

// daysAgo is today less n days.
func (tl *timeline) daysAgo(n int) time.Time { return tl.today.AddDate(0, 0, -n) }

// run takes the steps, earliest first (in the order added on a tie).
func (tl *timeline) run(ctx context.Context) error {
	for len(tl.steps) > 0 {
		slices.SortStableFunc(tl.steps, func(a, b step) int { return a.at.Compare(b.at) })
		s := tl.steps[0]
		tl.steps = tl.steps[1:]
		tl.clock.AdvanceTo(s.at)
		if err := s.do(ctx); err != nil {
			return fmt.Errorf("%s (%s): %w", s.name, s.at.Format(time.DateOnly), err)
		}
	}
	return nil
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// await is a step taken just after a deadline of the product's falls due
// on the clock: it waits, without moving the clock, until the product's
// own process has acted on it (what the caller sees at path satisfies
// done), so that the history records it then rather than days later in
// the simulation. A deadline that never fires is an error.
func (l *loader) await(ctx context.Context, what, token, path string, done func(body map[string]any) bool) error {
	if !l.simulated {
		return nil
	}
	for until := time.Now().Add(3 * time.Minute); ; {
		var body map[string]any
		if err := l.call(ctx, "GET", path, token, "", nil, &body); err != nil {
			return err
		}
		if done(body) {
			return nil
		}
		if time.Now().After(until) {
			return fmt.Errorf("%s: the product's deadline did not act within three minutes", what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// endOfChinaDay is the instant the day (YYYY-MM-DD, China time) ends.
func endOfChinaDay(day string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return time.Time{}, err
	}
	return d.AddDate(0, 0, 1).Add(-8 * time.Hour), nil
}

// justAfter is a minute after t: a deadline at t has fallen due.
func justAfter(t time.Time) time.Time { return t.Add(time.Minute) }

func statusIs(want string) func(map[string]any) bool {
	return func(body map[string]any) bool { return body["status"] == want }
}
