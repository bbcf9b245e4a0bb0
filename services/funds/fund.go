package funds

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/fold"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// aggregateType names the fund's streams: "fund-<id>".
const aggregateType = "fund"

// fund is the aggregate's state. It is a value: evolve returns a new one
// and never writes into the slices of the one it was given, so the
// repository's cache and the views can share states without copying.
// Fields are exported for snapshots.
type fund struct {
	ID               string            `json:"id"`
	ManagerOrg       string            `json:"manager_org"`
	Name             string            `json:"name"`
	Type             fundsapi.FundType `json:"type"`
	CommittedCapital money.Amount      `json:"committed_capital"`
	// Invested is the sum of all commitments; dry powder is what is left.
	Invested     money.Amount          `json:"invested"`
	Mandate      *fundsapi.Mandate     `json:"mandate,omitempty"`
	Commitments  []fundsapi.Commitment `json:"commitments,omitempty"` // in commit order
	Closed       bool                  `json:"closed"`
	CloseReason  string                `json:"close_reason,omitempty"`
	RegisteredAt time.Time             `json:"registered_at"`
	UpdatedAt    time.Time             `json:"updated_at"`
	Version      uint64                `json:"version"`
}

func (f fund) exists() bool { return f.ID != "" }

// DryPowder is committed capital not yet committed to deals.
func (f fund) DryPowder() money.Amount { return f.CommittedCapital.Sub(f.Invested) }

func (f fund) status() string {
	if f.Closed {
		return fundsapi.StatusClosed
	}
	return fundsapi.StatusOpen
}

func (f fund) commitment(dealID string) (fundsapi.Commitment, bool) {
	for _, c := range f.Commitments {
		if c.DealID == dealID {
			return c, true
		}
	}
	return fundsapi.Commitment{}, false
}

// fundDecider is the fund aggregate for the repository.
func fundDecider() svc.Decider[fund] {
	return svc.Decider[fund]{
		Type:           aggregateType,
		Initial:        func() fund { return fund{} },
		Evolve:         fundFolds().Apply,
		SnapshotSchema: "fund.v1",
	}
}

// fundFolds is the fund's fold, one step per event type. Pure: slices
// are copied before they grow, never appended to in place. A type this
// version does not know changes nothing.
func fundFolds() *fold.Evolve[fund] {
	var f fold.Evolve[fund]
	fold.Step(&f, func(_ fund, e events.Event, p fundsapi.FundRegistered) fund {
		return fund{
			ID: p.FundID, ManagerOrg: p.ManagerOrg, Name: p.Name, Type: p.Type,
			CommittedCapital: p.CommittedCapital, RegisteredAt: e.RecordedAt,
		}
	})
	fold.Step(&f, func(s fund, _ events.Event, p fundsapi.MandateSet) fund {
		m := cloneMandate(p.Mandate)
		s.Mandate = &m
		return s
	})
	fold.Step(&f, func(s fund, e events.Event, p fundsapi.CapitalCommitted) fund {
		s.Commitments = append(slices.Clip(s.Commitments), fundsapi.Commitment{
			DealID: p.DealID, ApplicationID: p.ApplicationID, CompanyID: p.CompanyID,
			Amount: p.Amount, DryPowderAfter: p.DryPowderAfter, CommittedAt: e.RecordedAt, Version: e.Version,
		})
		s.Invested = s.Invested.Add(p.Amount)
		return s
	})
	fold.Step(&f, func(s fund, _ events.Event, p fundsapi.CapitalReleased) fund {
		i := slices.IndexFunc(s.Commitments, func(c fundsapi.Commitment) bool { return c.DealID == p.DealID })
		if i < 0 {
			return s
		}
		s.Commitments = slices.Delete(slices.Clone(s.Commitments), i, i+1)
		s.Invested = s.Invested.Sub(p.Amount)
		return s
	})
	fold.Step(&f, func(s fund, _ events.Event, p fundsapi.FundClosed) fund {
		s.Closed, s.CloseReason = true, p.Reason
		return s
	})
	f.Then(func(s fund, e events.Event) fund {
		s.Version, s.UpdatedAt = e.Version, e.RecordedAt
		return s
	})
	return &f
}

func cloneMandate(m fundsapi.Mandate) fundsapi.Mandate {
	m.Stages = slices.Clone(m.Stages)
	m.Layers = slices.Clone(m.Layers)
	m.Sectors = slices.Clone(m.Sectors)
	m.Cities = slices.Clone(m.Cities)
	m.ExcludedSectors = slices.Clone(m.ExcludedSectors)
	m.ExcludedCompanies = slices.Clone(m.ExcludedCompanies)
	return m
}

