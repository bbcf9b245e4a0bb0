package insurance

import (
	"fmt"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/fold"
	"github.com/fundbridge/fundbridge/money"
	api "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// programmeType names the subsidy programme streams: "subsidy-<id>".
//
// Every draw on a programme is an event on its one stream, appended at the
// version the draw was decided on. Two binds racing for the last of a
// budget, on two instances, cannot both append at the same version: the
// loser is decided again on the state with the winner's draw, so the
// budget left it sees is what is truly left, and it can never go below
// zero.
const programmeType = "subsidy"

// Draw is one policy's subsidy from a programme.
type Draw struct {
	PolicyID  string       `json:"policy_id"`
	CompanyID string       `json:"company_id"`
	Year      int          `json:"year"`
	Amount    money.Amount `json:"amount"`
	Returned  money.Amount `json:"returned"`
}

// Programme is the subsidy programme aggregate's state. It is a value:
// evolve returns a new one and never writes into the slices of the one it
// was given.
type Programme struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Sponsor    string            `json:"sponsor"`
	Share      decimal.Decimal   `json:"share"`
	CapPerYear money.Amount      `json:"cap_per_company_per_year"`
	Budget     money.Amount      `json:"budget"`
	Coverages  []api.Coverage    `json:"coverages"`
	Cities     []fundbridge.City `json:"cities,omitempty"`
	Drawn      money.Amount      `json:"drawn"` // net of returns
	Draws      []Draw            `json:"draws,omitempty"`
	Closed     bool              `json:"closed"`
	Version    uint64            `json:"version"`
}

// Exists reports whether the programme was created.
func (g Programme) Exists() bool { return g.ID != "" }

// Left is the budget not yet drawn.
func (g Programme) Left() money.Amount { return g.Budget.Sub(g.Drawn) }

func (g Programme) draw(policyID string) (Draw, int, bool) {
	for i, d := range g.Draws {
		if d.PolicyID == policyID {
			return d, i, true
		}
	}
	return Draw{}, -1, false
}

// usedBy is what the company has drawn (net of returns) in a year.
func (g Programme) usedBy(company string, year int) money.Amount {
	used := money.Zero
	for _, d := range g.Draws {
		if d.CompanyID == company && d.Year == year {
			used = used.Add(d.Amount).Sub(d.Returned)
		}
	}
	return used
}

// programmeDecider is the programme aggregate for the repository.
func programmeDecider() svc.Decider[Programme] {
	return svc.Decider[Programme]{Type: programmeType, Initial: func() Programme { return Programme{} }, Evolve: evolveProgramme, SnapshotSchema: "insurance-subsidy.v1"}
}

// evolveProgramme folds one event into the state. Pure: slices are copied
// before they change. An event the programme does not know changes nothing.
var evolveProgramme = programmeFolds().Apply

func programmeFolds() *fold.Evolve[Programme] {
	var f fold.Evolve[Programme]
	fold.Step(&f, func(_ Programme, _ events.Event, p api.SubsidyProgrammeCreated) Programme {
		return Programme{
			ID: p.ProgrammeID, Name: p.Name, Sponsor: p.Sponsor, Share: p.Share, CapPerYear: p.CapPerYear, Budget: p.Budget,
			Coverages: slices.Clone(p.Coverages), Cities: slices.Clone(p.Cities),
		}
	})
	fold.Step(&f, func(g Programme, _ events.Event, p api.SubsidyDrawn) Programme {
		g.Draws = append(slices.Clip(g.Draws), Draw{PolicyID: p.PolicyID, CompanyID: p.CompanyID, Year: p.Year, Amount: p.Amount})
		g.Drawn = g.Drawn.Add(p.Amount)
		return g
	})
	fold.Step(&f, func(g Programme, _ events.Event, p api.SubsidyReturned) Programme {
		g.Draws = slices.Clone(g.Draws)
		if _, i, ok := g.draw(p.PolicyID); ok {
			g.Draws[i].Returned = g.Draws[i].Returned.Add(p.Amount)
		}
		g.Drawn = g.Drawn.Sub(p.Amount)
		return g
	})
	fold.Step(&f, func(g Programme, _ events.Event, _ api.SubsidyProgrammeClosed) Programme {
		g.Closed = true
		return g
	})
	f.Then(func(g Programme, e events.Event) Programme {
		g.Version = e.Version
		return g
	})
	return &f
}

// decideCreateProgramme opens a programme; only operators (and the
// platform) create them.
func decideCreateProgramme(g Programme, a fundbridge.Actor, id string, cmd api.CreateSubsidyProgramme) ([]events.Payload, error) {
	if err := requireRole(a, "create subsidy programmes", fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return nil, err
	}
	share, err := cmd.ShareFraction()
	if err != nil {
		return nil, err
	}
	if g.Exists() {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "subsidy programme %s already exists", id)
	}
	return []events.Payload{api.SubsidyProgrammeCreated{
		ProgrammeID: id, Name: strings.TrimSpace(cmd.Name), Sponsor: strings.TrimSpace(cmd.Sponsor), Share: share,
		CapPerYear: cmd.CapPerYear, Budget: cmd.Budget, Coverages: slices.Clone(cmd.Coverages), Cities: slices.Clone(cmd.Cities),
	}}, nil
}

