// Package dealboard is a fund manager's board of one fund: how many deals
// stand at each step of the screening pipeline, what happened last, and
// how much capital is committed, invested and still dry.
package dealboard

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
)

// Name is the projection's name.
const Name = "dealboard"

const schema = "dealboard.v2"

// RecentSize is how many of a fund's latest events the board keeps.
const RecentSize = 20

// Activity is one recent event on a fund's board, kept as data: its
// sentence is written when the board is read.
type Activity struct {
	At      int64 // Unix nanoseconds
	Pos     uint64
	Type    string
	Deal    int32 // index in State.Deals; -1 for the fund's own events
	Company string
	Actor   uint32 // index in State.Actors
	Amount  projections.Fen
	Extra   projections.Fen // a term sheet's pre-money valuation, a mandate's largest ticket
	Has     bool            // Amount is the event's amount
	From    uint8           // steps, indexes in matching.Steps()
	To      uint8
	Text    string // a reason, a match score
}

// Fund is one fund's board.
type Fund struct {
	ID         string
	ManagerOrg string
	Name       string
	Type       string
	Committed  projections.Fen
	Invested   projections.Fen // capital committed to deals
	ClosedDeal projections.Fen // equity of the deals closed
	Closed     bool
	Steps      []int32    // deals at each step, in matching.Steps() order
	Recent     []Activity // a ring of the last RecentSize events
	Oldest     int        // index of the oldest in Recent once it is full
}

// Deal is one deal: who and what, never changed once sourced. Where it
// stands is in State.DealSteps, the one thing that moves.
type Deal struct {
	ID          string
	Fund        int32 // index in State.Funds
	Application string
	Company     string
}

// State is the snapshot's content, slices only.
type State struct {
	Actors    []fundbridge.Actor
	Funds     []Fund
	Deals     []Deal
	DealSteps []uint8 // per deal, its step: index in matching.Steps()
}

// Projection is the deal board view. Safe for concurrent queries.
type Projection struct {
	mu     sync.RWMutex
	st     State
	steps  []matchingapi.Step
	actors map[fundbridge.Actor]uint32
	funds  map[string]int32
	deals  map[string]int32
}

// New returns an empty deal board view.
func New() *Projection {
	p := &Projection{steps: matchingapi.Steps()}
	p.Reset()
	return p
}

func (p *Projection) Name() string   { return Name }
func (p *Projection) Schema() string { return schema }

func (p *Projection) Handles(eventType string) bool {
	switch eventType {
	case fundsapi.FundRegistered{}.EventType(), fundsapi.MandateSet{}.EventType(), fundsapi.CapitalCommitted{}.EventType(), fundsapi.FundClosed{}.EventType(),
		fundsapi.CapitalReleased{}.EventType(),
		matchingapi.DealSourced{}.EventType(), matchingapi.DealAdvanced{}.EventType(), matchingapi.DealPassed{}.EventType(),
		matchingapi.TermSheetIssued{}.EventType(), matchingapi.TermSheetAccepted{}.EventType(), matchingapi.TermSheetDeclined{}.EventType(),
		matchingapi.DealClosed{}.EventType():
		return true
	}
	return false
}

func (p *Projection) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st = State{}
	p.actors = map[fundbridge.Actor]uint32{}
	p.funds = map[string]int32{}
	p.deals = map[string]int32{}
}

func (p *Projection) actor(a fundbridge.Actor) uint32 {
	return projections.InternActor(&p.st.Actors, p.actors, a)
}

// fund returns the fund's board; create opens one for a fund the board
// has not seen registered (its deals still count; only operators see it).
func (p *Projection) fund(id string, create bool) (*Fund, int32, error) {
	if id == "" {
		return nil, 0, fmt.Errorf("event without a fund ID")
	}
	i, ok := p.funds[id]
	if !ok {
		if !create {
			return nil, 0, fmt.Errorf("fund %q was never registered", id)
		}
		i = int32(len(p.st.Funds))
		p.st.Funds = append(p.st.Funds, Fund{ID: id, Steps: make([]int32, len(p.steps))})
		p.funds[id] = i
	}
	return &p.st.Funds[i], i, nil
}

