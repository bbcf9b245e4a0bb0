package identity

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/testenv"
)

// A server that answers the bucket's gets while behind says a key stored
// a moment ago is not there. Get must not take that for an erasure: the
// key is there until the bucket's leader says it is gone.
func TestPersonKeyIsNotGoneWhileAReplicaIsBehind(t *testing.T) {
	env := testenv.Start(t, events.NewRegistry())
	keys := testPersonKeys(t, env.Conn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := keys.Create(ctx, "u-kept", []byte("sealed key")); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Create(ctx, "u-erased", []byte("another")); err != nil {
		t.Fatal(err)
	}
	if err := keys.Destroy(ctx, "u-erased"); err != nil {
		t.Fatal(err)
	}

	// A mirror that answers the bucket's direct gets but holds only the
	// erased person's key: for the kept one, a replica far behind.
	js, err := jetstream.New(env.Conn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "behind", MirrorDirect: true, Storage: jetstream.MemoryStorage,
		Mirror: &jetstream.StreamSource{Name: "KV_" + PersonKeysBucket, FilterSubject: "$KV." + PersonKeysBucket + ".u-erased"}}); err != nil {
		t.Fatal(err)
	}
	waitMirrored(t, js, 2)             // the key and its purge: caught up, the mirror answers direct gets
	fresh := NewKVPersonKeys(env.Conn) // binds to the bucket with the mirror in place
	behind := 0
	for range 40 {
		e, err := mustBind(t, fresh).Get(ctx, "u-kept")
		if err != nil {
			behind++ // the mirror answered the direct get
		} else if !bytes.Equal(e.Value(), []byte("sealed key")) {
			t.Fatalf("direct get = %q", e.Value())
		}
		got, err := fresh.Get(ctx, "u-kept")
		if err != nil || !bytes.Equal(got, []byte("sealed key")) {
			t.Fatalf("a stored key read while a replica is behind = %q, %v", got, err)
		}
		if _, err := fresh.Get(ctx, "u-erased"); err != errNoPersonKey {
			t.Fatalf("a destroyed key = %v, want %v", err, errNoPersonKey)
		}
	}
	if behind == 0 {
		t.Fatal("the mirror never answered a direct get: the test shows nothing")
	}
	t.Logf("the mirror answered %d of 40 direct gets", behind)
}

func mustBind(t *testing.T, k *KVPersonKeys) jetstream.KeyValue {
	t.Helper()
	kv, err := k.bucket(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

func waitMirrored(t *testing.T, js jetstream.JetStream, n uint64) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		s, err := js.Stream(context.Background(), "behind")
		if err == nil && s.CachedInfo().State.LastSeq >= n {
			return
		}
	}
	t.Fatal("the mirror did not catch up")
}
