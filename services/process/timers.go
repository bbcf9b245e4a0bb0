package process

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Deadlines are JetStream message schedules (ADR-51; nats-server 2.12+,
// nats.go WithScheduleAt/WithScheduleTarget). Arming a deadline publishes
// a schedule on fb.process.schedule.<name>.<id>.<deadline>: the subject is
// its identity, so arming again (after a crash, or to move it) replaces
// it rather than adding a second. At the time, the server itself publishes
// the body to fb.process.fire.<name>.<id>.<deadline> in the same stream
// and purges the schedule. A durable pull consumer per definition hands
// each firing to one manager, which records it in the process stream at
// the expected version and only then acknowledges it: a redelivered or
// stale firing finds the deadline no longer pending and records nothing.
//
// Why not a timer stream of our own: it would need either a poller (a
// consumer that naks each message until it is due, waking all the time
// for months-long deadlines) or an in-memory timer wheel rebuilt from the
// stream at every takeover. The server already keeps a durable, replicated
// timer wheel that survives restarts, so we use it.

const (
	timerStream     = "FB_PROCESS_TIMERS"
	scheduleSubject = "fb.process.schedule"
	fireSubject     = "fb.process.fire"
)

// wakeMsg is the body of a schedule and of its firing.
type wakeMsg struct {
	Process  string    `json:"process"`
	Deadline string    `json:"deadline"`
	At       time.Time `json:"at"`
}

type timers struct {
	js       jetstream.JetStream
	name     string
	consumer jetstream.Consumer
}

// openTimers opens the timer stream and the definition's consumer. A
// firing taken by a manager that dies is handed out again after ackWait.
func createTimers(ctx context.Context, js jetstream.JetStream, name string, replicas int, ackWait time.Duration) error {
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        timerStream,
		Description: "Process deadlines: schedules waiting for their time, and their firings until a manager records them",
		Subjects:    []string{scheduleSubject + ".>", fireSubject + ".>"},
		Storage:     jetstream.FileStorage,
		// A firing is removed once a manager acknowledges it; a schedule
		// (which no consumer reads) stays until the server fires it.
		Retention: jetstream.WorkQueuePolicy,
		// One schedule per deadline (moving it replaces the message), and
		// one firing waiting per deadline (a newer one supersedes it).
		MaxMsgsPerSubject: 1,
		AllowMsgSchedules: true,
		AllowRollup:       true, // required by message schedules
		Replicas:          replicas,
	})
	if err != nil {
		return fmt.Errorf("process %s: open timer stream: %w", name, err)
	}
	_, err = js.CreateOrUpdateConsumer(ctx, timerStream, jetstream.ConsumerConfig{
		Durable:       "process_" + name,
		Description:   "Deadlines of process " + name + " that fired",
		FilterSubject: fireSubject + "." + name + ".>",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		MaxDeliver:    -1,
	})
	if err != nil {
		return fmt.Errorf("process %s: open timer consumer: %w", name, err)
	}
	return nil
}

func openTimers(ctx context.Context, js jetstream.JetStream, name string, replicas int, ackWait time.Duration) (*timers, error) {
	consumer, err := js.Consumer(ctx, timerStream, TimerConsumer(name))
	if err != nil {
		return nil, fmt.Errorf("process %s: open timer consumer: %w", name, err)
	}
	return &timers{js: js, name: name, consumer: consumer}, nil
}

// arm schedules the deadline's firing at wake, the wall-clock time of
// at (to the next whole second: schedules have second resolution, and a
// deadline must never fire early). A deadline already due by now fires
// at once: a schedule is never set in the past.
func (t *timers) arm(ctx context.Context, process, deadline string, at, now, wake time.Time) error {
	suffix := "." + t.name + "." + process + "." + deadline
	body, err := json.Marshal(wakeMsg{Process: process, Deadline: deadline, At: at})
	if err != nil {
		return err
	}
	if !at.After(now) {
		_, err = t.js.Publish(ctx, fireSubject+suffix, body)
	} else {
		due := wake.Truncate(time.Second)
		if due.Before(wake) {
			due = due.Add(time.Second)
		}
		_, err = t.js.Publish(ctx, scheduleSubject+suffix, body,
			jetstream.WithScheduleAt(due), jetstream.WithScheduleTarget(fireSubject+suffix))
	}
	if err != nil {
		return fmt.Errorf("arm deadline %s of %s-%s: %w", deadline, t.name, process, err)
	}
	return nil
}

// consume hands every firing to fire, one at a time, until ctx ends or
// fire fails. A firing is acknowledged only after fire returns nil.
func (t *timers) consume(ctx context.Context, fire func(context.Context, wakeMsg) error) error {
	it, err := t.consumer.Messages()
	if err != nil {
		return fmt.Errorf("process %s: read firings: %w", t.name, err)
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	defer it.Stop()
	for {
		msg, err := it.Next()
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) || ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("process %s: read firings: %w", t.name, err)
		}
		var w wakeMsg
		if err := json.Unmarshal(msg.Data(), &w); err != nil {
			_ = msg.Term() // not ours to understand; never redeliver
			continue
		}
		if err := fire(ctx, w); err != nil {
			if !errors.Is(err, errCrashed) {
				_ = msg.Nak()
			}
			return err
		}
		if err := msg.DoubleAck(ctx); err != nil && ctx.Err() == nil {
			return fmt.Errorf("process %s: acknowledge firing: %w", t.name, err)
		}
	}
}
