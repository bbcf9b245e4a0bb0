package funds

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
	i.view.mu.RLock()
	defer i.view.mu.RUnlock()
	return json.Marshal(i.view.funds)
}

// The funds view restarts from its checkpoint, folds only the log's tail,
// and reaches the state a fold from 0 reaches, over a random market.
func TestViewResumesFromItsCheckpoint(t *testing.T) {
	reg := events.NewRegistry()
	sim.Register(reg)
	env := testenv.Start(t, reg)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	viewstatetest.CheckResume(t, env.Store, viewstatetest.Sim(env.Store, sim.Config{Seed: seed, Companies: 60, Funds: 6}), func(dir string) viewstatetest.Instance {
		return instance{New(env.Store, reg, WithCheckpoints(dir), WithLogger(slog.New(slog.DiscardHandler)))}
	})
}
