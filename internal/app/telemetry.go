package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/fundbridge/fundbridge/internal/telemetry"
	"github.com/fundbridge/fundbridge/services/process"
)

// Observe registers what a service's process reports when scraped: its
// NATS connection's reconnects, its projections' and process managers'
// lag behind the log's head, and its processes' pending deadlines. All
// of it is read at scrape time; nothing is done per request or event.
func Observe(m *telemetry.Metrics, name string, d Deps, c *Component) {
	if m == nil {
		return
	}
	m.WatchNATS(d.NC, name)
	c.Service.Observe = m.ServiceObserver(name)
	head := func(ctx context.Context) (uint64, error) { return d.Store.Head(ctx) }
	if c.Projections != nil {
		for _, s := range c.Projections() {
			proj := s.Name
			m.Lag("projection", proj, head, func(context.Context) (uint64, error) {
				for _, s := range c.Projections() {
					if s.Name == proj {
						return s.Position, nil
					}
				}
				return 0, fmt.Errorf("no projection %s", proj)
			})
		}
	}
	js, err := jetstream.New(d.NC)
	if err != nil {
		return
	}
	for _, p := range Processes()[name] {
		m.Lag("process", p, head, func(ctx context.Context) (uint64, error) { return processCheckpoint(ctx, js, p) })
		m.Pending(p, func(ctx context.Context) (uint64, error) { return pendingDeadlines(ctx, js, p) })
	}
}

// processCheckpoint reads where process p's managers stand in the log.
func processCheckpoint(ctx context.Context, js jetstream.JetStream, p string) (uint64, error) {
	kv, err := js.KeyValue(ctx, process.CheckpointBucket)
	if err != nil {
		return 0, err
	}
	e, err := kv.Get(ctx, p)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(string(e.Value()), 10, 64)
}

// pendingDeadlines counts process p's armed schedules: each is a message
// on its schedule subjects until it fires.
func pendingDeadlines(ctx context.Context, js jetstream.JetStream, p string) (uint64, error) {
	s, err := js.Stream(ctx, process.TimerStream)
	if err != nil {
		return 0, err
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(process.ScheduleSubject(p)+".>"))
	if err != nil {
		return 0, err
	}
	var n uint64
	for _, c := range info.State.Subjects {
		n += c
	}
	return n, nil
}
