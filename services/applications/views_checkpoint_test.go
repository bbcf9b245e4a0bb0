package applications

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/projections/sim"
	"github.com/fundbridge/fundbridge/services/svc/viewstate"
	"github.com/fundbridge/fundbridge/services/svc/viewstate/viewstatetest"
)

// instance is one start of the service's views for viewstatetest.
type instance struct{ *Service }

func (i instance) WaitFor(ctx context.Context, p uint64) error { return i.follower.WaitFor(ctx, p) }
func (i instance) Stats() viewstate.Stats                      { return i.follower.Stats() }
func (i instance) State() ([]byte, error) {
	v := i.views
	v.mu.RLock()
	defer v.mu.RUnlock()
	// The index a checkpoint does not hold is rebuilt on restore: it must
	// equal the one folded from 0 as well.
	index := make([][2]string, len(v.byCreated))
	for i, k := range v.byCreated {
		index[i] = [2]string{k.key, k.id}
	}
	return json.Marshal(struct {
		viewsState
		ByCreated [][2]string
	}{viewsState{
		Companies: v.companies, Applications: v.applications, AppsByCompany: v.appsByCompany,
		AppsByFund: v.appsByFund, FundManager: v.fundManager, FundsByOrg: v.fundsByOrg,
	}, index})
}

// The views restart from their checkpoint, fold only the log's tail, and
// reach the state a fold from 0 reaches, over a random market.
func TestViewsResumeFromTheirCheckpoint(t *testing.T) {
	reg := events.NewRegistry()
	sim.Register(reg)
	env := testenv.Start(t, reg)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	viewstatetest.CheckResume(t, env.Store, viewstatetest.Sim(env.Store, sim.Config{Seed: seed, Companies: 60, Funds: 6}), func(dir string) viewstatetest.Instance {
		return instance{New(env.Store, reg, WithCheckpoints(dir), WithLogger(slog.New(slog.DiscardHandler)))}
	})
}
