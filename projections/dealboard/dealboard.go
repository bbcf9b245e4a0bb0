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

const schema = "dealboard.v4" // v4: company names

// RecentSize is how many of a fund's latest events the board keeps.
const RecentSize = 20

// Activity is one recent event on a fund's board, kept as data: its
// sentence is written when the board is read.
type Activity struct {
	At      int64 // Unix nanoseconds
	Pos     uint64
	Type    string
	Deal    int32 // index in State.Deals; -1 for the fund's own events
	Loan    int32 // index in State.LoanDeals; -1 unless a loan-plus-equity deal's
	Company string
	Actor   uint32 // index in State.Actors
	Amount  projections.Fen
	Extra   projections.Fen // a term sheet's pre-money valuation, a mandate's largest ticket
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
	Equity     Counts     // screening deals, for equity
	LoanEquity Counts     // loan-plus-equity deals, the fund's tranche
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

// Counts are a fund's deals of one instrument: Deals started (sourced,
// or proposed with the fund's tranche), Funded (closed), Raised (the
// fund's equity in those closed) and, for loan-plus-equity, Loans (the
// bank loans that closed beside it); Expired deals ended unclosed.
type Counts struct {
	Deals, Funded, Expired int32
	Raised, Loans          projections.Fen
	Losses                 projections.Fen // its share of defaults' losses
}

// LoanDeal is a loan-plus-equity deal with the fund's equity tranche.
type LoanDeal struct {
	ID      string
	Fund    int32 // index in State.Funds
	Company string
	Equity  projections.Fen
	Loan    projections.Fen
}

// State is the snapshot's content, slices only.
type State struct {
	Actors    []fundbridge.Actor
	Funds     []Fund
	Deals     []Deal
	DealSteps []uint8 // per deal, its step: index in matching.Steps()
	LoanDeals []LoanDeal
	Companies []projections.Named // names.go
}

// Projection is the deal board view. Safe for concurrent queries.
type Projection struct {
	mu      sync.RWMutex
	st      State
	folds   projections.Folds
	renders map[string]func(*line) // by event type
	loans   map[string]int32       // loan-plus-equity deals
	steps   []matchingapi.Step
	actors  map[fundbridge.Actor]uint32
	funds   map[string]int32
	deals   map[string]int32
	// companies indexes State.Companies.
	companies map[string]int32
}

// New returns an empty deal board view.
func New() *Projection {
	p := &Projection{steps: matchingapi.Steps(), renders: map[string]func(*line){}}
	p.Reset()
	p.fundKinds()
	p.dealKinds()
	p.loanDealKinds()
	p.lossKinds()
	p.nameKinds()
	return p
}

func (p *Projection) Name() string   { return Name }
func (p *Projection) Schema() string { return schema }

// Handles reports whether the board folds events of this type.
func (p *Projection) Handles(eventType string) bool { return p.folds.Handles(eventType) }

func (p *Projection) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st = State{}
	p.actors = map[fundbridge.Actor]uint32{}
	p.funds = map[string]int32{}
	p.deals = map[string]int32{}
	p.loans = map[string]int32{}
	p.companies = map[string]int32{}
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
	return p.folds.Apply(e, payload)
}

// on registers the fold of one event type: fill folds the payload into
// its fund's board and describes it in the activity; render writes the
// activity's sentence when the board is read.
func on[T events.Payload](p *Projection, fill func(*Activity, T) (*Fund, error), render func(*line)) {
	var zero T
	typ := zero.EventType()
	p.renders[typ] = render
	projections.On(&p.folds, func(e events.Event, v T) error {
		act := Activity{At: e.RecordedAt.UnixNano(), Pos: e.Position, Deal: -1, Loan: -1, Actor: p.actor(e.Actor), Type: typ}
		f, err := fill(&act, v)
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
	})
}

// line is a recent activity being rendered.
type line struct {
	f        *Fund
	a        *Activity
	v        *ActivityView
	from, to matchingapi.Step
	company  string // how the sentence names the activity's company
}

