package insurance

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/jetstream"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/money"
	api "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// Many policies bound at once on two instances, each with its own NATS
// connection and store over one JetStream, race to draw the last of a
// subsidy budget. The sum drawn must be the budget exactly (the wholes
// asked for are far more), never more; each draw whole, or capped by what
// was left; none negative; and every bind that drew nothing was told the
// budget is exhausted.
func TestConcurrentBindsNeverOverdrawTheBudget(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	registry := events.NewRegistry()
	api.Register(registry)
	env := testenv.Start(t, registry)
	other, err := jetstream.Open(ctx, env.Connect(t), registry, jetstream.Options{GroupCommit: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	opts := svc.RepositoryOptions{Retries: 1000} // every racer must come to a verdict, not give up
	instances := []*svc.Repository[Programme]{
		svc.NewRepository(env.Store, registry, programmeDecider(), opts),
		svc.NewRepository(other, registry, programmeDecider(), opts),
	}

	const id, binds = "sz-race", 64
	created := programme
	created.ProgrammeID, created.Budget = id, amt("150000.00")
	meta := func(cause string) svc.Command {
		return svc.Command{Meta: events.Meta{Actor: platformActor, CorrelationID: "race", CausationID: cause}}
	}
	if _, _, err := instances[0].Execute(ctx, id, meta("create"), svc.CheckedBefore, func(g Programme) ([]events.Payload, error) {
		cmd := createCmd()
		cmd.Budget = created.Budget
		return decideCreateProgramme(g, operator, id, cmd)
	}); err != nil {
		t.Fatal(err)
	}
	// Each bind is a different company, so the yearly cap never refuses:
	// premiums from ¥3,000 to ¥30,000 ask for ¥1,500 to ¥10,000 each,
	// about ¥320,000 in all against a budget of ¥150,000: about half
	// draw, the rest find it spent.
	r := rand.New(rand.NewPCG(2026, 5))
	cmds := make([]api.DrawSubsidy, binds)
	for i := range cmds {
		cmds[i] = drawFor(fmt.Sprintf("pol-%02d", i), fmt.Sprintf("co-%02d", i), money.FromDecimal(decimal.New(300000+r.Int64N(2700001), -2)).String())
		cmds[i].ProgrammeID = id
	}
	// Both instances hold the new programme in memory, as running
	// instances would: their first draws are both decided on it, and one
	// of them must lose the append and be decided again.
	for _, repo := range instances {
		if _, err := repo.Load(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	type verdict struct {
		drew      *api.SubsidyDrawn
		exhausted bool
		err       error
	}
	verdicts := make([]verdict, binds)
	var decisions atomic.Int64 // more than binds: some were decided again after losing a race
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, cmd := range cmds {
		wg.Go(func() {
			<-start
			var decided api.SubsidyDrawn
			_, _, err := instances[i%2].Execute(ctx, id, meta(cmd.PolicyID), svc.CheckedBefore, func(g Programme) ([]events.Payload, error) {
				decisions.Add(1)
				out, err := decideDraw(g, platformActor, cmd)
				if err == nil && len(out) == 1 {
					decided = out[0].(api.SubsidyDrawn) // the last decision is the one appended
				}
				return out, err
			})
			var exhausted *BudgetExhaustedError
			switch {
			case errors.As(err, &exhausted):
				verdicts[i].exhausted = true
			case err != nil:
				verdicts[i].err = err
			default:
				verdicts[i].drew = &decided
			}
		})
	}
	close(start)
	wg.Wait()

	// Every racer came to a verdict, and what it was told is on the log.
	drawnBy := map[string]api.SubsidyDrawn{}
	log, err := env.Store.ReadStream(ctx, "subsidy-"+id, 1)
	if err != nil {
		t.Fatal(err)
	}
	left, capped := created.Budget, 0
	for _, e := range log[1:] {
		_, payload, err := registry.Decode(e)
		if err != nil {
			t.Fatal(err)
		}
		d := payload.(api.SubsidyDrawn)
		switch {
		case !d.Amount.IsPositive():
			t.Errorf("%s drew %s", d.PolicyID, d.Amount)
		case d.Amount.GreaterThan(left):
			t.Errorf("%s drew %s with only %s left", d.PolicyID, d.Amount, left)
		case d.Capped && !(d.Amount.Equal(left) && d.Amount.LessThan(d.Whole)):
			t.Errorf("%s drew %s, capped, with %s left of its whole %s", d.PolicyID, d.Amount, left, d.Whole)
		case !d.Capped && !d.Amount.Equal(d.Whole):
			t.Errorf("%s drew %s, not its whole %s", d.PolicyID, d.Amount, d.Whole)
		}
		left = left.Sub(d.Amount)
		if !d.BudgetLeft.Equal(left) {
			t.Errorf("%s records %s left; the log says %s", d.PolicyID, d.BudgetLeft, left)
		}
		if d.Capped {
			capped++
		}
		if _, twice := drawnBy[d.PolicyID]; twice {
			t.Errorf("%s drew twice", d.PolicyID)
		}
		drawnBy[d.PolicyID] = d
	}
	if !left.IsZero() || capped > 1 {
		t.Errorf("after the race %s of the budget is left and %d draws were capped; want all of it drawn, at most one capped", left, capped)
	}
	exhausted := 0
	for i, v := range verdicts {
		on, recorded := drawnBy[cmds[i].PolicyID]
		switch {
		case v.err != nil:
			t.Errorf("bind %d: %v", i, v.err)
		case v.exhausted:
			exhausted++
			if recorded {
				t.Errorf("bind %d was told the budget is exhausted, yet drew %s", i, on.Amount)
			}
		case !recorded || mustJSON(t, *v.drew) != mustJSON(t, on):
			t.Errorf("bind %d was told it drew %+v; the log has %+v", i, v.drew, on)
		case !on.Whole.Equal(money.Min(cmds[i].Premium.Mul(created.Share), created.CapPerYear)):
			t.Errorf("bind %d: whole %s for a premium of %s", i, on.Whole, cmds[i].Premium)
		}
	}
	if len(drawnBy)+exhausted != binds {
		t.Errorf("%d draws and %d refusals for %d binds", len(drawnBy), exhausted, binds)
	}
	t.Logf("%d binds in %d decisions: %d drew the budget of %s (%d capped), %d found it exhausted", binds, decisions.Load(), len(drawnBy), created.Budget, capped, exhausted)
	if decisions.Load() <= binds {
		t.Errorf("%d decisions for %d binds: no bind lost a race, so the race was not tested", decisions.Load(), binds)
	}
}