func (p *Projection) step(s matchingapi.Step) (uint8, error) {
	i := slices.Index(p.steps, s)
	if i < 0 {
		return 0, fmt.Errorf("step %q is not a pipeline step", s)
	}
	return uint8(i), nil
}

// move puts the deal at step to, checking it stood at from (if given).
func (p *Projection) move(d *Deal, at *uint8, f *Fund, from *matchingapi.Step, to matchingapi.Step) error {
	if from != nil {
		want, err := p.step(*from)
		if err != nil {
			return err
		}
		if want != *at {
			return fmt.Errorf("deal %s moved from %s but stands at %s", d.ID, *from, p.steps[*at])
		}
	}
	t, err := p.step(to)
	if err != nil {
		return err
	}
	f.Steps[*at]--
	f.Steps[t]++
	*at = t
	return nil
}

// Apply folds one fund or deal event. Errors are broken invariants: a deal
// event for a deal never sourced or at another step than it says, a fund
// event for a fund never registered, an unknown step, a bad amount.
func (p *Projection) Apply(e events.Event, payload any) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	act := Activity{At: e.RecordedAt.UnixNano(), Pos: e.Position, Deal: -1, Actor: p.actor(e.Actor)}
	if named, ok := payload.(events.Payload); ok {
		act.Type = named.EventType() // a constant, where e.Type is a view of the message
	}
	f, err := p.apply(&act, payload)
	if err != nil {
		return err
	}
	if len(f.Recent) < RecentSize {
		f.Recent = append(f.Recent, act)
	} else {
		f.Recent[f.Oldest] = act
		f.Oldest = (f.Oldest + 1) % RecentSize
	}
	return nil
}

// apply folds the event into its fund's board and describes it in act.
func (p *Projection) apply(act *Activity, payload any) (f *Fund, err error) {
	switch v := payload.(type) {
	case fundsapi.FundRegistered:
		if f, _, err = p.fund(v.FundID, true); err != nil {
			return nil, err
		}
		if f.Committed, err = projections.ToFen("committed capital", v.CommittedCapital); err != nil {
			return nil, err
		}
		f.ManagerOrg, f.Name, f.Type = v.ManagerOrg, v.Name, string(v.Type)
		act.Amount = f.Committed
	case fundsapi.MandateSet:
		if f, _, err = p.fund(v.FundID, false); err != nil {
			return nil, err
		}
		if act.Amount, err = projections.ToFen("smallest ticket", v.TicketMin); err != nil {
			return nil, err
		}
		if act.Extra, err = projections.ToFen("largest ticket", v.TicketMax); err != nil {
			return nil, err
		}
	case fundsapi.CapitalCommitted:
		if f, _, err = p.fund(v.FundID, false); err != nil {
			return nil, err
		}
		if act.Amount, err = projections.ToFen("capital committed", v.Amount); err != nil {
			return nil, err
		}
		if f.Invested, err = f.Invested.Add(act.Amount); err != nil {
			return nil, err
		}
		act.Has, act.Company = true, v.CompanyID
		if i, ok := p.deals[v.DealID]; ok {
			act.Deal = i
		}
	case fundsapi.CapitalReleased:
		// A closing that could not complete gave its commitment back.
		if f, _, err = p.fund(v.FundID, false); err != nil {
			return nil, err
		}
		if act.Amount, err = projections.ToFen("capital released", v.Amount); err != nil {
			return nil, err
		}
		if f.Invested, err = f.Invested.Add(-act.Amount); err != nil {
			return nil, err
		}
		act.Has, act.Text = true, v.Reason
		if i, ok := p.deals[v.DealID]; ok {
			act.Deal = i
		}
	case fundsapi.FundClosed:
		if f, _, err = p.fund(v.FundID, false); err != nil {
			return nil, err
		}
		f.Closed, act.Text = true, v.Reason
	case matchingapi.DealSourced:
		if v.DealID == "" {
			return nil, fmt.Errorf("deal sourced without an ID")
		}
		if _, dup := p.deals[v.DealID]; dup {
			return nil, fmt.Errorf("deal %s sourced twice", v.DealID)
		}
		var fi int32
		if f, fi, err = p.fund(v.FundID, true); err != nil {
			return nil, err
		}
		act.Deal = int32(len(p.st.Deals))
		p.deals[v.DealID] = act.Deal
		p.st.Deals = append(p.st.Deals, Deal{ID: v.DealID, Fund: fi, Application: v.ApplicationID, Company: v.CompanyID})
		p.st.DealSteps = append(p.st.DealSteps, 0)
		f.Steps[0]++
		act.Company, act.Text = v.CompanyID, strconv.Itoa(v.Score)
	default:
		return p.dealEvent(act, payload)
	}
	return f, nil
}

