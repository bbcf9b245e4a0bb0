// Package timeline is each company's financing history as one list: its
// registration and stage changes, every event of its applications, the
// matches, every step of every deal, the term sheets and the fundings, in
// log order, each with the stage the company was at, who did it, a
// sentence a person can read, and the amount.
package timeline

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
)

// Name is the projection's name.
const Name = "timeline"

const schema = "timeline.v1"

// kinds are the event types with entries, by the index entries keep;
// appending is safe, any other change changes the schema.
func kinds() []string {
	return []string{
		applicationsapi.CompanyRegistered{}.EventType(), applicationsapi.CompanyProfileUpdated{}.EventType(),
		applicationsapi.CompanyStageChanged{}.EventType(), applicationsapi.PatentAdded{}.EventType(),
		applicationsapi.ApplicationDrafted{}.EventType(), applicationsapi.ApplicationUpdated{}.EventType(),
		applicationsapi.ApplicationSubmitted{}.EventType(), applicationsapi.ApplicationMatched{}.EventType(),
		applicationsapi.ApplicationUnderReview{}.EventType(), applicationsapi.ApplicationFunded{}.EventType(),
		applicationsapi.ApplicationWithdrawn{}.EventType(), applicationsapi.ApplicationRejected{}.EventType(),
		applicationsapi.ApplicationExpired{}.EventType(),
		matchingapi.DealSourced{}.EventType(), matchingapi.DealAdvanced{}.EventType(), matchingapi.DealPassed{}.EventType(),
		matchingapi.TermSheetIssued{}.EventType(), matchingapi.TermSheetAccepted{}.EventType(),
		matchingapi.TermSheetDeclined{}.EventType(), matchingapi.DealClosed{}.EventType(),
	}
}

// Entry is one event of a company's timeline, as compact as it can be:
// the sentence is written when it is read, and it holds no pointers, so
// the garbage collector never walks the million of them.
type Entry struct {
	At     int64 // Unix nanoseconds
	Pos    uint64
	Amount projections.Fen
	Extra  projections.Fen // a term sheet's pre-money valuation
	Actor  uint32          // index in State.Actors
	Ref    int32           // index in the company's Strings: application, deal or patent; -1 for none
	Text   int32           // index in the company's Strings: a name, a step, a reason, funds; -1 for none
	Kind   uint8           // index in kinds()
	Stage  uint8           // index in fundbridge.Stages
	Mask   uint8           // instruments asked for, bits in fundbridge.Instruments order
}

// Company is one company's timeline.
type Company struct {
	ID      string
	Name    string
	Stage   uint8
	Strings []string // what its entries name: applications, deals, steps, reasons
	Entries []Entry

	actors []uint32 // the actors of its entries: a short list to search before the big map
	// index finds a string among many; built once Strings outgrows a
	// search (and again after a snapshot is loaded, as it is not saved).
	index map[string]int32
}

// strSearchMax is the most strings searched one by one: most companies
// name a few dozen things, but one drafting applications all day names
// thousands, and a search per event then made the fold slow down as it
// went (seen in the HTTP write benchmark's profile).
const strSearchMax = 32

// str is the index of s in Strings, added if new; -1 for "".
func (c *Company) str(s string) int32 {
	if s == "" {
		return -1
	}
	if c.index == nil && len(c.Strings) < strSearchMax {
		for i := len(c.Strings) - 1; i >= 0; i-- {
			if c.Strings[i] == s {
				return int32(i)
			}
		}
	} else {
		if c.index == nil {
			c.index = make(map[string]int32, 2*len(c.Strings))
			for i, x := range c.Strings {
				c.index[x] = int32(i)
			}
		}
		if i, ok := c.index[s]; ok {
			return i
		}
		c.index[s] = int32(len(c.Strings))
	}
	c.Strings = append(c.Strings, s)
	return int32(len(c.Strings) - 1)
}

// draft is an entry being made, with its strings not yet indexed.
type draft struct {
	Entry
	ref, text string
}

// Deal places a deal's events on its company's timeline.
type Deal struct {
	ID          string
	Company     int32 // index in State.Companies
	Fund        string
	Application string
}

// Fund names a fund in the sentences.
type Fund struct {
	ID   string
	Name string
}

// State is the snapshot's content, slices only.
type State struct {
	Actors    []fundbridge.Actor
	Companies []Company
	Deals     []Deal
	Funds     []Fund
}

// Projection is the timeline view. Safe for concurrent queries.
type Projection struct {
	mu        sync.RWMutex
	st        State
	kind      map[string]uint8
	actors    map[fundbridge.Actor]uint32
	companies map[string]int32
	deals     map[string]int32
	funds     map[string]int32
}

