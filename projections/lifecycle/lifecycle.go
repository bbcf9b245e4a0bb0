// Package lifecycle is the operators' view of financing across company
// lifecycle stages: per stage, how many applications were submitted,
// matched, taken under review, funded, withdrawn, rejected or expired, for
// how much, by which instrument, how they converted, and how long funding
// took; sliced by layer, sector, city and period.
//
// Every count is of events, and each event counts under the slice it
// carries: the stage, layer, sector and city the company had when it
// happened, and the China month it was recorded in. The state keeps each
// application's facts with their times rather than running totals, so a
// query "as of" a past instant simply leaves out the facts recorded after
// it: the answer is the one a fold of the log up to that instant gives,
// without folding the log again.
package lifecycle

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
)

// Name is the projection's name.
const Name = "lifecycle"

// schema changes whenever the state's shape or meaning does.
const schema = "lifecycle.v3"

// Fact is when something happened to an application, and the company's
// slice at that moment. At is Unix nanoseconds.
type Fact struct {
	At     int64
	Month  projections.Month
	Stage  uint8  // index in fundbridge.Stages (reordering them changes the schema)
	Layer  uint16 // indexes in the state's dictionary
	Sector uint16
	City   uint16
}

func (f Fact) happened(asOf int64) bool { return f.At <= asOf }

// App is a submitted application: its submission, never changed after.
type App struct {
	ID        string
	Requested projections.Fen
	Submitted Fact
}

// Kinds of move.
const (
	moveMatched      uint8 = iota // first match
	moveReview                    // first fund to take it under review
	moveFirstFunding              // first deal that funded it
	moveFunding                   // another deal that funded it
	moveWithdrawn
	moveRejected
	moveExpired
)

// Move is a later step of an application that the funnel counts: only
// the first match, review and end, every funding. Moves are appended and
// never changed, as the applications are, so a snapshot captures them by
// their slice headers without copying.
type Move struct {
	App        int32 // index in State.Apps
	Kind       uint8
	Instrument uint8 // of a funding: index in fundbridge.Instruments (reordering them changes the schema)
	Fact       Fact
	Amount     projections.Fen // of a funding
}

// Bits of State.Seen: which first moves an application has made.
const (
	seenMatched uint8 = 1 << iota
	seenReview
	seenFunded
	seenEnded
)

// State is the projection's state as its snapshot holds it: slices only,
// so that the same log always encodes to the same bytes.
type State struct {
	Dict  []string // layer, sector and city names, in the order first seen
	Apps  []App    // in the order submitted
	Moves []Move   // in log order
	Seen  []uint8  // per application, the seen* bits
	// Deals and insurance (others.go).
	Others    []Other    // in log order, never changed
	LoanDeals []LoanDeal // never changed
	Companies []CompanySlice
}

// Projection is the lifecycle view. Safe for concurrent queries.
type Projection struct {
	mu        sync.RWMutex
	folds     projections.Folds
	st        State
	apps      map[string]int32  // application ID → index in st.Apps
	words     map[string]uint16 // dictionary index
	loanDeals map[string]int32
	companies map[string]int32
	// generation counts the times the state was replaced whole (reset,
	// restored), so that an answer cached at a log position is not taken
	// for the answer of a replaced state at the same position.
	generation atomic.Uint64
}

// Generation changes whenever the state is replaced whole: by a reset
// (a rebuild, a log that started over) or a snapshot restored.
func (p *Projection) Generation() uint64 { return p.generation.Load() }

// New returns an empty lifecycle view.
func New() *Projection {
	p := &Projection{}
	p.Reset()
	// Only events of submitted applications move the funnel; drafts and
	// company events do not (each event carries its own slice).
	projections.On(&p.folds, p.submitted)
	projections.On(&p.folds, func(e events.Event, v applicationsapi.ApplicationMatched) error {
		return p.move(e, v.ApplicationID, v.Slice, true, Move{Kind: moveMatched}, seenMatched)
	})
	projections.On(&p.folds, func(e events.Event, v applicationsapi.ApplicationUnderReview) error {
		return p.move(e, v.ApplicationID, v.Slice, true, Move{Kind: moveReview}, seenReview)
	})
	projections.On(&p.folds, p.funded)
	projections.On(&p.folds, func(e events.Event, v applicationsapi.ApplicationWithdrawn) error {
		// A draft may be withdrawn; it never entered the funnel.
		return p.move(e, v.ApplicationID, v.Slice, false, Move{Kind: moveWithdrawn}, seenEnded)
	})
	projections.On(&p.folds, func(e events.Event, v applicationsapi.ApplicationRejected) error {
		return p.move(e, v.ApplicationID, v.Slice, true, Move{Kind: moveRejected}, seenEnded)
	})
	projections.On(&p.folds, func(e events.Event, v applicationsapi.ApplicationExpired) error {
		return p.move(e, v.ApplicationID, v.Slice, true, Move{Kind: moveExpired}, seenEnded)
	})
	p.otherFolds()
	return p
}

func (p *Projection) Name() string   { return Name }
func (p *Projection) Schema() string { return schema }

// Handles reports whether the funnel folds events of this type.
func (p *Projection) Handles(eventType string) bool { return p.folds.Handles(eventType) }

