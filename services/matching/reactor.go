package matching

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// The reactor tells the applications service what matching learned: new
// matches and a fund starting to screen. (A closing is a process of its
// own: closing.go.) The follower only marks
// work (a coalescing set, never blocking on NATS); one goroutine does it.
// Each task re-reads the views when it runs and sends only what the
// applications service's own events do not show yet, so a restart that
// replays the log sends nothing already recorded, and repeats carry the
// same idempotency key.

// standbyPoll is how often a standing-by reactor asks whether it acts now.
const standbyPoll = 250 * time.Millisecond

// maxFundsPerMatch bounds one mark_matched; more go in later sends.
const maxFundsPerMatch = 500

// systemActor is matching acting as the platform.
func systemActor() fundbridge.Actor {
	return fundbridge.Actor{UserID: Name, Role: fundbridge.RoleSystem}
}

type taskKind uint8

const (
	taskMatch  taskKind = iota + 1 // id: application
	taskReview                     // id: deal
)

type taskKey struct {
	kind taskKind
	id   string
}

// taskCause is the event that made the task, for the request's trail.
type taskCause struct{ correlation, causation string }

type task struct {
	key   taskKey
	cause taskCause
}

// outcome of one attempt at a task.
type outcome int

const (
	done  outcome = iota // sent, or nothing to send
	later                // retry after a backoff
)

type delayed struct {
	due time.Time
	key taskKey
}

type delayHeap []delayed

func (h delayHeap) Len() int           { return len(h) }
func (h delayHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h delayHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *delayHeap) Push(x any)        { *h = append(*h, x.(delayed)) }
func (h *delayHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

type reactor struct {
	views      *views
	client     *svc.Client
	log        *slog.Logger
	minBackoff time.Duration
	maxBackoff time.Duration
	callWait   time.Duration

	mu       sync.Mutex
	causes   map[taskKey]taskCause // every task pending: ready, delayed or in flight
	ready    []taskKey
	waiting  delayHeap
	attempts map[taskKey]int
	wake     chan struct{}
	// active, when set, says whether this instance is the one that acts:
	// with several matching instances, only the one whose closing process
	// manager holds the lease sends; the others keep their tasks, ready to
	// take over.
	active func() bool
	// inflight is the task being attempted; again says an event marked it
	// meanwhile, so it runs once more even if this attempt is its last.
	inflight taskKey
	again    bool

	// sent holds funds already sent in mark_matched whose
	// application.matched.v1 has not been folded yet. Only the worker
	// goroutine touches it.
	sent map[string]map[string]struct{}
	// unsent is the same for mark_unmatched.
	unsent map[string]map[string]struct{}
}

func newReactor(v *views, client *svc.Client, log *slog.Logger, minBackoff, maxBackoff time.Duration) *reactor {
	return &reactor{
		views: v, client: client, log: log, minBackoff: minBackoff, maxBackoff: maxBackoff, callWait: 10 * time.Second,
		causes: map[taskKey]taskCause{}, attempts: map[taskKey]int{},
		wake: make(chan struct{}, 1), sent: map[string]map[string]struct{}{}, unsent: map[string]map[string]struct{}{},
	}
}

// add marks work; a task already pending is not queued twice.
func (r *reactor) add(ts []task) {
	if len(ts) == 0 {
		return
	}
	r.mu.Lock()
	for _, t := range ts {
		if t.key == r.inflight {
			r.again = true
			continue
		}
		if _, pending := r.causes[t.key]; pending {
			continue
		}
		r.causes[t.key] = t.cause
		r.ready = append(r.ready, t.key)
	}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// next returns a task due now, or how long until one is.
func (r *reactor) next(now time.Time) (taskKey, taskCause, bool, time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.waiting) > 0 && !r.waiting[0].due.After(now) {
		d := heap.Pop(&r.waiting).(delayed)
		r.ready = append(r.ready, d.key)
	}
	if len(r.ready) > 0 {
		k := r.ready[0]
		r.ready[0] = taskKey{}
		r.ready = r.ready[1:]
		r.inflight, r.again = k, false
		return k, r.causes[k], true, 0
	}
	if len(r.waiting) > 0 {
		return taskKey{}, taskCause{}, false, r.waiting[0].due.Sub(now)
	}
	return taskKey{}, taskCause{}, false, time.Hour
}

func (r *reactor) finish(k taskKey, o outcome, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	again := r.again
	r.inflight, r.again = taskKey{}, false
	if o == done {
		delete(r.attempts, k)
		if again {
			r.ready = append(r.ready, k)
		} else {
			delete(r.causes, k)
		}
		return
	}
	n := r.attempts[k]
	r.attempts[k] = n + 1
	wait := r.minBackoff << min(n, 20)
	if wait > r.maxBackoff || wait <= 0 {
		wait = r.maxBackoff
	}
	heap.Push(&r.waiting, delayed{due: now.Add(wait), key: k})
}

// run works until ctx ends, starting once ready returns: after the
// follower has replayed the log as it stood at startup, so that every
// decision sees what the applications service already recorded.
func (r *reactor) run(ctx context.Context, ready func(context.Context) error) {
	if err := ready(ctx); err != nil {
		return
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		if r.active != nil && !r.active() {
			select { // standing by: look again soon
			case <-ctx.Done():
				return
			case <-time.After(standbyPoll):
			}
			continue
		}
		k, cause, ok, wait := r.next(time.Now())
		if !ok {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-r.wake:
			case <-timer.C:
			}
			continue
		}
		o := r.attempt(ctx, k, cause)
		if ctx.Err() != nil {
			return
		}
		r.finish(k, o, time.Now())
	}
}

