package viewstate_test

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/services/svc/viewstate"
)

// CatchUp returns only once the model reflects every append the log had
// when it was called, however slowly the model folds.
func TestCatchUpWaitsForTheLogsHead(t *testing.T) {
	env := testenv.Start(t, registry())
	head := appendN(t, env.Store, rand.New(rand.NewPCG(5, 6)), 60)
	var folded atomic.Int64
	f := viewstate.NewFollower("slow", env.Store, func(events.Event) error {
		time.Sleep(time.Millisecond) // a model slower than the question
		folded.Add(1)
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = f.Run(ctx, 0) }()

	wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer wcancel()
	if err := f.CatchUp(wctx); err != nil {
		t.Fatal(err)
	}
	if got := f.Position(); got < head {
		t.Fatalf("caught up at position %d, the log's head is %d", got, head)
	}
	if got := folded.Load(); got != 60 {
		t.Fatalf("folded %d events when CatchUp returned, want all 60", got)
	}
}

// When the log's head cannot be read, CatchUp says the view is
// unavailable: a caller must not turn "cannot tell" into "not found".
func TestCatchUpWithoutTheLogIsUnavailable(t *testing.T) {
	env := testenv.Start(t, registry())
	appendN(t, env.Store, rand.New(rand.NewPCG(7, 8)), 5)
	f := viewstate.NewFollower("cut-off", env.Store, func(events.Event) error { return nil })
	env.Server.Shutdown()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := f.CatchUp(ctx)
	if fundbridge.ErrorCode(err) != fundbridge.EUNAVAILABLE {
		t.Fatalf("CatchUp with the server gone: %v (code %q), want %s", err, fundbridge.ErrorCode(err), fundbridge.EUNAVAILABLE)
	}
}
