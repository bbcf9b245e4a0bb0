package process

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// CheckpointBucket holds each process manager's position in the log.
const CheckpointBucket = "fb_process_checkpoints"

// LeaseBucket is the KV bucket of process name's lease.
func LeaseBucket(name string) string { return "fb_process_lease_" + name }

// TimerStream is the stream of every process's deadlines, and
// TimerConsumer the durable consumer of process name's firings.
const TimerStream = timerStream

// TimerConsumer is the durable consumer of process name's firings.
func TimerConsumer(name string) string { return "process_" + name }

// ScheduleSubject and FireSubject root process name's deadline subjects.
func ScheduleSubject(name string) string { return scheduleSubject + "." + name }

// FireSubject roots process name's firings.
func FireSubject(name string) string { return fireSubject + "." + name }

// provisioned says whether process name's buckets, timer stream and
// consumer exist (bound with read-only API calls).
func provisioned(ctx context.Context, js jetstream.JetStream, name string) bool {
	if _, err := js.KeyValue(ctx, LeaseBucket(name)); err != nil {
		return false
	}
	if _, err := js.KeyValue(ctx, CheckpointBucket); err != nil {
		return false
	}
	if _, err := js.Consumer(ctx, timerStream, TimerConsumer(name)); err != nil {
		return false
	}
	return true
}

// Provision creates (or updates) process name's JetStream assets: its
// lease bucket, the timer stream and its consumer, the checkpoint bucket.
// Under per-service NATS permissions it is the admin's work; leaseTTL zero
// is the Options default.
func Provision(ctx context.Context, js jetstream.JetStream, name string, replicas int, leaseTTL time.Duration) error {
	if replicas == 0 {
		replicas = 1
	}
	if leaseTTL == 0 {
		leaseTTL = 10 * time.Second
	}
	if err := createLease(ctx, js, name, leaseTTL, replicas); err != nil {
		return err
	}
	if err := createTimers(ctx, js, name, replicas, max(leaseTTL, time.Second)); err != nil {
		return err
	}
	if _, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      CheckpointBucket,
		Description: "Position of the event log each process manager has fully handled",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	}); err != nil {
		return fmt.Errorf("process %s: open checkpoint bucket: %w", name, err)
	}
	return nil
}