// call is one request to another service, as the platform.
type call struct {
	endpoint  svc.EndpointInfo
	key       string
	payload   any
	onSuccess func()
}

func (r *reactor) attempt(ctx context.Context, k taskKey, cause taskCause) outcome {
	c, o := r.plan(k)
	if c == nil {
		return o
	}
	payload, err := json.Marshal(c.payload)
	if err != nil {
		r.log.Error("encode request", "op", c.endpoint.Op, "err", err)
		return done
	}
	ctx, cancel := context.WithTimeout(ctx, r.callWait)
	defer cancel()
	_, err = r.client.Call(ctx, c.endpoint.Service, c.endpoint.Op, &svc.Request{
		Actor: systemActor(), CorrelationID: cause.correlation, CausationID: cause.causation,
		IdempotencyKey: c.key, Payload: payload,
	}, nil)
	switch code := fundbridge.ErrorCode(err); code {
	case "":
		if c.onSuccess != nil {
			c.onSuccess()
		}
		return done
	case fundbridge.EUNAVAILABLE, fundbridge.EINTERNAL:
		r.log.Warn("will retry", "op", c.endpoint.Op, "key", c.key, "err", err)
		return later
	case fundbridge.ECONFLICT:
		r.log.Info("refused: the application has moved on", "op", c.endpoint.Op, "key", c.key, "err", err)
		return done
	default:
		r.log.Error("refused", "op", c.endpoint.Op, "key", c.key, "err", err)
		return done
	}
}

// plan decides, from the views as they are now, what to send for a task.
func (r *reactor) plan(k taskKey) (*call, outcome) {
	if r.client == nil {
		return nil, later
	}
	r.views.mu.RLock()
	defer r.views.mu.RUnlock()
	switch k.kind {
	case taskMatch:
		return r.planMatch(k.id)
	case taskReview:
		return r.planReview(k.id)
	}
	return nil, done
}

// planMatch makes the funds the applications service records for an
// open application the funds on its board now: first it sends the funds
// not recorded yet, best first, then the recorded funds that no longer
// match. Each send is followed by another look, until nothing differs.
func (r *reactor) planMatch(appID string) (*call, outcome) {
	st := r.views.apps[appID]
	if st == nil || !st.open() {
		r.forgetSent(appID)
		return nil, done
	}
	sent, unsent := r.pending(appID, st)
	board := r.views.engine.ApplicationBoard(appID)
	if fresh := newFunds(board, st.matched, sent); len(fresh) > 0 {
		fresh = fresh[:min(len(fresh), maxFundsPerMatch)]
		slices.Sort(fresh)
		return &call{
			endpoint: applicationsapi.MarkMatchedEndpoint.Info(), key: matchKey("match", appID, st.matchEvents, fresh),
			payload: applicationsapi.MarkMatched{ApplicationID: appID, FundIDs: fresh},
			onSuccess: func() {
				addTo(&sent, fresh...)
				r.sent[appID] = sent
				r.add([]task{{key: taskKey{kind: taskMatch, id: appID}}})
			},
		}, done
	}
	stale := staleFunds(board, st.matched, unsent)
	if len(stale) == 0 {
		return nil, done
	}
	stale = stale[:min(len(stale), maxFundsPerMatch)]
	return &call{
		endpoint: applicationsapi.MarkUnmatchedEndpoint.Info(), key: matchKey("unmatch", appID, st.matchEvents, stale),
		payload: applicationsapi.MarkUnmatched{ApplicationID: appID, FundIDs: stale},
		onSuccess: func() {
			addTo(&unsent, stale...)
			r.unsent[appID] = unsent
			r.add([]task{{key: taskKey{kind: taskMatch, id: appID}}})
		},
	}, done
}

