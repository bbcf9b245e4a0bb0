package process

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/svc"
)

// BenchmarkClosing measures what the manager costs over sending the same
// two commands by hand: per round, raw sends reserve then commit for each
// closing from a client; ours appends the requests and waits until every
// process has ended. Rounds alternate (raw, ours, raw, ours, ...) and the
// median of the ratios ours/raw is reported.
//
//	go test -run '^$' -bench Closing -benchtime 7x ./services/process/
func BenchmarkClosing(b *testing.B) {
	const perRound = 20
	w := newWorld(b)
	w.openFund("f1", 1_000_000_000_000)
	r := w.start(managerOpts{instance: "bench"})
	client := svc.NewClient(w.env.Connect(b), 10*time.Second)
	ended := w.follow("process.ended.v1")

	var ratios []float64
	var rawTotal, oursTotal time.Duration
	round := 0
	for b.Loop() {
		round++
		start := time.Now()
		for i := range perRound {
			deal, app := fmt.Sprintf("raw%d_%d", round, i), fmt.Sprintf("rawapp%d_%d", round, i)
			for _, c := range []struct {
				op      string
				payload any
			}{
				{"application.reserve", reserveApp{ApplicationID: app, Deal: deal}},
				{"fund.commit", commitFund{FundID: "f1", Deal: deal, Amount: money.Yuan(1_000_000)}},
			} {
				req := &svc.Request{Actor: r.m.actor, IdempotencyKey: deal + c.op, Payload: raw(c.payload)}
				if _, err := client.Call(context.Background(), "ledger", c.op, req, nil); err != nil {
					b.Fatal(err)
				}
			}
		}
		rawTook := time.Since(start)

		start = time.Now()
		for i := range perRound {
			w.requestClosing(fmt.Sprintf("ours%d_%d", round, i), fmt.Sprintf("app%d_%d", round, i), "f1", 1_000_000, nil)
		}
		ended.wait(round * perRound)
		oursTook := time.Since(start)

		rawTotal += rawTook
		oursTotal += oursTook
		ratios = append(ratios, float64(oursTook)/float64(rawTook))
	}
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "median-ratio")
	b.ReportMetric(float64(rawTotal.Microseconds())/float64(round*perRound), "raw-us/closing")
	b.ReportMetric(float64(oursTotal.Microseconds())/float64(round*perRound), "ours-us/closing")
}

// counter follows the log and counts events of one type.
type counter struct {
	mu   sync.Mutex
	cond *sync.Cond
	n    int
}

func (w *world) follow(eventType string) *counter {
	c := &counter{}
	c.cond = sync.NewCond(&c.mu)
	head, err := w.env.Store.Head(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = w.env.Store.Subscribe(ctx, head, func(e events.Event) error {
			if e.Type == eventType {
				c.mu.Lock()
				c.n++
				c.cond.Broadcast()
				c.mu.Unlock()
			}
			return nil
		})
	}()
	w.t.Cleanup(func() { cancel(); <-done })
	return c
}

func (c *counter) wait(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.n < n {
		c.cond.Wait()
	}
}