// BudgetExhaustedError refuses a draw on a programme with nothing left.
type BudgetExhaustedError struct {
	ProgrammeID string
	Budget      money.Amount
}

func (e *BudgetExhaustedError) Error() string {
	return fmt.Sprintf("subsidy programme %s has drawn its whole budget of %s", e.ProgrammeID, e.Budget.Exact())
}
func (e *BudgetExhaustedError) ErrorCode() string { return fundbridge.EUNPROCESSABLE }

// decideDraw grants a bound policy its subsidy: the programme's share of
// the premium (half-up to the fen), within what the company has left of
// its cap for the year the policy starts, and within what is left of the
// budget. A draw is whole, or capped by the budget left; never negative,
// and never past the budget. Drawing for the same policy again changes
// nothing.
func decideDraw(g Programme, a fundbridge.Actor, cmd api.DrawSubsidy) ([]events.Payload, error) {
	if err := requireRole(a, "draw subsidies", fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return nil, err
	}
	if err := cmd.Validate(); err != nil {
		return nil, err
	}
	if !g.Exists() {
		return nil, notFound("subsidy programme", cmd.ProgrammeID)
	}
	if _, _, ok := g.draw(cmd.PolicyID); ok {
		return nil, nil
	}
	if g.Closed {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "subsidy programme %s is closed", g.ID)
	}
	if !slices.Contains(g.Coverages, cmd.Coverage) {
		return nil, fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "subsidy programme %s does not cover %s policies", g.ID, cmd.Coverage)
	}
	if len(g.Cities) > 0 && !slices.Contains(g.Cities, cmd.City) {
		return nil, fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "subsidy programme %s is not open to companies in %s", g.ID, cmd.City)
	}
	starts, _ := api.ParseDate(cmd.StartsOn)
	year := starts.Year()
	capLeft := g.CapPerYear.Sub(g.usedBy(cmd.CompanyID, year))
	if !capLeft.IsPositive() {
		return nil, fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "company %s has drawn its cap of %s from subsidy programme %s for %d", cmd.CompanyID, g.CapPerYear.Exact(), g.ID, year)
	}
	left := g.Left()
	if !left.IsPositive() {
		return nil, &BudgetExhaustedError{ProgrammeID: g.ID, Budget: g.Budget}
	}
	whole := money.Min(cmd.Premium.Mul(g.Share), capLeft)
	if !whole.IsPositive() {
		return nil, fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "subsidy programme %s's share of a premium of %s rounds to nothing", g.ID, cmd.Premium.Exact())
	}
	amount := money.Min(whole, left)
	return []events.Payload{api.SubsidyDrawn{
		ProgrammeID: g.ID, PolicyID: cmd.PolicyID, CompanyID: cmd.CompanyID, Year: year, Premium: cmd.Premium,
		Whole: whole, Amount: amount, Capped: amount.LessThan(whole), BudgetLeft: left.Sub(amount),
	}}, nil
}

// decideReturn gives back to the programme the subsidy refunded on a
// cancelled policy, once per policy and never more than it drew.
func decideReturn(g Programme, a fundbridge.Actor, cmd api.ReturnSubsidy) ([]events.Payload, error) {
	if err := requireRole(a, "return subsidies", fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return nil, err
	}
	if err := cmd.Validate(); err != nil {
		return nil, err
	}
	if !g.Exists() {
		return nil, notFound("subsidy programme", cmd.ProgrammeID)
	}
	d, _, ok := g.draw(cmd.PolicyID)
	switch {
	case !ok:
		return nil, notFound("subsidy draw for policy", cmd.PolicyID)
	case d.Returned.IsPositive() && d.Returned.Equal(cmd.Amount):
		return nil, nil
	case d.Returned.IsPositive():
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "policy %s already returned %s to subsidy programme %s", cmd.PolicyID, d.Returned.Exact(), g.ID)
	case cmd.Amount.GreaterThan(d.Amount):
		return nil, fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "policy %s drew %s from subsidy programme %s and cannot return %s", cmd.PolicyID, d.Amount.Exact(), g.ID, cmd.Amount.Exact())
	}
	return []events.Payload{api.SubsidyReturned{
		ProgrammeID: g.ID, PolicyID: d.PolicyID, CompanyID: d.CompanyID, Year: d.Year, Amount: cmd.Amount, BudgetLeft: g.Left().Add(cmd.Amount),
	}}, nil
}

// decideCloseProgramme stops a programme's draws; closing it again
// changes nothing.
func decideCloseProgramme(g Programme, a fundbridge.Actor, cmd api.CloseSubsidyProgramme) ([]events.Payload, error) {
	if err := requireRole(a, "close subsidy programmes", fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return nil, err
	}
	if err := cmd.Validate(); err != nil {
		return nil, err
	}
	if !g.Exists() {
		return nil, notFound("subsidy programme", cmd.ProgrammeID)
	}
	if g.Closed {
		return nil, nil
	}
	return []events.Payload{api.SubsidyProgrammeClosed{ProgrammeID: g.ID, Reason: strings.TrimSpace(cmd.Reason)}}, nil
}
