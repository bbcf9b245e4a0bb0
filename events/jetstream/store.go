// Package jetstream is the default event store: one JetStream stream holds
// every event stream, one subject per event stream (fb.ev.<type>.<id>), and
// one message per append (a commit holding all of that append's events).
//
// Concurrency control is JetStream's own: each append carries
// Nats-Expected-Last-Subject-Sequence, the stream sequence of the last commit
// on its subject, so the server refuses a stale append. The stream sequence
// of a commit is its global position.
//
// With group commit on (the default when the server fsyncs every write),
// appends arriving while another is being written are gathered into one
// atomic batch: one fsync for many appends, each still checked on its own.
// A batch has a fixed cost of its own on the server, so this pays only
// with many appends in flight; with few, each is published directly.
//
// A load reads its stream's head from the leader and a short tail by one
// batched direct get sent beside it; a long read uses an ordered consumer
// (direct.go says why and how a replica behind the leader is caught).
package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/jsget"
	"github.com/fundbridge/fundbridge/internal/spans"
)

// Options configure the store.
type Options struct {
	// Stream is the JetStream stream name. Default "FUNDBRIDGE_EVENTS".
	Stream string
	// SubjectPrefix roots every event subject. Default "fb.ev".
	SubjectPrefix string
	// Replicas is 1 on one server, 3 in a cluster. Default 1.
	Replicas int
	// GroupCommit gathers concurrent appends into atomic batches. Turn it on
	// when the server fsyncs every write (sync_interval: always): many appends
	// then share one fsync. Without fsync, plain publishes are faster.
	GroupCommit bool
	// DuplicateWindow is how long JetStream remembers commit IDs to drop
	// retried appends. Retries with the same expected version are recognised
	// by reading the stream at any age. Default one hour.
	DuplicateWindow time.Duration
	// Timeout bounds each request to JetStream when ctx has no deadline.
	// Default 10s.
	Timeout time.Duration
	// Observe, if set, is told of every append: its events and how long it
	// took, written or refused (metrics).
	Observe func(events int, took time.Duration)
	// Tracing is the process's tracer provider, which the readers of this
	// store (views, process managers) trace with (TracerProvider); nil
	// traces nothing there. An append is traced whatever this is, when its
	// ctx carries a span: its trace context is kept with the commit, as a
	// message header, for the readers to continue.
	Tracing trace.TracerProvider
	// Clock, if set, is the time appends record (a simulated history's
	// clock: dev --demo); nil is the wall clock.
	Clock func() time.Time
	// Feed, if set, is the event feed Subscribe reads, shared with the
	// other stores of the process (NewFeed); nil gives the store one of
	// its own, shared by its own subscribers.
	Feed *Feed
}