// New returns an empty timeline view.
func New() *Projection {
	p := &Projection{kind: map[string]uint8{}}
	for i, k := range kinds() {
		p.kind[k] = uint8(i)
	}
	p.Reset()
	return p
}

func (p *Projection) Name() string   { return Name }
func (p *Projection) Schema() string { return schema }

func (p *Projection) Handles(eventType string) bool {
	_, ok := p.kind[eventType]
	return ok || eventType == fundsapi.FundRegistered{}.EventType()
}

func (p *Projection) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st = State{}
	p.actors = map[fundbridge.Actor]uint32{}
	p.companies = map[string]int32{}
	p.deals = map[string]int32{}
	p.funds = map[string]int32{}
}

func (p *Projection) actor(a fundbridge.Actor) uint32 {
	return projections.InternActor(&p.st.Actors, p.actors, a)
}

// company returns the company's timeline, opening it if new.
func (p *Projection) company(id string) (*Company, int32, error) {
	if id == "" {
		return nil, 0, fmt.Errorf("event without a company ID")
	}
	i, ok := p.companies[id]
	if !ok {
		i = int32(len(p.st.Companies))
		p.st.Companies = append(p.st.Companies, Company{ID: id})
		p.companies[id] = i
	}
	return &p.st.Companies[i], i, nil
}

func stageIndex(s fundbridge.Stage) (uint8, error) {
	i := slices.Index(fundbridge.Stages, s)
	if i < 0 {
		return 0, fmt.Errorf("stage %q is not a lifecycle stage", s)
	}
	return uint8(i), nil
}

func instrumentMask(is []fundbridge.Instrument) (uint8, error) {
	var m uint8
	for _, in := range is {
		i := slices.Index(fundbridge.Instruments, in)
		if i < 0 {
			return 0, fmt.Errorf("unknown instrument %q", in)
		}
		m |= 1 << i
	}
	return m, nil
}

// Apply adds the event to its company's timeline. Errors are broken
// invariants: no company, an unknown stage or instrument, a deal event
// for a deal never sourced.
func (p *Projection) Apply(e events.Event, payload any) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if v, ok := payload.(fundsapi.FundRegistered); ok {
		if v.FundID == "" {
			return fmt.Errorf("fund registered without an ID")
		}
		if i, ok := p.funds[v.FundID]; ok {
			p.st.Funds[i].Name = v.Name
			return nil
		}
		p.funds[v.FundID] = int32(len(p.st.Funds))
		p.st.Funds = append(p.st.Funds, Fund{ID: v.FundID, Name: v.Name})
		return nil
	}
	kind, ok := p.kind[e.Type]
	if !ok {
		return fmt.Errorf("unexpected event type %s", e.Type)
	}
	en := draft{Entry: Entry{At: e.RecordedAt.UnixNano(), Pos: e.Position, Kind: kind}}
	c, err := p.entry(&en, payload)
	if err != nil {
		return err
	}
	en.Ref, en.Text, en.Actor = c.str(en.ref), c.str(en.text), p.companyActor(c, e.Actor)
	c.Entries = append(c.Entries, en.Entry)
	return nil
}

// companyActor is the actor's index, found among the company's own first.
func (p *Projection) companyActor(c *Company, a fundbridge.Actor) uint32 {
	for _, i := range c.actors {
		if p.st.Actors[i] == a {
			return i
		}
	}
	i := p.actor(a)
	c.actors = append(c.actors, i)
	return i
}

