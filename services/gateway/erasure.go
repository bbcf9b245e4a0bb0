package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/fundbridge/fundbridge/services/identity/identityapi"
)

// Kept responses that name a person (a sign-up's, an org's first user's)
// hold their email and name for a day, for retries. Erasing the person
// must not leave them there: each such record is indexed under the
// person, and an erasure deletes what the index lists.

// personalOps are the commands whose responses name the person they made.
var personalOps = map[string]bool{
	identityapi.Name + "." + identityapi.SignupEndpoint.Op:    true,
	identityapi.Name + "." + identityapi.CreateOrgEndpoint.Op: true,
}

// eraseOp is the command after which a person's kept responses go.
var eraseOp = identityapi.Name + "." + identityapi.EraseUserEndpoint.Op

// personIndex is the prefix of the index keys of a person's records.
func personIndex(userID string) string { return "person." + hash("person", userID)[:32] + "." }

// personOf reads the user a personal response names: its user_id, or its
// user's.
func personOf(body []byte) string {
	var r struct {
		UserID string `json:"user_id"`
		User   struct {
			UserID string `json:"user_id"`
		} `json:"user"`
	}
	if json.Unmarshal(body, &r) != nil {
		return ""
	}
	if r.UserID != "" {
		return r.UserID
	}
	return r.User.UserID
}

// indexPerson lists the record kept at q under the person its response
// names, if it names one.
func (ix *Idempotency) indexPerson(ctx context.Context, q idemRequest, body []byte) {
	if !q.personal {
		return
	}
	if user := personOf(body); user != "" {
		if _, err := ix.kv.Put(ctx, personIndex(user)+q.recordKey, []byte(q.recordKey)); err != nil {
			ix.log.Warn("idempotency record not indexed under its person", "op", q.op, "err", err)
		}
	}
}

// forgetPerson deletes every kept response that names the user, and their
// index.
func (ix *Idempotency) forgetPerson(ctx context.Context, userID string) error {
	keys, err := ix.kv.ListKeysFiltered(ctx, personIndex(userID)+">")
	if err != nil {
		return err
	}
	var errs []error
	for key := range keys.Keys() {
		record := key[strings.LastIndexByte(key, '.')+1:]
		for _, k := range []string{record, key} {
			if err := ix.kv.Delete(ctx, k); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// erased runs an erasure and then ends the person's tokens and forgets
// their kept responses. The tokens end on this instance before the
// answer is sent, so no request after it passes; a failure to tell the
// other instances, or to forget, is logged: the erasure itself stands.
func (g *Gateway) erased(w http.ResponseWriter, r *http.Request, payload []byte, run func(http.ResponseWriter)) {
	var q struct {
		UserID string `json:"user_id"`
	}
	if json.Unmarshal(payload, &q) != nil || q.UserID == "" {
		run(w)
		return
	}
	sw := &statusWriter{ResponseWriter: w, beforeOK: func() {
		if g.revoked != nil {
			g.revoked.add(q.UserID)
		}
	}}
	run(sw)
	if sw.status != http.StatusOK {
		return
	}
	ctx := context.WithoutCancel(r.Context())
	if g.revoked != nil {
		if err := g.revoked.Revoke(ctx, q.UserID); err != nil {
			g.log.Error("erased person's tokens still count on other gateway instances until they expire", "err", err)
		}
	}
	if g.idem != nil {
		if err := g.idem.forgetPerson(ctx, q.UserID); err != nil {
			g.log.Error("erased person's kept responses not all deleted", "err", err)
		}
	}
}

// statusWriter remembers the status written, and calls beforeOK (if set)
// just before a 200 goes out.
type statusWriter struct {
	http.ResponseWriter
	status   int
	beforeOK func()
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
		if status == http.StatusOK && w.beforeOK != nil {
			w.beforeOK()
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}