// DryPowderError refuses a commitment larger than what the fund has left.
type DryPowderError struct {
	FundID    string
	Amount    money.Amount
	DryPowder money.Amount
}

func (e *DryPowderError) Error() string {
	amount, dry := human(e.Amount, e.DryPowder)
	return fmt.Sprintf("commitment %s exceeds dry powder %s", amount, dry)
}
func (e *DryPowderError) ErrorCode() string { return fundbridge.EUNPROCESSABLE }

// human formats two amounts for a message comparing them.
func human(a, b money.Amount) (string, string) { return a.Human(), b.Human() }

// ClosedError refuses a change to a closed fund.
type ClosedError struct{ FundID string }

func (e *ClosedError) Error() string     { return fmt.Sprintf("fund %s is closed", e.FundID) }
func (e *ClosedError) ErrorCode() string { return fundbridge.ECONFLICT }

// notFound is the answer both for a fund that does not exist and for one
// the actor may not see, so that existence is not revealed.
func notFound(id string) error {
	return fundbridge.Errorf(fundbridge.ENOTFOUND, "no fund %s", id)
}

func forbidden(role fundbridge.Role, what string) error {
	return fundbridge.Errorf(fundbridge.EFORBIDDEN, "%s may not %s", fundbridge.Article(role), what)
}

// visible reports whether the actor may see the fund at all.
func visible(a fundbridge.Actor, f fund) bool {
	switch a.Role {
	case fundbridge.RoleOperator, fundbridge.RoleSystem:
		return true
	case fundbridge.RoleFundManager:
		return a.OrgID != "" && a.OrgID == f.ManagerOrg
	}
	return false
}

// requireRole refuses roles that may never do this, whatever the fund.
func requireRole(a fundbridge.Actor, what string, roles []fundbridge.Role) error {
	if !slices.Contains(roles, a.Role) {
		return forbidden(a.Role, what)
	}
	if a.Role == fundbridge.RoleFundManager && a.OrgID == "" {
		return fundbridge.Errorf(fundbridge.EFORBIDDEN, "a fund manager without a management org may not %s", what)
	}
	return nil
}

// authorizeManage lets the managing org, operators and the platform change
// an existing fund; to anyone else the fund does not exist.
func authorizeManage(a fundbridge.Actor, s fund, id, what string) error {
	if err := requireRole(a, what, fundsapi.Managers()); err != nil {
		return err
	}
	if !s.exists() || !visible(a, s) {
		return notFound(id)
	}
	return nil
}

// decideRegister registers a new fund with the given ID. A fund manager
// registers for its own org; operators and the platform name the org.
func decideRegister(s fund, a fundbridge.Actor, id string, cmd fundsapi.RegisterFund) ([]events.Payload, error) {
	if err := requireRole(a, "register funds", fundsapi.Managers()); err != nil {
		return nil, err
	}
	if err := cmd.Validate(); err != nil {
		return nil, err
	}
	manager, err := managerOrg(a, cmd)
	if err != nil {
		return nil, err
	}
	if s.exists() {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "fund %s is already registered", id)
	}
	return []events.Payload{fundsapi.FundRegistered{
		FundID: id, ManagerOrg: manager, Name: strings.TrimSpace(cmd.Name), Type: cmd.Type, CommittedCapital: cmd.CommittedCapital,
	}}, nil
}

// managerOrg is the org a new fund belongs to: a fund manager's own, or
// the one an operator or the platform names.
func managerOrg(a fundbridge.Actor, cmd fundsapi.RegisterFund) (string, error) {
	if a.Role == fundbridge.RoleFundManager {
		if cmd.ManagerOrg != "" && cmd.ManagerOrg != a.OrgID {
			return "", fundbridge.Errorf(fundbridge.EFORBIDDEN, "a fund manager registers funds for its own org only")
		}
		return a.OrgID, nil
	}
	if cmd.ManagerOrg == "" {
		return "", fundbridge.Invalid("manager org required", fundbridge.FieldError{Field: "manager_org", Reason: "required when a " + string(a.Role) + " registers a fund"})
	}
	return cmd.ManagerOrg, nil
}