// amount shows the activity's amount and returns it as a person reads it.
func (l *line) amount() string {
	a := l.a.Amount.Amount()
	l.v.Amount = &a
	return projections.Human(a)
}

func (l *line) extra() string { return projections.Human(l.a.Extra.Amount()) }

func (p *Projection) fundKinds() {
	on(p, func(act *Activity, v fundsapi.FundRegistered) (f *Fund, err error) {
		if f, _, err = p.fund(v.FundID, true); err != nil {
			return nil, err
		}
		if f.Committed, err = projections.ToFen("committed capital", v.CommittedCapital); err != nil {
			return nil, err
		}
		f.ManagerOrg, f.Name, f.Type = v.ManagerOrg, v.Name, string(v.Type)
		act.Amount = f.Committed
		return f, nil
	}, func(l *line) {
		l.v.Summary = fmt.Sprintf("Registered %s with %s of committed capital", l.f.Name, projections.Human(l.a.Amount.Amount()))
	})
	on(p, func(act *Activity, v fundsapi.MandateSet) (f *Fund, err error) {
		if f, _, err = p.fund(v.FundID, false); err != nil {
			return nil, err
		}
		if act.Amount, err = projections.ToFen("smallest ticket", v.TicketMin); err != nil {
			return nil, err
		}
		act.Extra, err = projections.ToFen("largest ticket", v.TicketMax)
		return f, err
	}, func(l *line) {
		l.v.Summary = fmt.Sprintf("Set the mandate: tickets %s to %s", projections.Human(l.a.Amount.Amount()), l.extra())
	})
	on(p, func(act *Activity, v fundsapi.CapitalCommitted) (*Fund, error) {
		act.Company = v.CompanyID
		return p.capital(act, v.FundID, v.DealID, "capital committed", v.Amount, false)
	}, func(l *line) { l.v.Summary = fmt.Sprintf("Committed %s to %s", l.amount(), l.company) })
	// A closing that could not complete gave its commitment back.
	on(p, func(act *Activity, v fundsapi.CapitalReleased) (*Fund, error) {
		act.Text = v.Reason
		return p.capital(act, v.FundID, v.DealID, "capital released", v.Amount, true)
	}, func(l *line) {
		l.v.Summary = withReason(fmt.Sprintf("Released %s: the deal did not close", l.amount()), l.a.Text)
	})
	on(p, func(act *Activity, v fundsapi.FundClosed) (*Fund, error) {
		f, _, err := p.fund(v.FundID, false)
		if err != nil {
			return nil, err
		}
		f.Closed, act.Text = true, v.Reason
		return f, nil
	}, func(l *line) { l.v.Summary = withReason("Closed the fund", l.a.Text) })
}

// capital adds (or, released, takes back) capital the fund invested.
func (p *Projection) capital(act *Activity, fundID, dealID, what string, amount money.Amount, released bool) (*Fund, error) {
	f, _, err := p.fund(fundID, false)
	if err != nil {
		return nil, err
	}
	if act.Amount, err = projections.ToFen(what, amount); err != nil {
		return nil, err
	}
	delta := act.Amount
	if released {
		delta = -delta
	}
	if f.Invested, err = f.Invested.Add(delta); err != nil {
		return nil, err
	}
	if i, ok := p.deals[dealID]; ok {
		act.Deal = i
	}
	return f, nil
}