func (o *Options) defaults() {
	if o.Stream == "" {
		o.Stream = "FUNDBRIDGE_EVENTS"
	}
	if o.SubjectPrefix == "" {
		o.SubjectPrefix = "fb.ev"
	}
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	if o.DuplicateWindow == 0 {
		o.DuplicateWindow = time.Hour
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
}

// Store is the JetStream event store. Safe for concurrent use.
type Store struct {
	opts     Options
	nc       *nats.Conn
	js       njs.JetStream
	stream   njs.Stream
	registry *events.Registry
	ids      *events.IDs
	heads    *headCache
	group    *groupCommitter
	feed     *Feed
	ownFeed  bool // the store closes it

	ackPrefix string // how the server's acknowledgements start
	direct    bool   // the stream allows batched direct gets
	// directSilent is set once a batched direct get went unanswered
	// (direct.go): reads go by consumer from then on.
	directSilent atomic.Bool
	batches      batchReplies
	bad          quarantined

	closeOnce sync.Once
	closed    chan struct{}
}

var _ events.Store = (*Store)(nil)

// Open creates or updates the event stream and returns a store on it.
func Open(ctx context.Context, nc *nats.Conn, registry *events.Registry, opts Options) (*Store, error) {
	opts.defaults()
	if opts.Feed != nil {
		if err := checkFeed(opts.Feed, opts); err != nil {
			return nil, err
		}
	}
	js, err := njs.New(nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	cfg := njs.StreamConfig{
		Name:               opts.Stream,
		Description:        "Fundbridge events: one subject per event stream, one message per append",
		Subjects:           []string{opts.SubjectPrefix + ".>"},
		Storage:            njs.FileStorage,
		Retention:          njs.LimitsPolicy,
		Replicas:           opts.Replicas,
		Duplicates:         opts.DuplicateWindow,
		AllowAtomicPublish: true,
		AllowDirect:        true, // batched reads of one stream (direct.go)
		DenyDelete:         true, // events never change or disappear
		DenyPurge:          true,
		MaxMsgSize:         1 << 20,
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	stream, err := openEventStream(ctx, js, cfg)
	if err != nil {
		return nil, fmt.Errorf("open event stream %s: %w", cfg.Name, unavailable(err))
	}
	ackPrefix, _ := json.Marshal(opts.Stream)
	s := &Store{
		opts:      opts,
		ackPrefix: `{"stream":` + string(ackPrefix) + `,"seq":`,
		nc:        nc,
		js:        js,
		stream:    stream,
		registry:  registry,
		ids:       events.NewIDs(),
		heads:     newHeadCache(1 << 16),
		direct:    stream.CachedInfo().Config.AllowDirect,
		closed:    make(chan struct{}),
	}
	s.feed = opts.Feed
	if s.feed == nil {
		s.feed, s.ownFeed = NewFeed(s, 0), true
	}
	if opts.GroupCommit {
		s.group = newGroupCommitter(s)
		go s.group.run()
	}
	return s, nil
}

// createOrUpdateStream retries while a cluster elects its meta leader. A
// stream already as configured is only bound: services whose NATS user may
// not create or change streams open the store that the admin set up.
func createOrUpdateStream(ctx context.Context, js njs.JetStream, cfg njs.StreamConfig) (njs.Stream, error) {
	for {
		attempt, cancel := context.WithTimeout(ctx, 2*time.Second)
		stream, err := js.Stream(attempt, cfg.Name)
		if err != nil || !configured(stream.CachedInfo().Config, cfg) {
			stream, err = js.CreateOrUpdateStream(attempt, cfg)
		}
		cancel()
		if err == nil {
			return stream, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// configured reports whether a stream's configuration has every setting
// of want (those the server defaults only when want sets them).
func configured(have, want njs.StreamConfig) bool {
	return have.Description == want.Description &&
		slices.Equal(have.Subjects, want.Subjects) &&
		have.Storage == want.Storage && have.Retention == want.Retention &&
		have.Replicas == want.Replicas &&
		(want.Duplicates == 0 || have.Duplicates == want.Duplicates) &&
		have.AllowAtomicPublish == want.AllowAtomicPublish &&
		(!want.AllowDirect || have.AllowDirect) &&
		have.DenyDelete == want.DenyDelete && have.DenyPurge == want.DenyPurge &&
		have.MaxMsgSize == want.MaxMsgSize &&
		(want.MaxMsgsPerSubject == 0 || have.MaxMsgsPerSubject == want.MaxMsgsPerSubject)
}

// Close stops the group committer. The NATS connection is the caller's.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.batches.stop()
		if s.ownFeed {
			_ = s.feed.Close()
		}
		if s.group != nil {
			s.group.wait()
		}
	})
	return nil
}

// Feed is the event feed the store's subscribers read, to share with
// other stores of the process on the same stream (Options.Feed).
func (s *Store) Feed() *Feed { return s.feed }

func (s *Store) subject(streamID string) (string, error) {
	typ, id, err := events.SplitStreamID(streamID)
	if err != nil {
		return "", err
	}
	return s.opts.SubjectPrefix + "." + typ + "." + id, nil
}

// validSubject is subject for a stream ID already validated: it splits
// at the first dash without matching the pattern again.
func (s *Store) validSubject(streamID string) string {
	i := strings.IndexByte(streamID, '-')
	return s.opts.SubjectPrefix + "." + streamID[:i] + "." + streamID[i+1:]
}

// now is the time an append records.
func (s *Store) now() time.Time {
	if s.opts.Clock != nil {
		return s.opts.Clock().UTC()
	}
	return time.Now().UTC()
}

func (s *Store) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, s.opts.Timeout)
}

// readAgainAfter is how long a read of the stream goes unanswered before
// it is sent again. While a cluster elects the stream's leader (its node
// was killed), a read sent then gets no answer at all and would wait out
// the caller's whole deadline (15 s from the gateway: the fault test's
// stall after a node's SIGKILL); the same read sent again is answered
// once the new leader is elected.
const readAgainAfter = 2 * time.Second

// maxReadTries bounds the copies of one read in flight.
const maxReadTries = 4

// readAgain runs read and, each time readAgainAfter passes without an
// answer, runs it again beside the tries still waiting (a slow answer on a
// loaded server is not thrown away), up to maxReadTries; the first answer
// wins. Only for reads: sending one several times changes nothing.
func readAgain[T any](ctx context.Context, read func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // the tries still waiting end with it
	type answer struct {
		v   T
		err error
	}
	answers := make(chan answer, maxReadTries)
	try := func() {
		go func() {
			v, err := read(ctx)
			answers <- answer{v, err}
		}()
	}
	try()
	tries := 1
	timer := time.NewTimer(readAgainAfter)
	defer timer.Stop()
	for {
		select {
		case a := <-answers:
			return a.v, a.err
		case <-timer.C:
			if tries < maxReadTries {
				try()
				tries++
				timer.Reset(readAgainAfter)
			}
		}
	}
}

// Head is the stream sequence of the last commit.
func (s *Store) Head(ctx context.Context) (uint64, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	info, err := readAgain(ctx, func(ctx context.Context) (*njs.StreamInfo, error) { return s.stream.Info(ctx) })
	if err != nil {
		return 0, fmt.Errorf("head: %w", unavailable(err))
	}
	return info.State.LastSeq, nil
}

// Bounds are the stream sequences of the first and the last message: 1
// (or 0, empty) and the head in a log that lost nothing. A first above 1
// means messages before it were deleted.
func (s *Store) Bounds(ctx context.Context) (first, last uint64, err error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	info, err := s.stream.Info(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("bounds: %w", unavailable(err))
	}
	return info.State.FirstSeq, info.State.LastSeq, nil
}

// head is what the store knows of an event stream's end.
type head struct {
	version uint64 // stream version (number of events)
	seq     uint64 // stream sequence of its last commit; 0 if none
}

// fetchHead asks the server for the last commit on the stream's subject.
func (s *Store) fetchHead(ctx context.Context, streamID, subject string) (head, error) {
	msg, err := s.lastOn(ctx, subject)
	if errors.Is(err, njs.ErrMsgNotFound) {
		s.heads.put(streamID, head{})
		return head{}, nil
	}
	if err != nil {
		return head{}, fmt.Errorf("read head of %s: %w", streamID, unavailable(err))
	}
	c, err := s.decodeOn(msg.Data, subject, new(commit))
	if err != nil {
		// The last message on the subject is not a commit: the server
		// checks appends against its sequence, and the version is that of
		// the last commit before it.
		s.quarantine(msg.Sequence, subject, err)
		var version uint64
		if err := s.scanCommits(ctx, streamID, subject, 1, 1, func(_ uint64, c *commit) bool { version = c.last(); return true }); err != nil {
			return head{}, err
		}
		h := head{version: version, seq: msg.Sequence}
		s.heads.put(streamID, h)
		return h, nil
	}
	h := head{version: c.last(), seq: msg.Sequence}
	s.heads.put(streamID, h)
	return h, nil
}

// tracerName names the spans the store makes.
const tracerName = "github.com/fundbridge/fundbridge/events/jetstream"

// TracerProvider is the process's tracer provider (Options.Tracing), for
// the readers of the log to trace with; nil: they trace nothing.
func (s *Store) TracerProvider() trace.TracerProvider { return s.opts.Tracing }

// Append writes the events of one command as one commit.
func (s *Store) Append(ctx context.Context, req events.AppendRequest) (res events.AppendResult, err error) {
	// A traced request gets an append span from its own provider; an
	// untraced one (no span in ctx) gets the no-op span and does nothing.
	// Its name and attributes hold the stream's aggregate type, not its ID
	// (see internal/spans).
	if parent := trace.SpanFromContext(ctx); parent.SpanContext().IsValid() {
		aggregate := spans.AggregateOf(req.StreamID)
		attrs := []attribute.KeyValue{spans.Aggregate.String(aggregate), spans.Events.Int(len(req.Events))}
		if len(req.Events) > 0 {
			attrs = append(attrs, spans.EventType.String(req.Events[0].Type))
		}
		var span trace.Span
		ctx, span = parent.TracerProvider().Tracer(tracerName).Start(ctx, "append "+aggregate, trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attrs...))
		defer func() {
			if err == nil {
				span.SetAttributes(spans.Position.Int64(int64(res.Position)))
			}
			spans.End(span, err)
		}()
	}
	if s.opts.Observe != nil {
		defer func(start time.Time) { s.opts.Observe(len(req.Events), time.Since(start)) }(time.Now())
	}
	if err := s.registry.Validate(req); err != nil {
		return events.AppendResult{}, err
	}
	select {
	case <-s.closed:
		return events.AppendResult{}, fmt.Errorf("append %s: %w", req.StreamID, &events.UnavailableError{Err: errors.New("store closed")})
	default:
	}
	subject := s.validSubject(req.StreamID)
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()

	c := &commit{
		Stream:         req.StreamID,
		RecordedAt:     s.now(),
		Actor:          req.Meta.Actor,
		CorrelationID:  req.Meta.CorrelationID,
		CausationID:    req.Meta.CausationID,
		Command:        req.Meta.Command,
		IdempotencyKey: req.Meta.IdempotencyKey,
		Events:         make([]commitEvent, len(req.Events)),
	}
	// A retry is recognisable only if the caller named the append: by an
	// idempotency key or by event IDs it chose.
	retryable := req.Meta.IdempotencyKey != ""
	for i, e := range req.Events {
		id := e.ID
		if id == "" {
			id = s.ids.New()
		} else {
			retryable = true
		}
		c.Events[i] = commitEvent{ID: id, Type: e.Type, Payload: e.Payload}
	}
	c.ID = commitID(req.StreamID, req.Meta.IdempotencyKey, c.Events[0].ID)

	// Any retries on conflict: the caller asked for no condition, so a
	// conflict only means another append got in between.
	for attempt := 0; ; attempt++ {
		h, err := s.expectedHead(ctx, req, subject)
		if err != nil {
			if errors.Is(err, events.ErrConcurrency) && retryable {
				if res, found, ferr := s.findCommit(ctx, req.StreamID, subject, c.ID); ferr != nil {
					return events.AppendResult{}, ferr
				} else if found {
					return res, nil
				}
			}
			return events.AppendResult{}, err
		}
		c.First = h.version + 1
		res, err := s.publish(ctx, req.StreamID, subject, c, h, retryable)
		if err == nil {
			return res, nil
		}
		if !errors.Is(err, events.ErrConcurrency) {
			return events.AppendResult{}, fmt.Errorf("append %s: %w", req.StreamID, err)
		}
		if retryable {
			if res, found, ferr := s.findCommit(ctx, req.StreamID, subject, c.ID); ferr != nil {
				return events.AppendResult{}, ferr
			} else if found {
				return res, nil
			}
		}
		if req.Expected != events.Any || attempt >= 20 {
			actual, herr := s.fetchHead(ctx, req.StreamID, subject)
			if herr != nil {
				return events.AppendResult{}, herr
			}
			if req.Expected != events.Any && actual.version == uint64(req.Expected) && attempt < 20 {
				// A replicated stream refuses an append while another one to
				// the same subject is still being replicated, and that one may
				// yet fail: the expected version still holds, so try again.
				select {
				case <-time.After(time.Duration(attempt+1) * time.Millisecond):
				case <-ctx.Done():
					return events.AppendResult{}, fmt.Errorf("append %s: %w", req.StreamID, unavailable(ctx.Err()))
				}
				continue
			}
			return events.AppendResult{}, &events.ConcurrencyError{StreamID: req.StreamID, Expected: req.Expected, Actual: actual.version}
		}
	}
}