// dealEvent folds the events of a deal after its sourcing.
func (p *Projection) dealEvent(act *Activity, payload any) (*Fund, error) {
	var dealID string
	switch v := payload.(type) {
	case matchingapi.DealAdvanced:
		dealID = v.DealID
	case matchingapi.DealPassed:
		dealID = v.DealID
	case matchingapi.TermSheetIssued:
		dealID = v.DealID
	case matchingapi.TermSheetAccepted:
		dealID = v.DealID
	case matchingapi.TermSheetDeclined:
		dealID = v.DealID
	case matchingapi.DealClosed:
		dealID = v.DealID
	default:
		return nil, fmt.Errorf("unexpected payload %T", payload)
	}
	i, ok := p.deals[dealID]
	if !ok {
		return nil, fmt.Errorf("deal %q was never sourced", dealID)
	}
	d, at := &p.st.Deals[i], &p.st.DealSteps[i]
	f := &p.st.Funds[d.Fund]
	act.Deal, act.Company, act.From = i, d.Company, *at
	var err error
	switch v := payload.(type) {
	case matchingapi.DealAdvanced:
		err = p.move(d, at, f, &v.From, v.To)
	case matchingapi.DealPassed:
		if s := p.steps[*at]; s == matchingapi.StepClosed || s == matchingapi.StepPassed {
			return nil, fmt.Errorf("deal %s passed but it is %s", d.ID, s)
		}
		err = p.move(d, at, f, nil, matchingapi.StepPassed)
		act.Text = v.Reason
	case matchingapi.TermSheetIssued:
		if act.Amount, err = projections.ToFen("term sheet amount", v.Amount); err != nil {
			return nil, err
		}
		if act.Extra, err = projections.ToFen("pre-money valuation", v.PreMoney); err != nil {
			return nil, err
		}
		act.Has = true
		err = p.move(d, at, f, nil, matchingapi.StepTermSheet)
	case matchingapi.TermSheetDeclined:
		err = p.move(d, at, f, nil, matchingapi.StepICReview)
		act.Text = v.Reason
	case matchingapi.DealClosed:
		if act.Amount, err = projections.ToFen("deal amount", v.Amount); err != nil {
			return nil, err
		}
		if f.ClosedDeal, err = f.ClosedDeal.Add(act.Amount); err == nil {
			err = p.move(d, at, f, nil, matchingapi.StepClosed)
		}
		act.Has = true
	}
	act.To = *at
	return f, err
}

// MarshalState encodes the state with gob (see lifecycle for why).
func (p *Projection) MarshalState() ([]byte, error) { return p.Freeze()() }

