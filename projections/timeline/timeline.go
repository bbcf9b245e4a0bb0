// Package timeline is each company's financing history as one list: its
// registration and stage changes, every event of its applications, the
// matches, every step of every deal, the term sheets and the fundings, in
// log order, each with the stage the company was at, who did it, a
// sentence a person can read, and the amount.
package timeline

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
)

// Name is the projection's name.
const Name = "timeline"

// v3: insurers and subsidy programmes by name; v4: an entry's Text holds
// the pieces of its sentence, not English, and insurers and programmes
// are named when read.
const schema = "timeline.v4"

// Entry is one event of a company's timeline, as compact as it can be:
// the sentence is written when it is read, and it holds no pointers, so
// the garbage collector never walks the million of them.
type Entry struct {
	At     int64 // Unix nanoseconds
	Pos    uint64
	Amount projections.Fen
	Extra  projections.Fen // a second amount: a term sheet's pre-money valuation, a loan's drawn or outstanding
	Actor  uint32          // index in State.Actors
	Ref    int32           // index in the company's Strings: application, deal or patent; -1 for none
	Text   int32           // index in the company's Strings: a name, a step, a reason, funds, or pieces joined by sep; -1 for none
	Kind   uint8           // index in Projection.kinds
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

// Owner is the company a loan deal ("loan_deal:<id>"), an insurance
// request ("request:<id>") or a policy ("policy:<id>") belongs to.
type Owner struct {
	Key      string
	Company  int32  // index in State.Companies
	LeadBank string // of a loan deal: the one bank the borrower is shown
}

// State is the snapshot's content, slices only.
type State struct {
	Actors    []fundbridge.Actor
	Companies []Company
	Deals     []Deal
	Funds     []Fund
	Owners    []Owner
	// Names are insurers ("insurer:<org>") and subsidy programmes
	// ("programme:<id>") by name, as Funds names funds (names.go).
	Names []projections.Named
}

// Projection is the timeline view. Safe for concurrent queries.
type Projection struct {
	mu        sync.RWMutex
	st        State
	folds     projections.Folds
	kinds     []entryKind
	owners    map[string]int32
	actors    map[fundbridge.Actor]uint32
	companies map[string]int32
	deals     map[string]int32
	funds     map[string]int32
	names     map[string]int32 // State.Names by key
}

// New returns an empty timeline view.
func New() *Projection {
	p := &Projection{}
	p.Reset()
	projections.On(&p.folds, p.onFundRegistered)
	p.nameKinds()
	p.companyKinds()
	p.applicationKinds()
	p.dealKinds()
	p.loanDealKinds()
	p.loanKinds()
	p.insuranceKinds()
	return p
}

func (p *Projection) Name() string   { return Name }
func (p *Projection) Schema() string { return schema }

// Handles reports whether the timeline folds events of this type.
func (p *Projection) Handles(eventType string) bool { return p.folds.Handles(eventType) }

func (p *Projection) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st = State{}
	p.actors = map[fundbridge.Actor]uint32{}
	p.companies = map[string]int32{}
	p.deals = map[string]int32{}
	p.funds = map[string]int32{}
	p.owners = map[string]int32{}
	p.names = map[string]int32{}
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
	return p.folds.Apply(e, payload)
}

// on registers an entry kind: fill folds the event's payload into a new
// entry and returns the company it belongs to; render says the entry's
// sentence (line.say) when it is read. Kinds are numbered in the order registered:
// appending is safe, any other change changes the schema.
func on[T events.Payload](p *Projection, fill func(*draft, T) (*Company, error), render func(*line)) {
	var zero T
	kind := uint8(len(p.kinds))
	p.kinds = append(p.kinds, entryKind{typ: zero.EventType(), render: render})
	projections.On(&p.folds, func(e events.Event, v T) error {
		en := draft{Entry: Entry{At: e.RecordedAt.UnixNano(), Pos: e.Position, Kind: kind}}
		c, err := fill(&en, v)
		if err != nil {
			return err
		}
		en.Ref, en.Text, en.Actor = c.str(en.ref), c.str(en.text), p.companyActor(c, e.Actor)
		c.Entries = append(c.Entries, en.Entry)
		return nil
	})
}