// expectedHead resolves the expected version to the head the server must
// still have: from the cache when it agrees, else from the server.
func (s *Store) expectedHead(ctx context.Context, req events.AppendRequest, subject string) (head, error) {
	if req.Expected == events.NoStream {
		return head{}, nil
	}
	if h, ok := s.heads.get(req.StreamID); ok {
		if req.Expected == events.Any || h.version == uint64(req.Expected) {
			return h, nil
		}
		if h.version > uint64(req.Expected) { // versions only grow
			return head{}, &events.ConcurrencyError{StreamID: req.StreamID, Expected: req.Expected, Actual: h.version}
		}
	}
	h, err := s.fetchHead(ctx, req.StreamID, subject)
	if err != nil {
		return head{}, err
	}
	if req.Expected != events.Any && h.version != uint64(req.Expected) {
		return head{}, &events.ConcurrencyError{StreamID: req.StreamID, Expected: req.Expected, Actual: h.version}
	}
	return h, nil
}

// commitID names a commit for JetStream's dedupe and for the retry scan.
func commitID(streamID, idempotencyKey, firstEventID string) string {
	if idempotencyKey != "" {
		return "k:" + streamID + ":" + idempotencyKey
	}
	return "e:" + firstEventID
}

// publish writes the commit if the event stream is still at h. A retryable
// commit (named by the caller) carries its ID as Nats-Msg-Id, so that
// JetStream drops a retry within its duplicate window. Other commits do not:
// their IDs were made here and no retry can repeat them, so the server need
// not remember them.
func (s *Store) publish(ctx context.Context, streamID, subject string, c *commit, h head, retryable bool) (events.AppendResult, error) {
	if !s.nc.IsConnected() {
		// nats.go would buffer the request and send it after reconnecting,
		// long after the caller gave up on it: refuse now, retryably.
		return events.AppendResult{}, &events.UnavailableError{Err: fmt.Errorf("not connected to NATS (%s)", s.nc.Status())}
	}
	header := nats.Header{njs.ExpectedLastSubjSeqHeader: {strconv.FormatUint(h.seq, 10)}}
	if retryable {
		header[njs.MsgIDHeader] = []string{c.ID}
	}
	if tp := spans.TraceParent(ctx); tp != "" {
		header[spans.Header] = []string{tp}
	}
	msg := &nats.Msg{Subject: subject, Data: c.appendTo(make([]byte, 0, c.sizeHint())), Header: header}

	var ack *njs.PubAck
	var err error
	if s.group != nil {
		ack, err = s.group.publish(ctx, msg)
	} else {
		ack, err = s.publishMsg(ctx, msg)
	}
	if err != nil {
		if isWrongLastSequence(err) {
			s.heads.forget(streamID)
			return events.AppendResult{}, events.ErrConcurrency
		}
		if isDuplicateInProcess(err) {
			// The same commit ID is being stored right now (two instances
			// of a reactor sending one command): retried, it is a duplicate
			// with the first one's result.
			return events.AppendResult{}, &events.UnavailableError{Err: err}
		}
		return events.AppendResult{}, unavailable(err)
	}
	if ack.Duplicate {
		// JetStream saw this commit ID within its window: answer as the
		// first append did.
		return s.resultAt(ctx, streamID, ack.Sequence)
	}
	s.heads.put(streamID, head{version: c.last(), seq: ack.Sequence})
	return events.AppendResult{FirstVersion: c.First, LastVersion: c.last(), Position: ack.Sequence, RecordedAt: c.RecordedAt}, nil
}

