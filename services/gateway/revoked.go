package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Tokens are signed, not stored, so they stay good until they expire
// unless something says otherwise. Revocations says otherwise for an
// erased person: their tokens (a day's worth, in browsers and scripts)
// stop at once, on every gateway instance.

// RevokedBucket lists the users whose tokens no longer count, by user ID,
// with when. Kept without age: an erased person never signs in again,
// and the list is of IDs, not of personal data.
const RevokedBucket = "FUNDBRIDGE_REVOKED_USERS"

// RevokedConfig is the bucket's configuration.
func RevokedConfig(replicas int) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      RevokedBucket,
		Description: "Users whose bearer tokens and sessions no longer count (erased), by user ID",
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
		History:     1,
	}
}

// CreateRevokedBucket creates (or checks) the bucket on the admin's
// connection.
func CreateRevokedBucket(ctx context.Context, nc *nats.Conn, replicas int) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("revoked users: %w", err)
	}
	if _, err := js.CreateOrUpdateKeyValue(ctx, RevokedConfig(replicas)); err != nil {
		return fmt.Errorf("revoked users bucket %s: %w", RevokedBucket, err)
	}
	return nil
}

// Revocations is the gateway's copy of the revoked users, kept current
// by a watch on the bucket.
type Revocations struct {
	kv  jetstream.KeyValue
	log *slog.Logger

	mu    sync.RWMutex
	users map[string]bool

	stop func()
	done chan struct{}
}

// OpenRevocations binds to the bucket (creating it where this connection
// may) and returns once every revocation made so far is known: a gateway
// that started serving before would take a revoked token for a while.
func OpenRevocations(ctx context.Context, nc *nats.Conn, replicas int, log *slog.Logger) (*Revocations, error) {
	if log == nil {
		log = slog.Default()
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("revoked users: %w", err)
	}
	kv, err := openBucket(ctx, js, RevokedConfig(replicas))
	if err != nil {
		return nil, fmt.Errorf("revoked users: %w", err)
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w, err := kv.WatchAll(wctx, jetstream.IgnoreDeletes())
	if err != nil {
		cancel()
		return nil, fmt.Errorf("revoked users: watch %s: %w", RevokedBucket, err)
	}
	r := &Revocations{kv: kv, log: log, users: map[string]bool{}, stop: cancel, done: make(chan struct{})}
	caughtUp := make(chan struct{})
	go r.follow(w, caughtUp)
	select {
	case <-caughtUp:
		return r, nil
	case <-r.done:
		cancel()
		return nil, fmt.Errorf("revoked users: watch of %s ended before it caught up", RevokedBucket)
	case <-ctx.Done():
		cancel()
		<-r.done
		return nil, fmt.Errorf("revoked users: reading %s: %w", RevokedBucket, ctx.Err())
	}
}

// follow adds each revocation the watch delivers; the nil entry marks
// the end of those made before it began.
func (r *Revocations) follow(w jetstream.KeyWatcher, caughtUp chan<- struct{}) {
	defer close(r.done)
	defer func() { _ = w.Stop() }()
	for e := range w.Updates() {
		if e == nil {
			close(caughtUp)
			continue
		}
		r.add(e.Key())
	}
}

func (r *Revocations) add(userID string) {
	r.mu.Lock()
	r.users[userID] = true
	r.mu.Unlock()
}

// Revoked reports whether the user's tokens no longer count.
func (r *Revocations) Revoked(userID string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.users[userID]
}

// Revoke ends the user's tokens: at once on this instance, and on the
// others as their watches deliver it.
func (r *Revocations) Revoke(ctx context.Context, userID string) error {
	r.add(userID)
	if _, err := r.kv.Put(ctx, userID, []byte(time.Now().UTC().Format(time.RFC3339))); err != nil {
		return fmt.Errorf("revoke the tokens of %s on the other gateways: %w", userID, err)
	}
	return nil
}

// Close stops the watch.
func (r *Revocations) Close() {
	r.stop()
	<-r.done
}

// errRevoked is what a revoked user's token gets.
var errRevoked = errors.New("this account was erased: its sign-ins no longer count")
