package svc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/services/svc"
)

var operator = fundbridge.Actor{UserID: "u-op", Role: fundbridge.RoleOperator}

func serve(t *testing.T, nc *nats.Conn, s svc.Service) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx, nc, s) }()
	// Wait until the subscriptions are live.
	deadline := time.Now().Add(5 * time.Second)
	for op := range s.Operations {
		for {
			if _, err := nc.Request(svc.Subject(s.Name, op), []byte("{"), time.Second); !errors.Is(err, nats.ErrNoResponders) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("service %s never came up", s.Name)
			}
			time.Sleep(5 * time.Millisecond)
		}
		break
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func TestErrorsKeepTheirKindAcrossTheWire(t *testing.T) {
	env := testenv.Start(t, events.NewRegistry())
	serve(t, env.Conn, svc.Service{Name: "errs", Operations: map[string]svc.Handler{
		"fail": func(ctx context.Context, req *svc.Request) (svc.Result[any], error) {
			var in struct{ Code string }
			_ = json.Unmarshal(req.Payload, &in)
			switch in.Code {
			case "invalid":
				return svc.Result[any]{}, fundbridge.Invalid("bad amount", fundbridge.FieldError{Field: "amount", Reason: "more than 2 decimal places"})
			case "conflict":
				return svc.Result[any]{}, fmt.Errorf("wrapped: %w", &events.ConcurrencyError{StreamID: "x-1", Expected: 1, Actual: 2})
			case "panic":
				panic("boom")
			case "plain":
				return svc.Result[any]{}, errors.New("database password is hunter2")
			case "":
				return svc.Result[any]{Value: map[string]string{"echo": req.Actor.UserID}, Position: 7, Version: 3}, nil
			}
			return svc.Result[any]{}, fundbridge.Errorf(in.Code, "failed with %s", in.Code)
		},
	}})
	client := svc.NewClient(env.Conn, 5*time.Second)
	call := func(code string, actor fundbridge.Actor) (svc.Reply, error) {
		payload, _ := json.Marshal(map[string]string{"Code": code})
		return client.Call(context.Background(), "errs", "fail", &svc.Request{Actor: actor, Payload: payload}, nil)
	}
	for _, code := range []string{fundbridge.EINVALID, fundbridge.ENOTFOUND, fundbridge.EFORBIDDEN, fundbridge.ECONFLICT, fundbridge.EUNPROCESSABLE} {
		_, err := call(code, operator)
		var fe *fundbridge.Error
		if !errors.As(err, &fe) || fe.Code != code {
			t.Errorf("%s: got %v, want a *fundbridge.Error with that code", code, err)
		}
	}
	_, err := call("invalid", operator)
	if f := fundbridge.ErrorFields(err); len(f) != 1 || f[0].Field != "amount" {
		t.Errorf("invalid: fields %v, want amount named", f)
	}
	if _, err := call("panic", operator); fundbridge.ErrorCode(err) != fundbridge.EINTERNAL {
		t.Errorf("panic: %v, want internal", err)
	}
	if _, err := call("plain", operator); fundbridge.ErrorCode(err) != fundbridge.EINTERNAL || fundbridge.ErrorMessage(err) != "internal error" {
		t.Errorf("plain error: %v, want internal without details", err)
	}
	if _, err := call("", fundbridge.Actor{}); fundbridge.ErrorCode(err) != fundbridge.EUNAUTHORIZED {
		t.Errorf("no actor: %v, want unauthorized", err)
	}
	var out map[string]string
	reply, err := client.Call(context.Background(), "errs", "fail", &svc.Request{Actor: operator, Payload: json.RawMessage(`{}`)}, &out)
	if err != nil || out["echo"] != "u-op" || reply.Position != 7 || reply.Version != 3 {
		t.Errorf("success = %+v %v %v", reply, out, err)
	}
	if _, err := client.Call(context.Background(), "nobody", "home", &svc.Request{Actor: operator}, nil); fundbridge.ErrorCode(err) != fundbridge.EUNAVAILABLE {
		t.Errorf("no such service: %v, want unavailable", err)
	}
}

