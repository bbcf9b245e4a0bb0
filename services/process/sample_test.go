package process

import (
	"context"
	"encoding/json"
	"maps"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/svc"
)

// The sample process closes a deal across two aggregates of another
// service: it reserves the application, then commits the fund's capital;
// if the fund refuses, it releases the reservation. A closing may be asked
// to settle later, at a deadline.

// ClosingRequested is appended by the (test) deal service to start a closing.
type ClosingRequested struct {
	ClosingID     string       `json:"closing_id"`
	ApplicationID string       `json:"application_id"`
	FundID        string       `json:"fund_id"`
	Amount        money.Amount `json:"amount"`
	SettleAt      *time.Time   `json:"settle_at,omitempty"`
}

// ClosingStarted is the process's own record of what it is closing.
type ClosingStarted struct {
	ApplicationID string       `json:"application_id"`
	FundID        string       `json:"fund_id"`
	Amount        money.Amount `json:"amount"`
}

func (ClosingRequested) EventType() string { return "closing.requested.v1" }
func (ClosingStarted) EventType() string   { return "closing.started.v1" }

type closing struct {
	Started       bool
	ApplicationID string
	FundID        string
	Amount        money.Amount
}

// Ops of the ledger service the process talks to.
type reserveApp struct {
	ApplicationID string `json:"application_id"`
	Deal          string `json:"deal"`
}

type commitFund struct {
	FundID string       `json:"fund_id"`
	Deal   string       `json:"deal"`
	Amount money.Amount `json:"amount"`
}

func closingDefinition() Definition[closing] {
	return Definition[closing]{
		Name:    "closing",
		Initial: func() closing { return closing{} },
		Evolve: func(s closing, p any) closing {
			if e, ok := p.(ClosingStarted); ok {
				s.Started, s.ApplicationID, s.FundID, s.Amount = true, e.ApplicationID, e.FundID, e.Amount
			}
			return s
		},
		Route: map[string]func(events.Event, any) string{
			ClosingRequested{}.EventType(): func(_ events.Event, p any) string { return p.(ClosingRequested).ClosingID },
		},
		On: func(s closing, in Observation) Decision {
			r, ok := in.Payload.(ClosingRequested)
			if !ok || s.Started {
				return Decision{}
			}
			dec := Decision{Record: []events.Payload{ClosingStarted{ApplicationID: r.ApplicationID, FundID: r.FundID, Amount: r.Amount}}}
			if r.SettleAt != nil {
				dec.Schedule = []Deadline{{Name: "settle", At: *r.SettleAt}}
				return dec
			}
			dec.Send = []Command{reserve(in.ProcessID, r.ApplicationID)}
			return dec
		},
		OnDeadline: func(s closing, w Wake) Decision {
			if w.Name != "settle" {
				return Decision{}
			}
			return Decision{Send: []Command{reserve(w.ProcessID, s.ApplicationID)}}
		},
		OnReply: func(s closing, r Reply) Decision {
			switch {
			case r.Step == "reserve" && r.OK():
				return Decision{Send: []Command{{
					Step: "commit", Service: "ledger", Op: "fund.commit",
					Payload: commitFund{FundID: s.FundID, Deal: r.ProcessID, Amount: s.Amount},
					Undo:    &Command{Service: "ledger", Op: "fund.release", Payload: commitFund{FundID: s.FundID, Deal: r.ProcessID}},
				}}}
			case r.Step == "reserve":
				return Decision{Fail: "the application cannot be reserved: " + r.Refusal.Message}
			case r.Step == "commit" && r.OK():
				return Decision{Complete: true}
			case r.Step == "commit":
				return Decision{Compensate: "the fund refused the commitment: " + r.Refusal.Message}
			}
			return Decision{}
		},
	}
}

func reserve(deal, app string) Command {
	return Command{
		Step: "reserve", Service: "ledger", Op: "application.reserve",
		Payload: reserveApp{ApplicationID: app, Deal: deal},
		Undo:    &Command{Service: "ledger", Op: "application.release", Payload: reserveApp{ApplicationID: app, Deal: deal}},
	}
}

// The ledger: a tiny service over NATS, built with services/svc, whose
// aggregates apply each command once per idempotency key. Counting its
// events tells how often a command took effect.

type FundOpened struct {
	Capital money.Amount `json:"capital"`
}
type CapitalCommitted struct {
	Deal   string       `json:"deal"`
	Amount money.Amount `json:"amount"`
}
type CapitalReleased struct {
	Deal string `json:"deal"`
}
type ApplicationReserved struct {
	Deal string `json:"deal"`
}
type ApplicationReleased struct {
	Deal string `json:"deal"`
}

func (FundOpened) EventType() string          { return "ledgerfund.opened.v1" }
func (CapitalCommitted) EventType() string    { return "ledgerfund.committed.v1" }
func (CapitalReleased) EventType() string     { return "ledgerfund.released.v1" }
func (ApplicationReserved) EventType() string { return "ledgerapp.reserved.v1" }
func (ApplicationReleased) EventType() string { return "ledgerapp.released.v1" }