// The screening deals of the matching service.
func (p *Projection) dealKinds() {
	on(p, func(act *Activity, v matchingapi.DealSourced) (*Fund, error) {
		if v.DealID == "" {
			return nil, fmt.Errorf("deal sourced without an ID")
		}
		if _, dup := p.deals[v.DealID]; dup {
			return nil, fmt.Errorf("deal %s sourced twice", v.DealID)
		}
		f, fi, err := p.fund(v.FundID, true)
		if err != nil {
			return nil, err
		}
		act.Deal = int32(len(p.st.Deals))
		p.deals[v.DealID] = act.Deal
		p.st.Deals = append(p.st.Deals, Deal{ID: v.DealID, Fund: fi, Application: v.ApplicationID, Company: v.CompanyID})
		p.st.DealSteps = append(p.st.DealSteps, 0)
		f.Steps[0]++
		f.Equity.Deals++
		act.Company, act.Text = v.CompanyID, strconv.Itoa(v.Score)
		return f, nil
	}, func(l *line) { l.v.Summary = fmt.Sprintf("Sourced %s (match score %s)", l.company, l.a.Text) })
	on(p, func(act *Activity, v matchingapi.DealAdvanced) (*Fund, error) {
		return p.dealStep(act, v.DealID, func(d *Deal, at *uint8, f *Fund) error { return p.move(d, at, f, &v.From, v.To) })
	}, func(l *line) {
		l.v.Summary = fmt.Sprintf("Moved the deal with %s from %s to %s", l.company, l.from, l.to)
	})
	on(p, func(act *Activity, v matchingapi.DealPassed) (*Fund, error) {
		act.Text = v.Reason
		return p.dealStep(act, v.DealID, func(d *Deal, at *uint8, f *Fund) error {
			if s := p.steps[*at]; s == matchingapi.StepClosed || s == matchingapi.StepPassed {
				return fmt.Errorf("deal %s passed but it is %s", d.ID, s)
			}
			return p.move(d, at, f, nil, matchingapi.StepPassed)
		})
	}, func(l *line) {
		l.v.Summary = withReason(fmt.Sprintf("Passed on %s at %s", l.company, l.from), l.a.Text)
	})
	on(p, func(act *Activity, v matchingapi.TermSheetIssued) (*Fund, error) {
		return p.dealStep(act, v.DealID, func(d *Deal, at *uint8, f *Fund) (err error) {
			if act.Amount, err = projections.ToFen("term sheet amount", v.Amount); err != nil {
				return err
			}
			if act.Extra, err = projections.ToFen("pre-money valuation", v.PreMoney); err != nil {
				return err
			}
			return p.move(d, at, f, nil, matchingapi.StepTermSheet)
		})
	}, func(l *line) {
		l.v.Summary = fmt.Sprintf("Issued a term sheet to %s: %s at %s pre-money", l.company, l.amount(), l.extra())
	})
	on(p, func(act *Activity, v matchingapi.TermSheetAccepted) (*Fund, error) {
		return p.dealStep(act, v.DealID, func(*Deal, *uint8, *Fund) error { return nil })
	}, func(l *line) {
		l.v.Summary = projections.Sentence(fmt.Sprintf("%s accepted the term sheet", l.company))
	})
	on(p, func(act *Activity, v matchingapi.TermSheetDeclined) (*Fund, error) {
		act.Text = v.Reason
		return p.dealStep(act, v.DealID, func(d *Deal, at *uint8, f *Fund) error { return p.move(d, at, f, nil, matchingapi.StepICReview) })
	}, func(l *line) {
		l.v.Summary = withReason(projections.Sentence(fmt.Sprintf("%s declined the term sheet", l.company)), l.a.Text)
	})
	on(p, func(act *Activity, v matchingapi.DealClosed) (*Fund, error) {
		return p.dealStep(act, v.DealID, func(d *Deal, at *uint8, f *Fund) (err error) {
			if act.Amount, err = projections.ToFen("deal amount", v.Amount); err != nil {
				return err
			}
			if f.ClosedDeal, err = f.ClosedDeal.Add(act.Amount); err != nil {
				return err
			}
			f.Equity.Funded++
			if f.Equity.Raised, err = f.Equity.Raised.Add(act.Amount); err != nil {
				return err
			}
			return p.move(d, at, f, nil, matchingapi.StepClosed)
		})
	}, func(l *line) {
		l.v.Summary = fmt.Sprintf("Closed the deal with %s: %s", l.company, l.amount())
	})
}