func TestQueueGroupSharesLoadAndDrainFinishesInFlight(t *testing.T) {
	env := testenv.Start(t, events.NewRegistry())
	var served [2]atomic.Int64
	release := make(chan struct{})
	handler := func(i int) svc.Handler {
		return func(ctx context.Context, req *svc.Request) (svc.Result[any], error) {
			served[i].Add(1)
			if string(req.Payload) == `"slow"` {
				<-release
			}
			return svc.Result[any]{Value: i}, nil
		}
	}
	stop0 := serve(t, env.Connect(t), svc.Service{Name: "work", Operations: map[string]svc.Handler{"do": handler(0)}})
	serve(t, env.Connect(t), svc.Service{Name: "work", Operations: map[string]svc.Handler{"do": handler(1)}})
	client := svc.NewClient(env.Conn, 5*time.Second)
	for range 200 {
		if _, err := client.Call(context.Background(), "work", "do", &svc.Request{Actor: operator, Payload: json.RawMessage(`"fast"`)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if served[0].Load() == 0 || served[1].Load() == 0 || served[0].Load()+served[1].Load() < 200 {
		t.Fatalf("instances served %d and %d of 200: the queue group did not share", served[0].Load(), served[1].Load())
	}

	// A request in flight on an instance that shuts down still gets its answer.
	served[0].Store(0)
	served[1].Store(0)
	results := make(chan error, 20)
	for range 20 {
		go func() {
			_, err := client.Call(context.Background(), "work", "do", &svc.Request{Actor: operator, Payload: json.RawMessage(`"slow"`)}, nil)
			results <- err
		}()
	}
	for served[0].Load() == 0 || served[0].Load()+served[1].Load() < 20 {
		time.Sleep(time.Millisecond)
	}
	stopped := make(chan struct{})
	go func() { stop0(); close(stopped) }()
	time.Sleep(50 * time.Millisecond)
	close(release)
	for range 20 {
		if err := <-results; err != nil {
			t.Errorf("in-flight request failed across drain: %v", err)
		}
	}
	<-stopped
}

func TestLostConnectionIsRetryableNeverSuccess(t *testing.T) {
	env := testenv.Start(t, events.NewRegistry())
	started := make(chan struct{}, 1)
	serve(t, env.Connect(t), svc.Service{Name: "slow", Operations: map[string]svc.Handler{
		"do": func(ctx context.Context, req *svc.Request) (svc.Result[any], error) {
			started <- struct{}{}
			time.Sleep(300 * time.Millisecond)
			return svc.Result[any]{Value: "done"}, nil
		},
	}})
	client := svc.NewClient(env.Connect(t, nats.MaxReconnects(-1)), 2*time.Second)
	errc := make(chan error, 1)
	go func() {
		_, err := client.Call(context.Background(), "slow", "do", &svc.Request{Actor: operator}, nil)
		errc <- err
	}()
	<-started
	t0 := time.Now()
	env.Server.Shutdown()
	t.Logf("shutdown took %v", time.Since(t0))
	err := <-errc
	t.Logf("call failed after %v", time.Since(t0))
	if fundbridge.ErrorCode(err) != fundbridge.EUNAVAILABLE {
		t.Fatalf("call across a lost server = %v, want unavailable", err)
	}
}

// A call waiting for its reply when its own connection is lost gives up
// at once as unavailable (nats.go ends the requests pending on a
// connection when it drops), instead of waiting out its deadline: the
// handler is still held when the call has returned. (A reply lost on the
// responder's side, or a JetStream publish lost with its stream's leader,
// still waits out the deadline: see the fault test.)
func TestACallGivesUpWhenItsConnectionIsLost(t *testing.T) {
	env := testenv.Start(t, events.NewRegistry())
	started, release := make(chan struct{}, 1), make(chan struct{})
	serve(t, env.Connect(t), svc.Service{Name: "held", Operations: map[string]svc.Handler{
		"do": func(ctx context.Context, req *svc.Request) (svc.Result[any], error) {
			started <- struct{}{}
			<-release
			return svc.Result[any]{Value: "done"}, nil
		},
	}})
	defer close(release)
	nc := env.Connect(t, nats.MaxReconnects(-1), nats.ReconnectWait(10*time.Millisecond))
	client := svc.NewClient(nc, time.Minute)
	errc := make(chan error, 1)
	go func() {
		_, err := client.Call(context.Background(), "held", "do", &svc.Request{Actor: operator}, nil)
		errc <- err
	}()
	<-started
	if err := nc.ForceReconnect(); err != nil {
		t.Fatal(err)
	}
	err := <-errc // the handler is still held: only the lost connection can end the call
	if fundbridge.ErrorCode(err) != fundbridge.EUNAVAILABLE {
		t.Fatalf("call whose connection was lost = %v, want unavailable", err)
	}
	// The client works on the connection it got back.
	serve(t, env.Connect(t), svc.Service{Name: "quick", Operations: map[string]svc.Handler{
		"do": func(ctx context.Context, req *svc.Request) (svc.Result[any], error) {
			return svc.Result[any]{Value: "done"}, nil
		},
	}})
	var out string
	if _, err := client.Call(context.Background(), "quick", "do", &svc.Request{Actor: operator}, &out); err != nil || out != "done" {
		t.Fatalf("call after the reconnect = %q, %v", out, err)
	}
}

// A counter is the smallest aggregate: it counts up to a limit.
type counted struct {
	By int `json:"by"`
}

func (counted) EventType() string { return "counter.counted.v1" }

type counter struct {
	Total int `json:"total"`
}

func registry() *events.Registry {
	r := events.NewRegistry()
	events.Register[counted](r, "counter.counted.v1")
	return r
}

var counterDecider = svc.Decider[counter]{
	Type:           "counter",
	Initial:        func() counter { return counter{} },
	Evolve:         func(s counter, _ events.Event, p any) counter { s.Total += p.(counted).By; return s },
	SnapshotSchema: "counter.v1",
}

func add(by, limit int) func(counter) ([]events.Payload, error) {
	return func(s counter) ([]events.Payload, error) {
		if s.Total+by > limit {
			return nil, fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "total %d + %d passes %d", s.Total, by, limit)
		}
		return []events.Payload{counted{By: by}}, nil
	}
}

func meta(key string) svc.Command {
	return svc.Command{Meta: events.Meta{Actor: operator, IdempotencyKey: key}}
}

func TestRepositoryRetriesConflictsFromFreshState(t *testing.T) {
	env := testenv.Start(t, registry())
	// Two instances of a service: their caches go stale behind each other.
	a := svc.NewRepository(env.Store, registry(), counterDecider, svc.RepositoryOptions{})
	b := svc.NewRepository(env.Store, registry(), counterDecider, svc.RepositoryOptions{})
	ctx := context.Background()
	var wg sync.WaitGroup
	var refused atomic.Int64
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			repo := a
			if i%2 == 1 {
				repo = b
			}
			_, _, err := repo.Execute(ctx, "c1", meta(""), svc.CheckedBefore, add(1, 30))
			switch fundbridge.ErrorCode(err) {
			case "":
			case fundbridge.EUNPROCESSABLE:
				refused.Add(1)
			default:
				t.Errorf("execute: %v", err)
			}
		}()
	}
	wg.Wait()
	got, err := svc.NewRepository(env.Store, registry(), counterDecider, svc.RepositoryOptions{}).Load(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if got.State.Total != 30 || got.Version != 30 || refused.Load() != 10 {
		t.Fatalf("total %d at version %d with %d refused; want 30, 30, 10 (the limit held across instances)", got.State.Total, got.Version, refused.Load())
	}
}

func TestRepositoryIdempotencyAndIfMatch(t *testing.T) {
	env := testenv.Start(t, registry())
	repo := svc.NewRepository(env.Store, registry(), counterDecider, svc.RepositoryOptions{})
	ctx := context.Background()
	first, s, err := repo.Execute(ctx, "c2", meta("k1"), svc.CheckedBefore, add(5, 100))
	if err != nil || s.Total != 5 {
		t.Fatal(s, err)
	}
	again, s, err := repo.Execute(ctx, "c2", meta("k1"), svc.CheckedBefore, add(5, 100))
	if err != nil || !again.Duplicate || again.Position != first.Position || s.Total != 5 {
		t.Fatalf("retry = %+v total %d %v; want the first result, nothing appended", again, s.Total, err)
	}
	// A fresh instance (no cache) recognises the key from the stream itself.
	other := svc.NewRepository(env.Store, registry(), counterDecider, svc.RepositoryOptions{})
	if res, _, err := other.Execute(ctx, "c2", meta("k1"), svc.CheckedBefore, add(5, 100)); err != nil || !res.Duplicate {
		t.Fatalf("retry on another instance = %+v %v", res, err)
	}
	stale := uint64(0)
	cmd := meta("")
	cmd.Expected = &stale
	if _, _, err := repo.Execute(ctx, "c2", cmd, svc.CheckedBefore, add(1, 100)); !errors.Is(err, events.ErrConcurrency) {
		t.Fatalf("If-Match on a stale version = %v, want a conflict", err)
	}
	current := uint64(1)
	cmd.Expected = &current
	if res, _, err := repo.Execute(ctx, "c2", cmd, svc.CheckedBefore, add(1, 100)); err != nil || res.LastVersion != 2 {
		t.Fatalf("If-Match on the current version = %+v %v", res, err)
	}
	if _, _, err := repo.Execute(ctx, "c2", meta(""), svc.CheckedBefore, add(1000, 100)); fundbridge.ErrorCode(err) != fundbridge.EUNPROCESSABLE {
		t.Fatalf("refused command = %v", err)
	}
	if got, _ := repo.Load(ctx, "c2"); got.Version != 2 {
		t.Fatalf("version %d after a refused command, want 2", got.Version)
	}
}

func TestRepositorySnapshots(t *testing.T) {
	env := testenv.Start(t, registry())
	opts := svc.RepositoryOptions{Snapshots: env.Snapshots, SnapshotEvery: 50}
	repo := svc.NewRepository(env.Store, registry(), counterDecider, opts)
	ctx := context.Background()
	for i := range 120 {
		if _, _, err := repo.Execute(ctx, "c3", meta(fmt.Sprint("k", i)), svc.CheckedBefore, add(1, 1000)); err != nil {
			t.Fatal(err)
		}
	}
	var snap events.Snapshot
	for deadline := time.Now().Add(5 * time.Second); ; {
		var ok bool
		var err error
		snap, ok, err = env.Snapshots.LoadSnapshot(ctx, "counter-c3")
		if err != nil {
			t.Fatal(err)
		}
		if ok && snap.Version == 100 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no snapshot at version 100 (have %+v)", snap)
		}
		time.Sleep(10 * time.Millisecond)
	}
	fresh := svc.NewRepository(env.Store, registry(), counterDecider, opts)
	got, err := fresh.Load(ctx, "counter-c3"[len("counter-"):])
	if err != nil || got.State.Total != 120 || got.Version != 120 {
		t.Fatalf("load from snapshot = %+v %v; want 120 at 120", got, err)
	}
	// Keys recorded before the snapshot still make retries idempotent.
	if res, _, err := fresh.Execute(ctx, "c3", meta("k3"), svc.CheckedBefore, add(1, 1000)); err != nil || !res.Duplicate {
		t.Fatalf("retry of a command from before the snapshot = %+v %v", res, err)
	}
	// A snapshot of another shape is ignored, not trusted.
	changed := counterDecider
	changed.SnapshotSchema = "counter.v2"
	if got, err := svc.NewRepository(env.Store, registry(), changed, opts).Load(ctx, "c3"); err != nil || got.State.Total != 120 {
		t.Fatalf("load with a new schema = %+v %v", got, err)
	}
	// A corrupt snapshot falls back to the events.
	if err := env.Snapshots.SaveSnapshot(ctx, events.Snapshot{StreamID: "counter-c3", Version: 120, Position: snap.Position, Schema: "counter.v1", State: json.RawMessage(`{"state":{"total":"x"}}`)}); err != nil {
		t.Fatal(err)
	}
	if got, err := svc.NewRepository(env.Store, registry(), counterDecider, opts).Load(ctx, "c3"); err != nil || got.State.Total != 120 {
		t.Fatalf("load past a corrupt snapshot = %+v %v", got, err)
	}
}

