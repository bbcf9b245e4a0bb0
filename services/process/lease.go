package process

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// lease makes one manager of a definition the active one: it holds a key
// in a JetStream key-value bucket whose entries expire after the TTL, and
// renews it with a revision check, so a renewal never overwrites a lease
// another instance took after this one's expired. Standbys try to create
// the key; they succeed once it is released or has expired.
//
// A lease is for efficiency, not safety: a paused holder may go on briefly
// after its lease passed to another. Everything the manager writes is
// guarded by expected versions and every command by an idempotency key,
// so two active managers cost repeated work, never a repeated effect.
type lease struct {
	kv     jetstream.KeyValue
	key    string
	holder string
	ttl    time.Duration
	rev    uint64
}

func createLease(ctx context.Context, js jetstream.JetStream, name string, ttl time.Duration, replicas int) error {
	_, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      LeaseBucket(name),
		Description: "Which manager of process " + name + " is active; entries expire unless renewed",
		TTL:         ttl,
		History:     1,
		Storage:     jetstream.MemoryStorage, // a lost lease is simply taken again
		Replicas:    replicas,
	})
	if err != nil {
		return fmt.Errorf("process %s: open lease bucket: %w", name, err)
	}
	return nil
}

func openLease(ctx context.Context, js jetstream.JetStream, name, holder string, ttl time.Duration, replicas int) (*lease, error) {
	kv, err := js.KeyValue(ctx, LeaseBucket(name))
	if err != nil {
		return nil, fmt.Errorf("process %s: open lease bucket: %w", name, err)
	}
	return &lease{kv: kv, key: "active", holder: holder, ttl: ttl}, nil
}

// acquire waits until this instance holds the lease, or ctx ends.
func (l *lease) acquire(ctx context.Context, log *slog.Logger) error {
	for {
		ok, err := l.try(ctx)
		if ok {
			return nil
		}
		if err != nil && ctx.Err() == nil {
			log.Warn("lease bucket unreachable; standing by", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(l.ttl / 4):
		}
	}
}

// try takes the lease if it is free, or if it is still this instance's
// own from before a restart.
func (l *lease) try(ctx context.Context) (bool, error) {
	rev, err := l.kv.Create(ctx, l.key, []byte(l.holder))
	if err == nil {
		l.rev = rev
		return true, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return false, err
	}
	entry, err := l.kv.Get(ctx, l.key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, nil // expired just now: try again
	}
	if err != nil || string(entry.Value()) != l.holder {
		return false, err
	}
	rev, err = l.kv.Update(ctx, l.key, []byte(l.holder), entry.Revision())
	if err != nil {
		return false, err
	}
	l.rev = rev
	return true, nil
}

// hold renews the lease every third of its TTL until ctx ends. If a
// renewal fails, the lease may already be another's: lost is called and
// hold returns.
func (l *lease) hold(ctx context.Context, lost func(error)) {
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, l.ttl/3)
		rev, err := l.kv.Update(rctx, l.key, []byte(l.holder), l.rev)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				lost(fmt.Errorf("lease lost: %w", err))
			}
			return
		}
		l.rev = rev
	}
}

// release gives the lease up at once, so a standby need not wait for it
// to expire. Only the revision this instance wrote is deleted.
func (l *lease) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = l.kv.Delete(ctx, l.key, jetstream.LastRevision(l.rev))
}
