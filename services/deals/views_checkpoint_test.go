package deals

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/svc/viewstate"
	"github.com/fundbridge/fundbridge/services/svc/viewstate/viewstatetest"
)

// instance is one start of the service's view for viewstatetest.
type instance struct{ *Service }

func (i instance) WaitFor(ctx context.Context, p uint64) error { return i.follower.WaitFor(ctx, p) }
func (i instance) Stats() viewstate.Stats                      { return i.follower.Stats() }
func (i instance) State() ([]byte, error) {
	v := i.view
	v.mu.RLock()
	defer v.mu.RUnlock()
	return json.Marshal(viewState{Banks: v.banks, Deals: v.deals, Loans: v.loans, Funds: v.funds, Companies: v.companies})
}

// The view restarts from its checkpoint at every stage of a deal and its
// loan (the schedule's periods included), folds only the tail, and
// reaches the state a fold from 0 reaches.
func TestViewResumesFromItsCheckpoint(t *testing.T) {
	reg := events.NewRegistry()
	dealsapi.Register(reg)
	fundsapi.Register(reg)
	applicationsapi.Register(reg)
	env := testenv.Start(t, reg)
	appendTo := func(stream string, ps ...events.Payload) error {
		req := events.AppendRequest{StreamID: stream, Expected: events.Any, Meta: events.Meta{Actor: fundbridge.Actor{UserID: "given", Role: fundbridge.RoleSystem}}}
		for _, p := range ps {
			data, err := json.Marshal(p)
			if err != nil {
				return err
			}
			req.Events = append(req.Events, events.NewEvent{Type: p.EventType(), Payload: data})
		}
		_, err := env.Store.Append(context.Background(), req)
		return err
	}
	phases := []func() error{
		func() error {
			for _, b := range []string{"bank-lead", "bank-b"} {
				if err := appendTo(BankAggregate+"-"+b, onboarded(b, "500000000", "50000000")); err != nil {
					return err
				}
			}
			return appendTo("fund-fund-1", fundsapi.FundRegistered{FundID: "fund-1", ManagerOrg: "org-1", Name: "Fund", Type: fundsapi.FundVC, CommittedCapital: amt("100000000")})
		},
		func() error {
			return appendTo(applicationsapi.CompanyAggregate+"-co-1", applicationsapi.CompanyRegistered{CompanyID: "co-1", CompanyProfile: applicationsapi.CompanyProfile{Name: "Xinghe Robotics"}})
		},
		func() error { return appendTo(DealAggregate+"-deal-1", closedDeal()...) },
		func() error { return appendTo(LoanAggregate+"-deal-1", inRepayment(t)...) },
		func() error { return appendTo(LoanAggregate+"-deal-1", firstPaid()) },
	}
	write := func(between func(int)) error {
		for i, phase := range phases {
			if err := phase(); err != nil {
				return err
			}
			if i < len(phases)-1 {
				between(i)
			}
		}
		return nil
	}
	viewstatetest.CheckResume(t, env.Store, write, func(dir string) viewstatetest.Instance {
		return instance{New(env.Store, reg, WithCheckpoints(dir), WithLogger(slog.New(slog.DiscardHandler)))}
	})
}
