package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A response that names a person is indexed under them, and forgetting
// the person deletes it and its index, and no one else's.
func TestForgettingAPersonDeletesTheirKeptResponses(t *testing.T) {
	ix := idemFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	keep := func(record, body string) {
		if _, err := ix.kv.Put(ctx, record, []byte(`{"done":true}`)); err != nil {
			t.Fatal(err)
		}
		ix.indexPerson(ctx, idemRequest{recordKey: record, personal: true}, []byte(body))
	}
	keep("r1", `{"user_id":"u1","email":"a@example.com"}`)
	keep("r2", `{"org_id":"o1","user":{"user_id":"u1","email":"a@example.com"}}`)
	keep("r3", `{"user_id":"u2","email":"b@example.com"}`)
	if err := ix.forgetPerson(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	for key, kept := range map[string]bool{"r1": false, "r2": false, "r3": true, personIndex("u3") + "r3": false} {
		if _, err := ix.kv.Get(ctx, key); (err == nil) != kept {
			t.Errorf("%s: %v, want kept %v", key, err, kept)
		}
	}
	if _, err := ix.kv.Get(ctx, personIndex("u2")+"r3"); err != nil {
		t.Errorf("another person's index: %v", err)
	}
	if err := ix.forgetPerson(ctx, "nobody"); err != nil && err != jetstream.ErrNoKeysFound {
		t.Errorf("forgetting a person with nothing kept: %v", err)
	}
}