// decideSetMandate replaces the whole mandate. Setting the mandate the fund
// already has appends nothing.
func decideSetMandate(s fund, a fundbridge.Actor, cmd fundsapi.SetMandate) ([]events.Payload, error) {
	if err := authorizeManage(a, s, cmd.FundID, "set fund mandates"); err != nil {
		return nil, err
	}
	m, err := cmd.Mandate()
	if err != nil {
		return nil, err
	}
	if s.Closed {
		return nil, &ClosedError{FundID: s.ID}
	}
	if m.TicketMax.GreaterThan(s.CommittedCapital) {
		ticket, capital := human(m.TicketMax, s.CommittedCapital)
		e := fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "ticket maximum %s exceeds committed capital %s", ticket, capital)
		e.Fields = []fundbridge.FieldError{{Field: "ticket_max", Reason: "exceeds the fund's committed capital " + s.CommittedCapital.String()}}
		return nil, e
	}
	if s.Mandate != nil && sameMandate(*s.Mandate, m) {
		return nil, nil
	}
	return []events.Payload{fundsapi.MandateSet{FundID: s.ID, Mandate: m}}, nil
}

func sameMandate(a, b fundsapi.Mandate) bool {
	return slices.Equal(a.Stages, b.Stages) && slices.Equal(a.Layers, b.Layers) && slices.Equal(a.Sectors, b.Sectors) &&
		slices.Equal(a.Cities, b.Cities) && a.TicketMin.Equal(b.TicketMin) && a.TicketMax.Equal(b.TicketMax) &&
		a.MaxOwnership.Equal(b.MaxOwnership) && slices.Equal(a.ExcludedSectors, b.ExcludedSectors) &&
		slices.Equal(a.ExcludedCompanies, b.ExcludedCompanies)
}

// decideCommit commits equity to a deal out of dry powder. A deal is
// committed at most once: the same commitment again changes nothing, so
// the matching service may retry without an idempotency key.
func decideCommit(s fund, a fundbridge.Actor, cmd fundsapi.CommitCapital) ([]events.Payload, error) {
	if err := requireRole(a, "commit fund capital", fundsapi.Committers()); err != nil {
		return nil, err
	}
	if err := cmd.Validate(); err != nil {
		return nil, err
	}
	if !s.exists() {
		return nil, notFound(cmd.FundID)
	}
	if prior, ok := s.commitment(cmd.DealID); ok {
		if prior.ApplicationID != cmd.ApplicationID || prior.CompanyID != cmd.CompanyID || !prior.Amount.Equal(cmd.Amount) {
			return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "deal %s already committed %s to application %s of company %s",
				cmd.DealID, prior.Amount.Human(), prior.ApplicationID, prior.CompanyID)
		}
		return nil, nil
	}
	if s.Closed {
		return nil, &ClosedError{FundID: s.ID}
	}
	dry := s.DryPowder()
	if cmd.Amount.GreaterThan(dry) {
		return nil, &DryPowderError{FundID: s.ID, Amount: cmd.Amount, DryPowder: dry}
	}
	return []events.Payload{fundsapi.CapitalCommitted{
		FundID: s.ID, DealID: cmd.DealID, ApplicationID: cmd.ApplicationID, CompanyID: cmd.CompanyID,
		Amount: cmd.Amount, DryPowderAfter: dry.Sub(cmd.Amount),
	}}, nil
}

// decideRelease gives back a deal's commitment. A deal with none (never
// committed, or released already) changes nothing: the closing process
// undoes a commit without knowing whether it took effect. A closed fund
// still takes its capital back.
func decideRelease(s fund, a fundbridge.Actor, cmd fundsapi.ReleaseCapital) ([]events.Payload, error) {
	if a.Role != fundbridge.RoleSystem {
		return nil, forbidden(a.Role, "release fund capital")
	}
	if !s.exists() {
		return nil, notFound(cmd.FundID)
	}
	c, ok := s.commitment(cmd.DealID)
	if !ok {
		return nil, nil
	}
	return []events.Payload{fundsapi.CapitalReleased{
		FundID: s.ID, DealID: c.DealID, ApplicationID: c.ApplicationID, Amount: c.Amount,
		DryPowderAfter: s.DryPowder().Add(c.Amount), Reason: strings.TrimSpace(cmd.Reason),
	}}, nil
}

// decideClose closes the fund to new mandates and commitments.
func decideClose(s fund, a fundbridge.Actor, cmd fundsapi.CloseFund) ([]events.Payload, error) {
	if err := authorizeManage(a, s, cmd.FundID, "close funds"); err != nil {
		return nil, err
	}
	if err := cmd.Validate(); err != nil {
		return nil, err
	}
	if s.Closed {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "fund %s is already closed", s.ID)
	}
	return []events.Payload{fundsapi.FundClosed{FundID: s.ID, Reason: strings.TrimSpace(cmd.Reason)}}, nil
}