// dealStep folds an event of a deal after its sourcing: step changes
// the deal's board, and the activity records the steps before and after.
func (p *Projection) dealStep(act *Activity, dealID string, step func(d *Deal, at *uint8, f *Fund) error) (*Fund, error) {
	i, ok := p.deals[dealID]
	if !ok {
		return nil, fmt.Errorf("deal %q was never sourced", dealID)
	}
	d, at := &p.st.Deals[i], &p.st.DealSteps[i]
	f := &p.st.Funds[d.Fund]
	act.Deal, act.Company, act.From = i, d.Company, *at
	err := step(d, at, f)
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
	st := State{Actors: p.st.Actors, Funds: slices.Clone(p.st.Funds), Deals: p.st.Deals, DealSteps: slices.Clone(p.st.DealSteps), LoanDeals: p.st.LoanDeals,
		Companies: slices.Clone(p.st.Companies)} // a name changes in place
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
	loans := make(map[string]int32, len(st.LoanDeals))
	for i, d := range st.LoanDeals {
		loans[d.ID] = int32(i)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st, p.actors, p.funds, p.deals, p.loans = st, actors, fs, deals, loans
	p.companies = projections.IndexNames(st.Companies)
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
	// The company's name, as last registered; empty if the log never named it.
	CompanyName string `json:"company_name,omitempty"`
	// Who did it: a user's ID.
	ActorUser string `json:"actor_user"`
	// The role they did it in.
	ActorRole fundbridge.Role `json:"actor_role"`
	Amount    *money.Amount   `json:"amount,omitempty"`
}

// Board is one fund's board. Items are the pipeline's steps, in order.
type Board struct {
	FundID           string          `json:"fund_id"`
	Name             string          `json:"name"`
	Type             string          `json:"type" jsonschema_description:"The fund's type: seed, angel, vc, pe, guidance (government guidance fund) or industry."`
	ManagerOrg       string          `json:"manager_org"`
	Status           string          `json:"status" jsonschema_description:"open or closed."` // open or closed
	CommittedCapital money.Amount    `json:"committed_capital" jsonschema_description:"The fund's committed capital."`
	Invested         money.Amount    `json:"invested" jsonschema_description:"Capital committed to deals (screening and loan-plus-equity), less releases."`
	DryPowder        money.Amount    `json:"dry_powder" jsonschema_description:"committed_capital - invested."`
	ClosedDeals      money.Amount    `json:"closed_deals_amount" jsonschema_description:"The amounts of the screening deals closed."`
	OpenDeals        int             `json:"open_deals" jsonschema_description:"Screening deals at a step before closed or passed."`
	Instruments      []InstrumentRow `json:"instruments" jsonschema_description:"The fund's deals by instrument: equity (screening deals) and loan_plus_equity (deals it takes the equity tranche of)."`
	Items            []StepRow       `json:"items" jsonschema_description:"Screening deals at each pipeline step, in pipeline order."`
	Recent           []ActivityView  `json:"recent" jsonschema_description:"The last 20 events of the fund and its deals, newest first."` // newest first
}

// activity renders one recent event; the caller holds the read lock.
func (p *Projection) activity(f *Fund, a *Activity) ActivityView {
	actor := p.st.Actors[a.Actor]
	v := ActivityView{
		At: time.Unix(0, a.At).UTC(), Position: a.Pos, Type: a.Type, CompanyID: a.Company,
		ActorUser: actor.UserID, ActorRole: actor.Role,
	}
	v.CompanyName, _ = projections.NameOf(p.st.Companies, p.companies, a.Company)
	if a.Deal >= 0 {
		d := p.st.Deals[a.Deal]
		v.DealID, v.ApplicationID = d.ID, d.Application
	}
	if a.Loan >= 0 {
		v.DealID = p.st.LoanDeals[a.Loan].ID
	}
	if render, ok := p.renders[a.Type]; ok {
		render(&line{f: f, a: a, v: &v, from: p.steps[a.From], to: p.steps[a.To], company: p.companyName(a.Company)})
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
	b.Instruments = []InstrumentRow{instrumentRow("equity", f.Equity), instrumentRow("loan_plus_equity", f.LoanEquity)}
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