func TestRepositoryRejudgesRefusalsOnFreshState(t *testing.T) {
	env := testenv.Start(t, registry())
	a := svc.NewRepository(env.Store, registry(), counterDecider, svc.RepositoryOptions{})
	b := svc.NewRepository(env.Store, registry(), counterDecider, svc.RepositoryOptions{})
	ctx := context.Background()
	// A does not cache what does not exist: B creating it is seen at once.
	if got, _ := a.Load(ctx, "c4"); got.Version != 0 {
		t.Fatal(got)
	}
	if _, _, err := b.Execute(ctx, "c4", meta(""), svc.CheckedBefore, add(1, 100)); err != nil {
		t.Fatal(err)
	}
	atLeast := func(n int) func(counter) ([]events.Payload, error) {
		return func(s counter) ([]events.Payload, error) {
			if s.Total < n {
				return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "total %d is below %d", s.Total, n)
			}
			return []events.Payload{counted{By: 1}}, nil
		}
	}
	if _, s, err := a.Execute(ctx, "c4", meta(""), svc.CheckedBefore, atLeast(1)); err != nil || s.Total != 2 {
		t.Fatalf("A after B created the counter = %+v %v", s, err)
	}
	// A's cache says 2; B moves it to 3; a command A would refuse on 2
	// but not on 3 is judged again on fresh state.
	if _, _, err := b.Execute(ctx, "c4", meta(""), svc.CheckedBefore, add(1, 100)); err != nil {
		t.Fatal(err)
	}
	if _, s, err := a.Execute(ctx, "c4", meta(""), svc.CheckedBefore, atLeast(3)); err != nil || s.Total != 4 {
		t.Fatalf("A on a stale cache = %+v %v; want the command judged on fresh state", s, err)
	}
}

