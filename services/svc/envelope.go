package svc

import (
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// The request and reply envelopes are encoded and decoded with
// encoding/json/v2 (github.com/go-json-experiment/json, already what
// Decode reads payloads with): about twice as fast as encoding/json here,
// which scans each raw payload and result once more to validate and
// compact it on both sides. The options keep encoding/json's tolerance
// for what is only carried (names in any case, invalid UTF-8 replaced
// rather than refused), so an envelope reads as before and a payload's
// faults are still named by Decode; and its escaping (<, >, & and the JS
// line separators as \u escapes), so a result reaches the gateway in the
// bytes the service wrote: the wire format is unchanged.
var (
	envelopeOut = jsonv2.JoinOptions(jsontext.AllowInvalidUTF8(true), jsontext.EscapeForHTML(true), jsontext.EscapeForJS(true))
	envelopeIn  = jsonv2.JoinOptions(jsonv2.MatchCaseInsensitiveNames(true), jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true))
)

func encodeRequest(req *Request) ([]byte, error) {
	if req.Payload != nil && len(req.Payload) == 0 {
		// encoding/json leaves an empty payload out (omitempty); json/v2
		// would refuse it as invalid JSON. Leave it out, as before, so
		// the service names what the command lacks.
		r := *req
		r.Payload = nil
		req = &r
	}
	return jsonv2.Marshal(req, envelopeOut)
}

func decodeRequest(data []byte, req *Request) error { return jsonv2.Unmarshal(data, req, envelopeIn) }

func encodeReply(r Reply) ([]byte, error) {
	if r.Result != nil && len(r.Result) == 0 {
		r.Result = nil // left out, as encoding/json does (see encodeRequest)
	}
	return jsonv2.Marshal(r, envelopeOut)
}

func decodeReply(data []byte, r *Reply) error { return jsonv2.Unmarshal(data, r, envelopeIn) }