func testRegistry() *events.Registry {
	r := events.NewRegistry()
	Register(r)
	events.Register[ClosingRequested](r, ClosingRequested{}.EventType())
	events.Register[ClosingStarted](r, ClosingStarted{}.EventType())
	events.Register[FundOpened](r, FundOpened{}.EventType())
	events.Register[CapitalCommitted](r, CapitalCommitted{}.EventType())
	events.Register[CapitalReleased](r, CapitalReleased{}.EventType())
	events.Register[ApplicationReserved](r, ApplicationReserved{}.EventType())
	events.Register[ApplicationReleased](r, ApplicationReleased{}.EventType())
	return r
}

type ledgerFund struct {
	Capital   money.Amount
	Committed map[string]money.Amount
}

type ledgerApp struct{ ReservedBy string }

var (
	ledgerFunds = svc.Decider[ledgerFund]{
		Type:    "ledgerfund",
		Initial: func() ledgerFund { return ledgerFund{Committed: map[string]money.Amount{}} },
		Evolve: func(s ledgerFund, _ events.Event, p any) ledgerFund {
			c := maps.Clone(s.Committed)
			switch e := p.(type) {
			case FundOpened:
				s.Capital = e.Capital
			case CapitalCommitted:
				c[e.Deal] = e.Amount
				s.Capital = s.Capital.Sub(e.Amount)
			case CapitalReleased:
				s.Capital = s.Capital.Add(c[e.Deal])
				delete(c, e.Deal)
			}
			s.Committed = c
			return s
		},
	}
	ledgerApps = svc.Decider[ledgerApp]{
		Type:    "ledgerapp",
		Initial: func() ledgerApp { return ledgerApp{} },
		Evolve: func(s ledgerApp, _ events.Event, p any) ledgerApp {
			switch e := p.(type) {
			case ApplicationReserved:
				s.ReservedBy = e.Deal
			case ApplicationReleased:
				s.ReservedBy = ""
			}
			return s
		},
	}
)

func ledgerService(store events.Store, reg *events.Registry) svc.Service {
	funds := svc.NewRepository(store, reg, ledgerFunds, svc.RepositoryOptions{})
	apps := svc.NewRepository(store, reg, ledgerApps, svc.RepositoryOptions{})
	cmd := func(req *svc.Request) svc.Command {
		return svc.Command{Meta: events.Meta{Actor: req.Actor, CorrelationID: req.CorrelationID, CausationID: req.ID, Command: req.Op, IdempotencyKey: req.IdempotencyKey}}
	}
	return svc.Service{Name: "ledger", Operations: map[string]svc.Handler{
		"application.reserve": func(ctx context.Context, req *svc.Request) (svc.Result[any], error) {
			var in reserveApp
			if err := json.Unmarshal(req.Payload, &in); err != nil {
				return svc.Result[any]{}, fundbridge.Invalid(err.Error())
			}
			res, _, err := apps.Execute(ctx, in.ApplicationID, cmd(req), svc.CheckedBefore, func(s ledgerApp) ([]events.Payload, error) {
				if s.ReservedBy != "" && s.ReservedBy != in.Deal {
					return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "application %s is reserved by deal %s", in.ApplicationID, s.ReservedBy)
				}
				return []events.Payload{ApplicationReserved{Deal: in.Deal}}, nil
			})
			return svc.Result[any]{Position: res.Position, Version: res.LastVersion}, err
		},
		"application.release": func(ctx context.Context, req *svc.Request) (svc.Result[any], error) {
			var in reserveApp
			if err := json.Unmarshal(req.Payload, &in); err != nil {
				return svc.Result[any]{}, fundbridge.Invalid(err.Error())
			}
			res, _, err := apps.Execute(ctx, in.ApplicationID, cmd(req), svc.CheckedBefore, func(s ledgerApp) ([]events.Payload, error) {
				if s.ReservedBy != in.Deal {
					return nil, nil
				}
				return []events.Payload{ApplicationReleased{Deal: in.Deal}}, nil
			})
			return svc.Result[any]{Position: res.Position, Version: res.LastVersion}, err
		},
		"fund.commit": func(ctx context.Context, req *svc.Request) (svc.Result[any], error) {
			var in commitFund
			if err := json.Unmarshal(req.Payload, &in); err != nil {
				return svc.Result[any]{}, fundbridge.Invalid(err.Error())
			}
			res, _, err := funds.Execute(ctx, in.FundID, cmd(req), svc.CheckedBefore, func(s ledgerFund) ([]events.Payload, error) {
				if in.Amount.GreaterThan(s.Capital) {
					return nil, fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "commitment of %s is beyond the dry powder of %s", in.Amount, s.Capital)
				}
				return []events.Payload{CapitalCommitted{Deal: in.Deal, Amount: in.Amount}}, nil
			})
			return svc.Result[any]{Position: res.Position, Version: res.LastVersion}, err
		},
		"fund.release": func(ctx context.Context, req *svc.Request) (svc.Result[any], error) {
			var in commitFund
			if err := json.Unmarshal(req.Payload, &in); err != nil {
				return svc.Result[any]{}, fundbridge.Invalid(err.Error())
			}
			res, _, err := funds.Execute(ctx, in.FundID, cmd(req), svc.CheckedBefore, func(s ledgerFund) ([]events.Payload, error) {
				if _, ok := s.Committed[in.Deal]; !ok {
					return nil, nil
				}
				return []events.Payload{CapitalReleased{Deal: in.Deal}}, nil
			})
			return svc.Result[any]{Position: res.Position, Version: res.LastVersion}, err
		},
	}}
}