func TestRepositoryAuthorizesBeforeReplaying(t *testing.T) {
	env := testenv.Start(t, registry())
	repo := svc.NewRepository(env.Store, registry(), counterDecider, svc.RepositoryOptions{})
	ctx := context.Background()
	if _, _, err := repo.Execute(ctx, "c5", meta("owner-key"), svc.CheckedBefore, add(1, 100)); err != nil {
		t.Fatal(err)
	}
	notYours := func(counter) error { return fundbridge.Errorf(fundbridge.ENOTFOUND, "no counter c5") }
	if _, _, err := repo.Execute(ctx, "c5", meta("owner-key"), notYours, add(1, 100)); fundbridge.ErrorCode(err) != fundbridge.ENOTFOUND {
		t.Errorf("replay by someone else = %v, want not found", err)
	}
	stale := uint64(0)
	cmd := meta("")
	cmd.Expected = &stale
	if _, _, err := repo.Execute(ctx, "c5", cmd, notYours, add(1, 100)); fundbridge.ErrorCode(err) != fundbridge.ENOTFOUND {
		t.Errorf("If-Match by someone else = %v, want not found", err)
	}
	// There is no way around the check: without one, nothing is decided.
	if _, _, err := repo.Execute(ctx, "c5", meta(""), nil, add(1, 100)); err == nil || !strings.Contains(err.Error(), "without an authorization check") {
		t.Errorf("a command without an authorization check = %v, want it refused", err)
	}
	if a, err := repo.Load(ctx, "c5"); err != nil || a.Version != 1 {
		t.Errorf("c5 at version %d (%v) after refusals, want 1: nothing appended", a.Version, err)
	}
}