// Freeze copies the funds, with their step counts and recent events, and
// the deals' steps (Apply changes them in place); actors and deals are
// only appended to, so their headers capture them.
func (p *Projection) Freeze() func() ([]byte, error) {
	p.mu.RLock()
	st := State{Actors: p.st.Actors, Funds: slices.Clone(p.st.Funds), Deals: p.st.Deals, DealSteps: slices.Clone(p.st.DealSteps)}
	for i := range st.Funds {
		st.Funds[i].Steps, st.Funds[i].Recent = slices.Clone(st.Funds[i].Steps), slices.Clone(st.Funds[i].Recent)
	}
	p.mu.RUnlock()
	return func() ([]byte, error) {
		return projections.EncodeState(Name, &st)
	}
}

func (p *Projection) UnmarshalState(data []byte) error {
	var st State
	if err := projections.DecodeState(Name, data, &st); err != nil {
		return err
	}
	actors := projections.IndexActors(st.Actors)
	fs := make(map[string]int32, len(st.Funds))
	for i, f := range st.Funds {
		if len(f.Steps) != len(p.steps) || len(f.Recent) > RecentSize || f.Oldest < 0 || f.Oldest >= max(1, len(f.Recent)) {
			return fmt.Errorf("%s: fund %s does not fit this board's shape", Name, f.ID)
		}
		fs[f.ID] = int32(i)
	}
	if len(st.DealSteps) != len(st.Deals) {
		return fmt.Errorf("%s: %d deals but %d steps", Name, len(st.Deals), len(st.DealSteps))
	}
	deals := make(map[string]int32, len(st.Deals))
	for i, d := range st.Deals {
		deals[d.ID] = int32(i)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st, p.actors, p.funds, p.deals = st, actors, fs, deals
	return nil
}

// StepRow is how many deals stand at one step.
type StepRow struct {
	// A step of the deal pipeline.
	Step matchingapi.Step `json:"step"`
	// How many of the fund's deals stand at that step now.
	Deals int `json:"deals"`
}

// ActivityView is one recent event as readers see it.
type ActivityView struct {
	At       time.Time `json:"at"`
	Position uint64    `json:"position"`
	// The event's type, such as deal.advanced.v1.
	Type string `json:"type"`
	// What happened, in a sentence.
	Summary       string `json:"summary"`
	DealID        string `json:"deal_id,omitempty"`
	ApplicationID string `json:"application_id,omitempty"`
	CompanyID     string `json:"company_id,omitempty"`
	// Who did it: a user's ID.
	ActorUser string `json:"actor_user"`
	// The role they did it in.
	ActorRole fundbridge.Role `json:"actor_role"`
	Amount    *money.Amount   `json:"amount,omitempty"`
}

// Board is one fund's board. Items are the pipeline's steps, in order.
type Board struct {
	FundID string `json:"fund_id"`
	Name   string `json:"name"`
	// The fund's type.
	Type string `json:"type"`
	// The ID of the org that manages the fund.
	ManagerOrg string `json:"manager_org"`
	Status     string `json:"status"` // open or closed: the fund's status
	// The fund's committed capital.
	CommittedCapital money.Amount `json:"committed_capital"`
	// What the fund has invested in closed deals.
	Invested money.Amount `json:"invested"`
	// Committed capital not yet invested.
	DryPowder money.Amount `json:"dry_powder"`
	// The total of the fund's closed deals.
	ClosedDeals money.Amount `json:"closed_deals_amount"`
	// Deals neither closed nor passed.
	OpenDeals int            `json:"open_deals"`
	Items     []StepRow      `json:"items"`
	Recent    []ActivityView `json:"recent"` // the fund's latest activity, newest first
}

// activity renders one recent event; the caller holds the read lock.
func (p *Projection) activity(f *Fund, a *Activity) ActivityView {
	actor := p.st.Actors[a.Actor]
	v := ActivityView{
		At: time.Unix(0, a.At).UTC(), Position: a.Pos, Type: a.Type, CompanyID: a.Company,
		ActorUser: actor.UserID, ActorRole: actor.Role,
	}
	if a.Deal >= 0 {
		d := p.st.Deals[a.Deal]
		v.DealID, v.ApplicationID = d.ID, d.Application
	}
	amount := a.Amount.Amount()
	if a.Has {
		v.Amount = &amount
	}
	from, to := p.steps[a.From], p.steps[a.To]
	switch a.Type {
	case fundsapi.FundRegistered{}.EventType():
		v.Summary = fmt.Sprintf("Registered %s with %s of committed capital", f.Name, projections.Human(amount))
	case fundsapi.MandateSet{}.EventType():
		v.Summary = fmt.Sprintf("Set the mandate: tickets %s to %s", projections.Human(amount), projections.Human(a.Extra.Amount()))
	case fundsapi.CapitalCommitted{}.EventType():
		v.Summary = fmt.Sprintf("Committed %s to company %s", projections.Human(amount), a.Company)
	case fundsapi.CapitalReleased{}.EventType():
		v.Summary = withReason(fmt.Sprintf("Released %s: the deal did not close", projections.Human(amount)), a.Text)
	case fundsapi.FundClosed{}.EventType():
		v.Summary = withReason("Closed the fund", a.Text)
	case matchingapi.DealSourced{}.EventType():
		v.Summary = fmt.Sprintf("Sourced company %s (match score %s)", a.Company, a.Text)
	case matchingapi.DealAdvanced{}.EventType():
		v.Summary = fmt.Sprintf("Moved the deal with company %s from %s to %s", a.Company, from, to)
	case matchingapi.DealPassed{}.EventType():
		v.Summary = withReason(fmt.Sprintf("Passed on company %s at %s", a.Company, from), a.Text)
	case matchingapi.TermSheetIssued{}.EventType():
		v.Summary = fmt.Sprintf("Issued a term sheet to company %s: %s at %s pre-money", a.Company, projections.Human(amount), projections.Human(a.Extra.Amount()))
	case matchingapi.TermSheetAccepted{}.EventType():
		v.Summary = fmt.Sprintf("Company %s accepted the term sheet", a.Company)
	case matchingapi.TermSheetDeclined{}.EventType():
		v.Summary = withReason(fmt.Sprintf("Company %s declined the term sheet", a.Company), a.Text)
	case matchingapi.DealClosed{}.EventType():
		v.Summary = fmt.Sprintf("Closed the deal with company %s: %s", a.Company, projections.Human(amount))
	}
	return v
}

func withReason(s, reason string) string {
	if reason == "" {
		return s
	}
	return s + ": " + reason
}

// Manager reports the org managing a fund; false if the board never saw
// the fund.
func (p *Projection) Manager(fundID string) (string, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	i, ok := p.funds[fundID]
	if !ok {
		return "", false
	}
	return p.st.Funds[i].ManagerOrg, true
}

// Board returns the fund's board; false if the board never saw the fund.
func (p *Projection) Board(fundID string) (Board, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	i, ok := p.funds[fundID]
	if !ok {
		return Board{}, false
	}
	f := &p.st.Funds[i]
	b := Board{
		FundID: f.ID, Name: f.Name, Type: f.Type, ManagerOrg: f.ManagerOrg, Status: "open",
		CommittedCapital: f.Committed.Amount(), Invested: f.Invested.Amount(),
		DryPowder: money.FromDecimal(decimal.New(int64(f.Committed)-int64(f.Invested), -2)), ClosedDeals: f.ClosedDeal.Amount(),
		Items: make([]StepRow, len(p.steps)), Recent: make([]ActivityView, 0, len(f.Recent)),
	}
	if f.Closed {
		b.Status = "closed"
	}
	for i, s := range p.steps {
		b.Items[i] = StepRow{Step: s, Deals: int(f.Steps[i])}
		if s != matchingapi.StepClosed && s != matchingapi.StepPassed {
			b.OpenDeals += int(f.Steps[i])
		}
	}
	for k := len(f.Recent) - 1; k >= 0; k-- {
		b.Recent = append(b.Recent, p.activity(f, &f.Recent[(f.Oldest+k)%len(f.Recent)]))
	}
	return b, true
}