func (p *Projection) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.generation.Add(1)
	p.st = State{}
	p.apps = map[string]int32{}
	p.words = map[string]uint16{}
	p.loanDeals = map[string]int32{}
	p.companies = map[string]int32{}
}

// Apply folds one application event. Errors are broken invariants: an
// unknown stage, a bad amount, an application moved on without having
// been submitted.
func (p *Projection) Apply(e events.Event, payload any) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.folds.Apply(e, payload)
}

func (p *Projection) submitted(e events.Event, v applicationsapi.ApplicationSubmitted) error {
	if v.ApplicationID == "" {
		return fmt.Errorf("submission without an application ID")
	}
	if _, dup := p.apps[v.ApplicationID]; dup {
		return fmt.Errorf("application %s submitted twice", v.ApplicationID)
	}
	f, err := p.fact(e, v.Slice)
	if err != nil {
		return err
	}
	requested, err := projections.ToFen("amount requested", v.AmountRequested)
	if err != nil {
		return err
	}
	p.company(v.Slice)
	p.apps[v.ApplicationID] = int32(len(p.st.Apps))
	p.st.Apps = append(p.st.Apps, App{ID: v.ApplicationID, Requested: requested, Submitted: f})
	p.st.Seen = append(p.st.Seen, 0)
	return nil
}

func (p *Projection) funded(e events.Event, v applicationsapi.ApplicationFunded) error {
	i := slices.Index(fundbridge.Instruments, v.Instrument)
	if i < 0 {
		return fmt.Errorf("application %s funded by unknown instrument %q", v.ApplicationID, v.Instrument)
	}
	amount, err := projections.ToFen("amount funded", v.Amount)
	if err != nil {
		return err
	}
	return p.move(e, v.ApplicationID, v.Slice, true, Move{Kind: moveFunding, Instrument: uint8(i), Amount: amount}, 0)
}

// move records m for a submitted application unless its first-only bit
// is already seen; must says whether the application has to be known
// (every move but a draft's withdrawal).
func (p *Projection) move(e events.Event, id string, s applicationsapi.Slice, must bool, m Move, first uint8) error {
	i, ok := p.apps[id]
	if !ok {
		if must {
			return fmt.Errorf("application %q was never submitted", id)
		}
		return nil
	}
	f, err := p.fact(e, s)
	if err != nil {
		return err
	}
	seen := &p.st.Seen[i]
	if m.Kind == moveFunding && *seen&seenFunded == 0 {
		m.Kind, first = moveFirstFunding, seenFunded
	}
	if first != 0 {
		if *seen&first != 0 {
			return nil
		}
		*seen |= first
	}
	m.App, m.Fact = i, f
	p.st.Moves = append(p.st.Moves, m)
	return nil
}

func (p *Projection) fact(e events.Event, s applicationsapi.Slice) (Fact, error) {
	stage := slices.Index(fundbridge.Stages, s.Stage)
	if stage < 0 {
		return Fact{}, fmt.Errorf("stage %q is not a lifecycle stage", s.Stage)
	}
	return Fact{
		At: e.RecordedAt.UnixNano(), Month: projections.MonthOf(e.RecordedAt), Stage: uint8(stage),
		Layer: p.word(string(s.Layer)), Sector: p.word(string(s.Sector)), City: p.word(string(s.City)),
	}, nil
}

// word interns a slice value; there are a few dozen of them.
func (p *Projection) word(s string) uint16 {
	if i, ok := p.words[s]; ok {
		return i
	}
	i := uint16(len(p.st.Dict))
	p.st.Dict = append(p.st.Dict, s)
	p.words[s] = i
	return i
}

// MarshalState encodes the state with gob: for a state of many small
// records it is faster and several times smaller than JSON (see the
// codec figures of projections/bench).
func (p *Projection) MarshalState() ([]byte, error) { return p.Freeze()() }

// Freeze copies the seen bits, a byte per application; the rest is only
// appended to, never changed, so the slice headers capture it.
func (p *Projection) Freeze() func() ([]byte, error) {
	p.mu.RLock()
	st := State{Dict: p.st.Dict, Apps: p.st.Apps, Moves: p.st.Moves, Seen: slices.Clone(p.st.Seen),
		Others: p.st.Others, LoanDeals: p.st.LoanDeals, Companies: slices.Clone(p.st.Companies)}
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
	if len(st.Seen) != len(st.Apps) {
		return fmt.Errorf("%s: %d applications but %d seen marks", Name, len(st.Apps), len(st.Seen))
	}
	apps := make(map[string]int32, len(st.Apps))
	for i, a := range st.Apps {
		apps[a.ID] = int32(i)
	}
	words := make(map[string]uint16, len(st.Dict))
	for i, w := range st.Dict {
		words[w] = uint16(i)
	}
	loanDeals := make(map[string]int32, len(st.LoanDeals))
	for i, d := range st.LoanDeals {
		if d.App < 0 || int(d.App) >= len(st.Apps) {
			return fmt.Errorf("%s: deal %s finances no application", Name, d.ID)
		}
		loanDeals[d.ID] = int32(i)
	}
	companies := make(map[string]int32, len(st.Companies))
	for i, c := range st.Companies {
		companies[c.ID] = int32(i)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.generation.Add(1)
	p.st, p.apps, p.words, p.loanDeals, p.companies = st, apps, words, loanDeals, companies
	return nil
}