// readCounter is the real store, counting the stream reads made through it.
type readCounter struct {
	events.Store
	reads atomic.Int64
}

func (c *readCounter) ReadStream(ctx context.Context, streamID string, from uint64) ([]events.Event, error) {
	c.reads.Add(1)
	return c.Store.ReadStream(ctx, streamID, from)
}

// A create is appended without reading the store first; a command that
// would be decided differently on the aggregate as it is than on a blank
// one is judged on the aggregate as it is, even by an instance that never
// saw it.
func TestRepositoryCreatesWithoutReadingAndJudgesExistingAsTheyAre(t *testing.T) {
	env := testenv.Start(t, registry())
	ctx := context.Background()
	store := &readCounter{Store: env.Store}
	repo := svc.NewRepository(store, registry(), counterDecider, svc.RepositoryOptions{})
	if res, s, err := repo.Execute(ctx, "c9", meta("k1"), svc.CheckedBefore, add(25, 30)); err != nil || res.LastVersion != 1 || s.Total != 25 {
		t.Fatalf("create = %+v %d %v", res, s.Total, err)
	}
	if n := store.reads.Load(); n != 0 {
		t.Errorf("a create read the store %d times, want none", n)
	}
	fresh := func() *svc.Repository[counter] {
		return svc.NewRepository(env.Store, registry(), counterDecider, svc.RepositoryOptions{})
	}
	// On a blank counter 10 is within the limit; on this one it is not.
	if _, _, err := fresh().Execute(ctx, "c9", meta(""), svc.CheckedBefore, add(10, 30)); fundbridge.ErrorCode(err) != fundbridge.EUNPROCESSABLE {
		t.Fatalf("10 more on another instance = %v, want refused on the counter as it is", err)
	}
	if res, s, err := fresh().Execute(ctx, "c9", meta(""), svc.CheckedBefore, add(5, 30)); err != nil || res.LastVersion != 2 || s.Total != 30 {
		t.Fatalf("5 more on another instance = %+v total %d %v, want version 2 total 30", res, s.Total, err)
	}
	if res, s, err := fresh().Execute(ctx, "c9", meta("k1"), svc.CheckedBefore, add(25, 30)); err != nil || !res.Duplicate || res.LastVersion != 1 || s.Total != 30 {
		t.Fatalf("the create retried on another instance = %+v total %d %v, want its first result", res, s.Total, err)
	}
	got, err := fresh().Load(ctx, "c9")
	if err != nil || got.Version != 2 || got.State.Total != 30 {
		t.Fatalf("counter = %+v %v, want version 2 total 30", got, err)
	}
}

// Serving is told once a request can reach the instance: every endpoint
// of the service answers from another connection the moment it is called
// (readiness waits for it; a view at the head was once taken for it).
func TestServingIsToldOnceEveryEndpointIsReachable(t *testing.T) {
	env := testenv.Start(t, events.NewRegistry())
	ok := func(ctx context.Context, req *svc.Request) (svc.Result[any], error) {
		return svc.Result[any]{Value: "ok"}, nil
	}
	ops := map[string]svc.Handler{}
	for i := range 40 {
		ops[fmt.Sprintf("op%02d", i)] = ok
	}
	other := env.Connect(t)
	reached := make(chan []string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- svc.Serve(ctx, env.Connect(t), svc.Service{Name: "ready", Operations: ops, Serving: func() {
			var missing []string
			for op := range ops {
				if _, err := other.Request(svc.Subject("ready", op), []byte("{"), 5*time.Second); errors.Is(err, nats.ErrNoResponders) {
					missing = append(missing, op)
				}
			}
			reached <- missing
		}})
	}()
	select {
	case missing := <-reached:
		if len(missing) > 0 {
			t.Errorf("told it was serving while %v had no responder", missing)
		}
	case err := <-done:
		t.Fatalf("serve ended before serving: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("Serving never called")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