// entryKind is one event type with entries and how they read.
type entryKind struct {
	typ    string
	render func(*line)
}

func (p *Projection) onFundRegistered(_ events.Event, v fundsapi.FundRegistered) error {
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

// current places an entry on the company at its current stage.
func (p *Projection) current(en *draft, companyID string) (*Company, error) {
	c, _, err := p.company(companyID)
	if err != nil {
		return nil, err
	}
	en.Stage = c.Stage
	return c, nil
}

// owned records that key (a loan deal, an insurance request or policy)
// belongs to the company, so later events naming only the key find it.
func (p *Projection) owned(key, companyID string) error {
	if _, dup := p.owners[key]; dup {
		return fmt.Errorf("%s announced twice", key)
	}
	_, ci, err := p.company(companyID)
	if err != nil {
		return err
	}
	p.owners[key] = int32(len(p.st.Owners))
	p.st.Owners = append(p.st.Owners, Owner{Key: key, Company: ci})
	return nil
}

// leadBank is the lead bank of a loan deal.
func (p *Projection) leadBank(key string) string {
	if i, ok := p.owners[key]; ok {
		return p.st.Owners[i].LeadBank
	}
	return ""
}

// owner places an entry on the company key belongs to, at its current
// stage, with ref as the entry's reference.
func (p *Projection) owner(en *draft, key, ref string) (*Company, error) {
	i, ok := p.owners[key]
	if !ok {
		return nil, fmt.Errorf("%s was never announced", key)
	}
	c := &p.st.Companies[p.st.Owners[i].Company]
	en.ref, en.Stage = ref, c.Stage
	return c, nil
}

// amountOf sets the entry's amount.
func amountOf(en *draft, a money.Amount) error {
	var err error
	en.Amount, err = projections.ToFen("amount", a)
	return err
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
	st := State{Actors: p.st.Actors, Companies: slices.Clone(p.st.Companies), Deals: p.st.Deals, Funds: slices.Clone(p.st.Funds), Owners: p.st.Owners,
		Names: slices.Clone(p.st.Names)}
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
	owners := make(map[string]int32, len(st.Owners))
	for i, o := range st.Owners {
		owners[o.Key] = int32(i)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st, p.actors, p.companies, p.deals, p.funds, p.owners = st, actors, companies, deals, fs, owners
	p.names = projections.IndexNames(st.Names)
	return nil
}

// EntryView is one line of a timeline as readers see it.
type EntryView struct {
	At            time.Time        `json:"at"`
	Position      uint64           `json:"position"`
	Type          string           `json:"type" jsonschema_description:"The event's type, such as deal.advanced.v1; its prefix names what the entry is about."`
	Stage         fundbridge.Stage `json:"stage"`
	ActorUser     string           `json:"actor_user" jsonschema_description:"Who did it; empty for a step of a loan-plus-equity deal taken by a bank other than the lead, whose name the borrower is not shown."`
	ActorRole     fundbridge.Role  `json:"actor_role" jsonschema_description:"The role of who did it."`
	ActorOrg      string           `json:"actor_org,omitempty" jsonschema_description:"The org of who did it; absent when they act for none."`
	Summary       string           `json:"summary" jsonschema_description:"What happened, in an English sentence, written from summary_code and summary_params."`
	SummaryCode   string           `json:"summary_code" jsonschema_description:"Names the sentence, e.g. application.drafted, so a client can write it in its reader's language from summary_params; a code keeps its meaning, a sentence of another shape is a new code."`
	SummaryParams []Param          `json:"summary_params,omitempty" jsonschema_description:"The values the sentence names, in the order the English names them."`
	ApplicationID string           `json:"application_id,omitempty"`
	DealID        string           `json:"deal_id,omitempty" jsonschema_description:"A screening deal (deal.*) or a loan-plus-equity deal and its loan (loan_deal.*, loan.*)."`
	FundID        string           `json:"fund_id,omitempty"`
	RequestID     string           `json:"request_id,omitempty" jsonschema_description:"The insurance request of an insurance.* entry."`
	PolicyID      string           `json:"policy_id,omitempty" jsonschema_description:"The policy of a policy.* or claim.* entry."`
	Amount        *money.Amount    `json:"amount,omitempty" jsonschema_description:"The entry's amount: requested, offered, funded, lent, repaid, insured, premium or claimed."`
}

// CompanyView heads a timeline.
type CompanyView struct {
	ID    string           `json:"company_id"`
	Name  string           `json:"name"`
	Stage fundbridge.Stage `json:"stage"`
}

// Timeline returns the company's timeline, oldest first, as of an instant
// (zero: everything): the entries recorded up to it, the company at the
// stage of the last of them. False if the log never mentioned the company
// (by then).
func (p *Projection) Timeline(companyID string, asOf time.Time) (CompanyView, []EntryView, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	i, ok := p.companies[companyID]
	if !ok {
		return CompanyView{}, nil, false
	}
	c := &p.st.Companies[i]
	entries, stage := c.Entries, c.Stage
	if !asOf.IsZero() {
		until := asOf.UnixNano()
		// Log order, not a sort by time: clocks of two instances may
		// disagree a little, so every entry is looked at.
		var kept []Entry
		for _, e := range entries {
			if e.At <= until {
				kept = append(kept, e)
			}
		}
		if len(kept) == 0 {
			return CompanyView{}, nil, false
		}
		entries, stage = kept, kept[len(kept)-1].Stage
	}
	out := make([]EntryView, len(entries))
	for j := range entries {
		out[j] = p.view(c, &entries[j])
	}
	return CompanyView{ID: c.ID, Name: c.Name, Stage: fundbridge.Stages[stage]}, out, true
}

func (p *Projection) fundName(id string) string {
	if i, ok := p.funds[id]; ok && p.st.Funds[i].Name != "" {
		return p.st.Funds[i].Name
	}
	return "fund " + id
}

// instruments are the instruments of a mask, in fundbridge.Instruments
// order; never nil, so an empty list is [] in JSON.
func instruments(mask uint8) Param {
	names := []string{}
	for i, in := range fundbridge.Instruments {
		if mask&(1<<i) != 0 {
			names = append(names, string(in))
		}
	}
	return listParam("instrument", names)
}

// line is an entry being rendered.
type line struct {
	p         *Projection
	v         *EntryView
	en        *Entry
	ref, text string
	deal      Deal // of a screening deal's entry
}

// amount shows the entry's amount and returns it.
func (l *line) amount() money.Amount {
	a := l.en.Amount.Amount()
	l.v.Amount = &a
	return a
}

// amountParam shows the entry's amount and names it in the sentence.
func (l *line) amountParam() Param { return amountParam(l.amount()) }

// extraParam names the entry's second amount.
func (l *line) extraParam() Param { return amountParam(l.en.Extra.Amount()) }

// view renders an entry of c; the caller holds the read lock.
func (p *Projection) view(c *Company, en *Entry) EntryView {
	a := p.st.Actors[en.Actor]
	l := line{p: p, en: en}
	if en.Ref >= 0 {
		l.ref = c.Strings[en.Ref]
	}
	if en.Text >= 0 {
		l.text = c.Strings[en.Text]
	}
	k := p.kinds[en.Kind]
	v := EntryView{
		At: time.Unix(0, en.At).UTC(), Position: en.Pos, Type: k.typ, Stage: fundbridge.Stages[en.Stage],
		ActorUser: a.UserID, ActorRole: a.Role, ActorOrg: a.OrgID,
	}
	l.v = &v
	prefix, _, _ := strings.Cut(v.Type, ".")
	switch prefix {
	case "deal":
		if i, ok := p.deals[l.ref]; ok {
			l.deal = p.st.Deals[i]
			v.DealID, v.FundID, v.ApplicationID = l.deal.ID, l.deal.Fund, l.deal.Application
		}
	case "application":
		v.ApplicationID = l.ref
	case "loan_deal", "loan":
		v.DealID = l.ref
		// The borrower sees its deal without the other banks' names
		// (the lead's is on the deal): a step a bank took shows its role only.
		if a.Role == fundbridge.RoleBank && a.OrgID != p.leadBank("loan_deal:"+l.ref) {
			v.ActorUser, v.ActorOrg = "", ""
		}
	case "insurance":
		v.RequestID = l.ref
	case "policy", "claim":
		v.PolicyID = l.ref
	}
	k.render(&l)
	v.Summary = English(v.SummaryCode, v.SummaryParams)
	return v
}