// publishMsg is js.PublishMsg with the usual acknowledgement read by hand:
// on every append's path, and encoding/json's share of a publish is large.
func (s *Store) publishMsg(ctx context.Context, msg *nats.Msg) (*njs.PubAck, error) {
	resp, err := s.nc.RequestMsgWithContext(ctx, msg)
	if errors.Is(err, nats.ErrNoResponders) {
		// No stream leader yet, as while a cluster elects one: JetStream's
		// own publish waits a little and tries again.
		return s.js.PublishMsg(ctx, msg)
	}
	if err != nil {
		return nil, err
	}
	if seq, ok := parsePubAck(resp.Data, s.ackPrefix); ok {
		return &njs.PubAck{Stream: s.opts.Stream, Sequence: seq}, nil
	}
	// Anything else (an error, a duplicate, a domain) as js.PublishMsg reads it.
	var ack struct {
		*njs.PubAck
		Error *njs.APIError `json:"error"`
	}
	if err := json.Unmarshal(resp.Data, &ack); err != nil {
		return nil, njs.ErrInvalidJSAck
	}
	if ack.Error != nil {
		return nil, fmt.Errorf("nats: %w", ack.Error)
	}
	if ack.PubAck == nil || ack.Stream == "" {
		return nil, njs.ErrInvalidJSAck
	}
	return ack.PubAck, nil
}