// entry fills in the event's details and returns the company it belongs to.
func (p *Projection) entry(en *draft, payload any) (*Company, error) {
	// slice handles the events that carry one: stage, company and the
	// application they concern.
	slice := func(s applicationsapi.Slice, appID string) (*Company, error) {
		c, _, err := p.company(s.CompanyID)
		if err != nil {
			return nil, err
		}
		if en.Stage, err = stageIndex(s.Stage); err != nil {
			return nil, err
		}
		if appID == "" {
			return nil, fmt.Errorf("application event without an application ID")
		}
		en.ref = appID
		return c, nil
	}
	amount := func(a money.Amount) (err error) {
		en.Amount, err = projections.ToFen("amount", a)
		return err
	}
	switch v := payload.(type) {
	case applicationsapi.CompanyRegistered:
		c, _, err := p.company(v.CompanyID)
		if err != nil {
			return nil, err
		}
		if c.Stage, err = stageIndex(v.Stage); err != nil {
			return nil, err
		}
		c.Name, en.Stage = v.Name, c.Stage
		en.text = fmt.Sprintf("%s (%s/%s, %s)", v.Name, v.Layer, v.Sector, v.City)
		return c, nil
	case applicationsapi.CompanyProfileUpdated:
		c, _, err := p.company(v.CompanyID)
		if err != nil {
			return nil, err
		}
		c.Name, en.Stage, en.text = v.Name, c.Stage, v.Name
		return c, nil
	case applicationsapi.CompanyStageChanged:
		c, _, err := p.company(v.CompanyID)
		if err != nil {
			return nil, err
		}
		if c.Stage, err = stageIndex(v.To); err != nil {
			return nil, err
		}
		en.Stage, en.text = c.Stage, string(v.From)
		return c, nil
	case applicationsapi.PatentAdded:
		c, _, err := p.company(v.CompanyID)
		if err != nil {
			return nil, err
		}
		en.Stage, en.ref, en.text = c.Stage, v.Number, fmt.Sprintf("%s patent %s: %s", v.Kind, v.Number, v.Title)
		return c, nil
	case applicationsapi.ApplicationDrafted:
		return p.terms(en, slice, v.Slice, v.ApplicationID, v.ApplicationTerms, amount)
	case applicationsapi.ApplicationUpdated:
		return p.terms(en, slice, v.Slice, v.ApplicationID, v.ApplicationTerms, amount)
	case applicationsapi.ApplicationSubmitted:
		return p.terms(en, slice, v.Slice, v.ApplicationID, v.ApplicationTerms, amount)
	case applicationsapi.ApplicationMatched:
		en.text = strings.Join(v.FundIDs, ",")
		return slice(v.Slice, v.ApplicationID)
	case applicationsapi.ApplicationUnderReview:
		en.text = v.FundID
		return slice(v.Slice, v.ApplicationID)
	case applicationsapi.ApplicationFunded:
		mask, err := instrumentMask([]fundbridge.Instrument{v.Instrument})
		if err != nil {
			return nil, err
		}
		if err := amount(v.Amount); err != nil {
			return nil, err
		}
		en.Mask, en.text = mask, v.FundID
		return slice(v.Slice, v.ApplicationID)
	case applicationsapi.ApplicationWithdrawn:
		en.text = v.Reason
		return slice(v.Slice, v.ApplicationID)
	case applicationsapi.ApplicationRejected:
		en.text = v.Reason
		return slice(v.Slice, v.ApplicationID)
	case applicationsapi.ApplicationExpired:
		return slice(v.Slice, v.ApplicationID)
	case matchingapi.DealSourced:
		if v.DealID == "" || v.FundID == "" {
			return nil, fmt.Errorf("deal sourced without a deal or fund ID")
		}
		if _, dup := p.deals[v.DealID]; dup {
			return nil, fmt.Errorf("deal %s sourced twice", v.DealID)
		}
		c, ci, err := p.company(v.CompanyID)
		if err != nil {
			return nil, err
		}
		if en.Stage, err = stageIndex(v.Stage); err != nil {
			return nil, err
		}
		p.deals[v.DealID] = int32(len(p.st.Deals))
		d := Deal{ID: v.DealID, Company: ci, Fund: v.FundID, Application: v.ApplicationID}
		p.st.Deals = append(p.st.Deals, d)
		en.ref, en.text = d.ID, strconv.Itoa(v.Score)
		return c, nil
	case matchingapi.DealAdvanced:
		c, err := p.deal(en, v.DealID)
		en.text = string(v.To)
		return c, err
	case matchingapi.DealPassed:
		c, err := p.deal(en, v.DealID)
		en.text = string(v.Step) + ": " + v.Reason
		return c, err
	case matchingapi.TermSheetIssued:
		c, err := p.deal(en, v.DealID)
		if err != nil {
			return nil, err
		}
		if err := amount(v.Amount); err != nil {
			return nil, err
		}
		if en.Extra, err = projections.ToFen("pre-money valuation", v.PreMoney); err != nil {
			return nil, err
		}
		en.text = percent(v.Ownership)
		return c, nil
	case matchingapi.TermSheetAccepted:
		return p.deal(en, v.DealID)
	case matchingapi.TermSheetDeclined:
		c, err := p.deal(en, v.DealID)
		en.text = v.Reason
		return c, err
	case matchingapi.DealClosed:
		c, err := p.deal(en, v.DealID)
		if err != nil {
			return nil, err
		}
		if err := amount(v.Amount); err != nil {
			return nil, err
		}
		en.text = percent(v.Ownership)
		return c, nil
	}
	return nil, fmt.Errorf("unexpected payload %T", payload)
}

