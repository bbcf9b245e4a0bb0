// Package jsget gets a message from a JetStream stream's leader. In a
// replicated stream that allows direct gets, nats.go sends its gets to any
// server holding the stream, and a replica may be behind: it can answer
// "no such message" for a write the stream has already acknowledged
// (nats-io/nats-server#6557). The leader's message get sees every
// acknowledged write; a reader that must not miss one asks it.
package jsget

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
)

// Request is the JetStream API's message get (server JSApiMsgGetRequest);
// a batched direct get takes the same body.
type Request struct {
	Seq      uint64 `json:"seq,omitempty"`
	LastFor  string `json:"last_by_subj,omitempty"`
	NextFor  string `json:"next_by_subj,omitempty"`
	Batch    int    `json:"batch,omitempty"`
	MaxBytes int    `json:"max_bytes,omitempty"`
}

// response is the leader's answer (server JSApiMsgGetResponse).
type response struct {
	Error   *njs.APIError `json:"error,omitempty"`
	Message *struct {
		Subject  string    `json:"subject"`
		Sequence uint64    `json:"seq"`
		Header   []byte    `json:"hdrs,omitempty"`
		Data     []byte    `json:"data,omitempty"`
		Time     time.Time `json:"time"`
	} `json:"message,omitempty"`
}

// FromLeader gets one message of stream from its leader: the last on a
// subject (req.LastFor), or the first at or after req.Seq (on req.NextFor,
// if set). A missing message is njs.ErrMsgNotFound.
func FromLeader(ctx context.Context, nc *nats.Conn, stream string, req Request) (*njs.RawStreamMsg, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	reply, err := nc.RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET."+stream, body)
	if err != nil {
		return nil, err
	}
	var resp response
	if err := json.Unmarshal(reply.Data, &resp); err != nil {
		return nil, fmt.Errorf("message get: %w", err)
	}
	if resp.Error != nil {
		if resp.Error.ErrorCode == njs.JSErrCodeMessageNotFound {
			return nil, njs.ErrMsgNotFound
		}
		return nil, resp.Error
	}
	m := resp.Message
	if m == nil {
		return nil, njs.ErrInvalidJetStreamResponse
	}
	var hdr nats.Header
	if len(m.Header) > 0 {
		if hdr, err = nats.DecodeHeadersMsg(m.Header); err != nil {
			return nil, fmt.Errorf("message get: %w", err)
		}
	}
	return &njs.RawStreamMsg{Subject: m.Subject, Sequence: m.Sequence, Header: hdr, Data: m.Data, Time: m.Time}, nil
}