// parsePubAck reads the acknowledgement of a stored message as the server
// writes it, prefix then sequence: {"stream":"NAME","seq":123}.
func parsePubAck(data []byte, prefix string) (uint64, bool) {
	if len(data) < len(prefix)+2 || string(data[:len(prefix)]) != prefix || data[len(data)-1] != '}' {
		return 0, false
	}
	digits := data[len(prefix) : len(data)-1]
	if len(digits) == 0 || len(digits) > 20 || (digits[0] == '0' && len(digits) > 1) {
		return 0, false
	}
	var seq uint64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if seq > (math.MaxUint64-d)/10 {
			return 0, false
		}
		seq = seq*10 + d
	}
	return seq, seq > 0
}

// resultAt reports the append stored at seq, as a duplicate.
func (s *Store) resultAt(ctx context.Context, streamID string, seq uint64) (events.AppendResult, error) {
	raw, err := s.leaderGet(ctx, jsget.Request{Seq: seq})
	if err != nil {
		return events.AppendResult{}, fmt.Errorf("append %s: read first result at %d: %w", streamID, seq, unavailable(err))
	}
	c, err := decodeCommit(raw.Data)
	if err != nil {
		return events.AppendResult{}, fmt.Errorf("append %s: %w", streamID, err)
	}
	return events.AppendResult{FirstVersion: c.First, LastVersion: c.last(), Position: seq, Duplicate: true, RecordedAt: c.RecordedAt}, nil
}