// pending returns the funds this process sent to add or to remove whose
// events have not been folded yet, forgetting those that have.
func (r *reactor) pending(appID string, st *appState) (sent, unsent map[string]struct{}) {
	sent, unsent = r.sent[appID], r.unsent[appID]
	for f := range sent {
		if has(st.matched, f) {
			delete(sent, f)
		}
	}
	for f := range unsent {
		if !has(st.matched, f) {
			delete(unsent, f)
		}
	}
	if len(sent) == 0 {
		delete(r.sent, appID)
	}
	if len(unsent) == 0 {
		delete(r.unsent, appID)
	}
	return sent, unsent
}

// newFunds lists, best first, the funds on an application's board that
// neither its folded matches nor this process's sends already hold.
func newFunds(board []Match, recorded, sent map[string]struct{}) []string {
	var fresh []string
	for _, m := range board {
		if !has(recorded, m.FundID) && !has(sent, m.FundID) {
			fresh = append(fresh, m.FundID)
		}
	}
	return fresh
}

// staleFunds lists, sorted, the recorded funds that are not on the board
// and not already sent for removal.
func staleFunds(board []Match, recorded, unsent map[string]struct{}) []string {
	on := make(map[string]struct{}, len(board))
	for _, m := range board {
		on[m.FundID] = struct{}{}
	}
	var stale []string
	for f := range recorded {
		if !has(on, f) && !has(unsent, f) {
			stale = append(stale, f)
		}
	}
	slices.Sort(stale)
	return stale
}

func (r *reactor) forgetSent(appID string) {
	delete(r.sent, appID)
	delete(r.unsent, appID)
}

// matchKey names a mark_matched or mark_unmatched by its application, how
// many match events the application had, and the fund set, so a repeat
// is stored once while the same set later is a new command.
func matchKey(kind, appID string, seen int, sortedFunds []string) string {
	sum := sha256.Sum256([]byte(strings.Join(sortedFunds, "\x00")))
	return kind + ":" + appID + ":" + strconv.Itoa(seen) + ":" + hex.EncodeToString(sum[:8])
}

// awaitMatch reports whether a fund's match to an application is still
// to be recorded; the applications service refuses reviews by unmatched
// funds, so those wait for it.
func (r *reactor) awaitMatch(st *appState, appID, fundID string) bool {
	if has(st.matched, fundID) {
		return false
	}
	if st.open() {
		r.add([]task{{key: taskKey{kind: taskMatch, id: appID}}})
	}
	return true
}

func (r *reactor) planReview(dealID string) (*call, outcome) {
	d, ok := r.views.deals[dealID]
	if !ok || !dealOpen(d) || d.Step == matchingapi.StepSourced {
		return nil, done
	}
	st := r.views.apps[d.ApplicationID]
	if st == nil || !st.open() || has(st.reviewing, d.FundID) {
		return nil, done
	}
	if _, on := r.views.engine.Score(d.FundID, d.ApplicationID); !on && !has(st.matched, d.FundID) {
		return nil, done // the fund no longer matches: the applications service would refuse the review
	}
	if r.awaitMatch(st, d.ApplicationID, d.FundID) {
		return nil, later
	}
	return &call{
		endpoint: applicationsapi.MarkUnderReviewEndpoint.Info(), key: "under_review:" + dealID,
		payload: applicationsapi.MarkUnderReview{ApplicationID: d.ApplicationID, FundID: d.FundID},
	}, done
}