func (p *Projection) terms(en *draft, slice func(applicationsapi.Slice, string) (*Company, error), s applicationsapi.Slice, id string, t applicationsapi.ApplicationTerms, amount func(money.Amount) error) (*Company, error) {
	mask, err := instrumentMask(t.Instruments)
	if err != nil {
		return nil, err
	}
	if err := amount(t.AmountRequested); err != nil {
		return nil, err
	}
	en.Mask = mask
	return slice(s, id)
}

// deal places a deal event: on the deal's company, at the company's
// current stage.
func (p *Projection) deal(en *draft, id string) (*Company, error) {
	i, ok := p.deals[id]
	if !ok {
		return nil, fmt.Errorf("deal %q was never sourced", id)
	}
	d := p.st.Deals[i]
	c := &p.st.Companies[d.Company]
	en.ref, en.Stage = d.ID, c.Stage
	return c, nil
}

func percent(fraction decimal.Decimal) string {
	return fraction.Shift(2).StringFixed(2) + "%"
}

// MarshalState encodes the state with gob (see lifecycle for why).
func (p *Projection) MarshalState() ([]byte, error) { return p.Freeze()() }

// Freeze copies the companies and funds (Apply changes them in place);
// actors, deals and each company's strings and entries only grow and
// never change, so their headers suffice.
func (p *Projection) Freeze() func() ([]byte, error) {
	p.mu.RLock()
	st := State{Actors: p.st.Actors, Companies: slices.Clone(p.st.Companies), Deals: p.st.Deals, Funds: slices.Clone(p.st.Funds)}
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
	companies := make(map[string]int32, len(st.Companies))
	for i, c := range st.Companies {
		companies[c.ID] = int32(i)
	}
	deals := make(map[string]int32, len(st.Deals))
	for i, d := range st.Deals {
		deals[d.ID] = int32(i)
	}
	fs := make(map[string]int32, len(st.Funds))
	for i, f := range st.Funds {
		fs[f.ID] = int32(i)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st, p.actors, p.companies, p.deals, p.funds = st, actors, companies, deals, fs
	return nil
}

// EntryView is one line of a timeline as readers see it.
type EntryView struct {
	At       time.Time `json:"at"`
	Position uint64    `json:"position"`
	// The event's type, such as application.submitted.v1.
	Type  string           `json:"type"`
	Stage fundbridge.Stage `json:"stage"`
	// Who did it: a user's ID.
	ActorUser string `json:"actor_user"`
	// The role they did it in.
	ActorRole fundbridge.Role `json:"actor_role"`
	// Their org, if they have one.
	ActorOrg string `json:"actor_org,omitempty"`
	// What happened, in a sentence.
	Summary       string        `json:"summary"`
	ApplicationID string        `json:"application_id,omitempty"`
	DealID        string        `json:"deal_id,omitempty"`
	FundID        string        `json:"fund_id,omitempty"`
	Amount        *money.Amount `json:"amount,omitempty"`
}

// CompanyView heads a timeline.
type CompanyView struct {
	ID    string           `json:"company_id"`
	Name  string           `json:"name"`
	Stage fundbridge.Stage `json:"stage"`
}

// Timeline returns the company's timeline, oldest first; false if the log
// never mentioned the company.
func (p *Projection) Timeline(companyID string) (CompanyView, []EntryView, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	i, ok := p.companies[companyID]
	if !ok {
		return CompanyView{}, nil, false
	}
	c := &p.st.Companies[i]
	kinds := kinds()
	out := make([]EntryView, len(c.Entries))
	for j := range c.Entries {
		out[j] = p.view(c, &c.Entries[j], kinds)
	}
	return CompanyView{ID: c.ID, Name: c.Name, Stage: fundbridge.Stages[c.Stage]}, out, true
}

func (p *Projection) fundName(id string) string {
	if i, ok := p.funds[id]; ok && p.st.Funds[i].Name != "" {
		return p.st.Funds[i].Name
	}
	return "fund " + id
}

func instruments(mask uint8) string {
	var names []string
	for i, in := range fundbridge.Instruments {
		if mask&(1<<i) != 0 {
			names = append(names, string(in))
		}
	}
	return strings.Join(names, ", ")
}

// view renders an entry of c; the caller holds the read lock.
func (p *Projection) view(c *Company, en *Entry, kinds []string) EntryView {
	a := p.st.Actors[en.Actor]
	var ref, text string
	if en.Ref >= 0 {
		ref = c.Strings[en.Ref]
	}
	if en.Text >= 0 {
		text = c.Strings[en.Text]
	}
	v := EntryView{
		At: time.Unix(0, en.At).UTC(), Position: en.Pos, Type: kinds[en.Kind], Stage: fundbridge.Stages[en.Stage],
		ActorUser: a.UserID, ActorRole: a.Role, ActorOrg: a.OrgID,
	}
	amount := en.Amount.Amount()
	withAmount := func() { v.Amount = &amount }
	var deal Deal
	if i, ok := p.deals[ref]; ok && strings.HasPrefix(v.Type, "deal.") {
		deal = p.st.Deals[i]
		v.DealID, v.FundID, v.ApplicationID = deal.ID, deal.Fund, deal.Application
	} else if strings.HasPrefix(v.Type, "application.") {
		v.ApplicationID = ref
	}
	switch v.Type {
	case applicationsapi.CompanyRegistered{}.EventType():
		v.Summary = fmt.Sprintf("Registered %s at the %s stage", text, v.Stage)
	case applicationsapi.CompanyProfileUpdated{}.EventType():
		v.Summary = "Updated the company profile of " + text
	case applicationsapi.CompanyStageChanged{}.EventType():
		v.Summary = fmt.Sprintf("Moved from the %s stage to %s", text, v.Stage)
	case applicationsapi.PatentAdded{}.EventType():
		v.Summary = "Added " + text
	case applicationsapi.ApplicationDrafted{}.EventType():
		withAmount()
		v.Summary = fmt.Sprintf("Drafted an application for %s: %s", projections.Human(amount), instruments(en.Mask))
	case applicationsapi.ApplicationUpdated{}.EventType():
		withAmount()
		v.Summary = fmt.Sprintf("Updated the draft to %s: %s", projections.Human(amount), instruments(en.Mask))
	case applicationsapi.ApplicationSubmitted{}.EventType():
		withAmount()
		v.Summary = fmt.Sprintf("Applied for %s: %s", projections.Human(amount), instruments(en.Mask))
	case applicationsapi.ApplicationMatched{}.EventType():
		ids := strings.Split(text, ",")
		names := make([]string, len(ids))
		for i, id := range ids {
			names[i] = p.fundName(id)
		}
		v.Summary = fmt.Sprintf("Matched to %d fund(s): %s", len(ids), strings.Join(names, ", "))
	case applicationsapi.ApplicationUnderReview{}.EventType():
		v.FundID = text
		v.Summary = "Under review by " + p.fundName(text)
	case applicationsapi.ApplicationFunded{}.EventType():
		withAmount()
		v.FundID = text
		v.Summary = fmt.Sprintf("Funded %s by %s (%s)", projections.Human(amount), p.fundName(text), instruments(en.Mask))
	case applicationsapi.ApplicationWithdrawn{}.EventType():
		v.Summary = withReason("Withdrew the application", text)
	case applicationsapi.ApplicationRejected{}.EventType():
		v.Summary = withReason("Application rejected", text)
	case applicationsapi.ApplicationExpired{}.EventType():
		v.Summary = "Application expired without review"
	case matchingapi.DealSourced{}.EventType():
		v.Summary = fmt.Sprintf("%s opened a deal (match score %s)", p.fundName(deal.Fund), text)
	case matchingapi.DealAdvanced{}.EventType():
		v.Summary = fmt.Sprintf("%s moved the deal to %s", p.fundName(deal.Fund), text)
	case matchingapi.DealPassed{}.EventType():
		v.Summary = fmt.Sprintf("%s passed at %s", p.fundName(deal.Fund), text)
	case matchingapi.TermSheetIssued{}.EventType():
		withAmount()
		v.Summary = fmt.Sprintf("%s issued a term sheet: %s at %s pre-money for %s", p.fundName(deal.Fund), projections.Human(amount), projections.Human(en.Extra.Amount()), text)
	case matchingapi.TermSheetAccepted{}.EventType():
		v.Summary = "Accepted the term sheet of " + p.fundName(deal.Fund)
	case matchingapi.TermSheetDeclined{}.EventType():
		v.Summary = withReason("Declined the term sheet of "+p.fundName(deal.Fund), text)
	case matchingapi.DealClosed{}.EventType():
		withAmount()
		v.Summary = fmt.Sprintf("%s closed the deal: %s for %s", p.fundName(deal.Fund), projections.Human(amount), text)
	}
	return v
}

func withReason(s, reason string) string {
	if reason == "" {
		return s
	}
	return s + ": " + reason
}