// findCommit looks for a commit with this ID in the stream: a retry of an
// append that was stored, perhaps long ago.
func (s *Store) findCommit(ctx context.Context, streamID, subject, id string) (events.AppendResult, bool, error) {
	var found *events.AppendResult
	err := s.scanCommits(ctx, streamID, subject, 1, 1, func(seq uint64, c *commit) bool {
		if c.ID == id {
			found = &events.AppendResult{FirstVersion: c.First, LastVersion: c.last(), Position: seq, Duplicate: true, RecordedAt: c.RecordedAt}
			return false
		}
		return true
	})
	if err != nil || found == nil {
		return events.AppendResult{}, false, err
	}
	return *found, true, nil
}

func isWrongLastSequence(err error) bool {
	var apiErr *njs.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode == njs.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == njs.JSErrCodeStreamWrongLastSequenceConstant
	}
	return false
}

// jsDuplicateInProcess is JetStream's "duplicate message id is in process"
// (JSStreamDuplicateMessageConflict), which nats.go has no name for.
const jsDuplicateInProcess = 10158

func isDuplicateInProcess(err error) bool {
	var apiErr *njs.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jsDuplicateInProcess
}

// unavailable marks transport failures as retryable. An append that failed
// this way may have been stored: the caller retries with the same IDs.
func unavailable(err error) error {
	switch {
	case errors.Is(err, nats.ErrTimeout), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, nats.ErrNoResponders), errors.Is(err, nats.ErrConnectionClosed),
		errors.Is(err, nats.ErrConnectionReconnecting), errors.Is(err, nats.ErrDisconnected),
		errors.Is(err, njs.ErrNoStreamResponse), errors.Is(err, nats.ErrConnectionDraining):
		return &events.UnavailableError{Err: err}
	}
	return err
}

// headCache remembers the heads of recently used streams so that an append
// after a load needs no extra round trip. It is only a hint: the server
// checks every append.
type headCache struct {
	mu    sync.Mutex
	max   int
	heads map[string]head
}

func newHeadCache(max int) *headCache {
	return &headCache{max: max, heads: make(map[string]head)}
}

func (c *headCache) get(id string) (head, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.heads[id]
	return h, ok
}

func (c *headCache) put(id string, h head) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.heads[id]; ok && old.seq > h.seq {
		return // never move a head backwards
	}
	if len(c.heads) >= c.max {
		n := 0
		for k := range c.heads { // map order is random: evict an arbitrary eighth
			delete(c.heads, k)
			if n++; n >= c.max/8 {
				break
			}
		}
	}
	c.heads[id] = h
}

func (c *headCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.heads, id)
}
