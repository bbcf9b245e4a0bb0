// Package sim writes a seeded, random but plausible market history to
// an event store, through its Append, for the projections' tests and
// benchmarks: funds with mandates, companies at every stage changing stage,
// applications going through every status, deal pipelines to closing or
// passing, term sheets, commitments and fundings by every instrument.
//
// Each company's history is one script appended in order by one worker;
// scripts run concurrently. Fund streams, which many scripts write, are
// appended with expected version Any. With several phases, every script is
// cut into as many parts and phase k appends the k-th part of all of them,
// so that a history spans the cuts between phases.
package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
)

// Register adds every event type the history writes.
func Register(r *events.Registry) {
	applicationsapi.Register(r)
	fundsapi.Register(r)
	matchingapi.Register(r)
}

// EventsPerCompany is about how many events one company's script holds.
const EventsPerCompany = 30

// Config shapes a history.
type Config struct {
	Seed      uint64
	Companies int
	Funds     int // default Companies/20, at least 4
	Phases    int // default 1
	Workers   int // concurrent appenders; default 8
	// Between, if set, runs after every phase but the last, once all its
	// appends are acknowledged and before the next phase starts.
	Between func(phase int) error
}

// Stats count what was appended.
type Stats struct {
	Appends int64
	Events  int64
	ByType  map[string]int64
}

// step is one append of a script.
type step struct {
	stream   string
	expected events.ExpectedVersion
	actor    fundbridge.Actor
	payloads []events.Payload
}

// Write appends the history described by cfg to store.
func Write(ctx context.Context, store events.Store, cfg Config) (Stats, error) {
	if cfg.Funds == 0 {
		cfg.Funds = max(4, cfg.Companies/20)
	}
	if cfg.Phases == 0 {
		cfg.Phases = 1
	}
	if cfg.Workers == 0 {
		cfg.Workers = 8
	}
	w := &writer{store: store, cfg: cfg, byType: map[string]int64{}}
	err := w.parallel(ctx, cfg.Funds, func(f int) error {
		for _, s := range w.fundSetup(f) { // in order: registered, then the mandate
			if err := w.append(ctx, s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Stats{}, err
	}
	for phase := range cfg.Phases {
		err := w.parallel(ctx, cfg.Companies, func(c int) error {
			script := w.company(c)
			n := len(script)
			for _, s := range script[phase*n/cfg.Phases : (phase+1)*n/cfg.Phases] {
				if err := w.append(ctx, s); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return Stats{}, err
		}
		if cfg.Between != nil && phase < cfg.Phases-1 {
			if err := cfg.Between(phase); err != nil {
				return Stats{}, err
			}
		}
	}
	// Some funds close once their investing is done.
	for f := 1; f < cfg.Funds; f += 10 {
		closing := step{stream: "fund-" + FundID(f), expected: events.Any, actor: manager(f), payloads: []events.Payload{fundsapi.FundClosed{FundID: FundID(f), Reason: "investment period over"}}}
		if err := w.append(ctx, closing); err != nil {
			return Stats{}, err
		}
	}
	return Stats{Appends: w.appends.Load(), Events: w.events.Load(), ByType: w.byType}, nil
}

type writer struct {
	store   events.Store
	cfg     Config
	appends atomic.Int64
	events  atomic.Int64
	mu      sync.Mutex
	byType  map[string]int64
}

// parallel runs job(0..n-1) on the configured number of workers.
func (w *writer) parallel(ctx context.Context, n int, job func(i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range w.cfg.Workers {
		wg.Go(func() {
			for i := range next {
				if err := job(i); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}

func (w *writer) append(ctx context.Context, s step) error {
	req := events.AppendRequest{StreamID: s.stream, Expected: s.expected, Meta: events.Meta{Actor: s.actor, CorrelationID: s.stream}}
	for _, p := range s.payloads {
		data, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("sim: encode %s: %w", p.EventType(), err)
		}
		req.Events = append(req.Events, events.NewEvent{Type: p.EventType(), Payload: data})
	}
	if _, err := w.store.Append(ctx, req); err != nil {
		return fmt.Errorf("sim: append to %s: %w", s.stream, err)
	}
	w.appends.Add(1)
	w.events.Add(int64(len(s.payloads)))
	w.mu.Lock()
	for _, p := range s.payloads {
		w.byType[p.EventType()]++
	}
	w.mu.Unlock()
	return nil
}

// Identities of the history.

// FundID names fund f.
func FundID(f int) string { return fmt.Sprintf("f%04d", f) }

// ManagerOrg is the org managing fund f: each manages two funds.
func ManagerOrg(f int) string { return fmt.Sprintf("org%04d", f/2) }

// CompanyID names company c; it is also the startup's org.
func CompanyID(c int) string { return fmt.Sprintf("c%06d", c) }

func startup(companyID string) fundbridge.Actor {
	return fundbridge.Actor{UserID: "u-" + companyID, Role: fundbridge.RoleStartup, OrgID: companyID}
}

func manager(f int) fundbridge.Actor {
	return fundbridge.Actor{UserID: "u-" + ManagerOrg(f), Role: fundbridge.RoleFundManager, OrgID: ManagerOrg(f)}
}

func platform() fundbridge.Actor {
	return fundbridge.Actor{UserID: "matching", Role: fundbridge.RoleSystem}
}

func operator() fundbridge.Actor {
	return fundbridge.Actor{UserID: "op-1", Role: fundbridge.RoleOperator}
}

func yuan(r *rand.Rand, minM, maxM int) money.Amount {
	// whole ten-thousands of yuan, sometimes with fen, between minM and maxM million
	tenK := int64(minM*100 + r.IntN((maxM-minM)*100+1))
	d := decimal.NewFromInt(tenK * 10_000)
	if r.IntN(10) == 0 {
		d = d.Add(decimal.New(int64(r.IntN(100)), -2))
	}
	return money.FromDecimal(d)
}

func (w *writer) fundSetup(f int) []step {
	r := rand.New(rand.NewPCG(w.cfg.Seed, uint64(1<<40+f)))
	id := FundID(f)
	types := fundsapi.FundTypes
	reg := fundsapi.FundRegistered{
		FundID: id, ManagerOrg: ManagerOrg(f), Name: fmt.Sprintf("Fund %d Capital", f),
		Type: types[r.IntN(len(types))], CommittedCapital: yuan(r, 2_000, 20_000),
	}
	mandate := fundsapi.MandateSet{FundID: id, Mandate: fundsapi.Mandate{
		Stages: fundbridge.Stages, TicketMin: money.Yuan(1_000_000), TicketMax: money.Yuan(50_000_000), MaxOwnership: decimal.RequireFromString("0.30"),
	}}
	return []step{
		{stream: "fund-" + id, expected: events.NoStream, actor: manager(f), payloads: []events.Payload{reg}},
		{stream: "fund-" + id, expected: events.Any, actor: manager(f), payloads: []events.Payload{mandate}},
	}
}

// script builds one company's steps, tracking each stream's version.
type script struct {
	steps    []step
	versions map[string]uint64
}

func (s *script) emit(stream string, actor fundbridge.Actor, ps ...events.Payload) {
	expected := events.Exactly(s.versions[stream])
	if len(stream) > 5 && stream[:5] == "fund-" {
		expected = events.Any
	}
	s.versions[stream] += uint64(len(ps))
	s.steps = append(s.steps, step{stream: stream, expected: expected, actor: actor, payloads: ps})
}

// company writes company c's whole history, the same for the same seed.
func (w *writer) company(c int) []step {
	r := rand.New(rand.NewPCG(w.cfg.Seed, uint64(c)))
	s := &script{versions: map[string]uint64{}}
	id := CompanyID(c)
	me := startup(id)
	stageIdx := pick(r, []int{30, 25, 20, 15, 10})
	layer := fundbridge.Layers[r.IntN(len(fundbridge.Layers))]
	sectors := fundbridge.SectorsOf(layer)
	profile := applicationsapi.CompanyProfile{
		Name: fmt.Sprintf("Company %d AI", c), City: fundbridge.Cities[r.IntN(len(fundbridge.Cities))],
		Layer: layer, Sector: sectors[r.IntN(len(sectors))], FoundedOn: "2020-01-15", Headcount: 5 + r.IntN(500),
	}
	companyStream := "company-" + id
	uscc := fmt.Sprintf("91110000%010d", c)
	s.emit("uscc-"+uscc, me, applicationsapi.USCCClaimed{USCC: uscc, CompanyID: id}) // as the service claims it first
	s.emit(companyStream, me, applicationsapi.CompanyRegistered{CompanyID: id, USCC: uscc, Stage: fundbridge.Stages[stageIdx], CompanyProfile: profile})
	if r.IntN(10) < 3 {
		profile.Headcount += 10
		s.emit(companyStream, me, applicationsapi.CompanyProfileUpdated{CompanyID: id, CompanyProfile: profile})
	}
	for p := range r.IntN(3) {
		digits := fmt.Sprintf("20231%06d%d", c%1_000_000, p)
		s.emit(companyStream, me, applicationsapi.PatentAdded{
			CompanyID: id, Number: "CN" + digits + "." + string(applicationsapi.PatentCheckDigit(digits)), Kind: applicationsapi.PatentInvention,
			Title: "Method for training models", FiledOn: "2023-03-01", GrantedOn: "2024-06-01", ExpiresOn: "2043-03-01", Holding: applicationsapi.HoldingOwner,
		})
	}
	for a := range 1 + r.IntN(3) {
		if a > 0 && stageIdx < len(fundbridge.Stages)-1 && r.IntN(10) < 4 {
			s.emit(companyStream, me, applicationsapi.CompanyStageChanged{CompanyID: id, From: fundbridge.Stages[stageIdx], To: fundbridge.Stages[stageIdx+1]})
			stageIdx++
		}
		slice := applicationsapi.Slice{CompanyID: id, Stage: fundbridge.Stages[stageIdx], Layer: profile.Layer, Sector: profile.Sector, City: profile.City}
		w.application(r, s, fmt.Sprintf("%sa%d", id, a), profile.Name, slice, me)
	}
	return s.steps
}

// application writes one application's life: drafted, submitted, then
// expired, rejected, or matched and screened by deals to funding or an end.
func (w *writer) application(r *rand.Rand, s *script, appID, name string, slice applicationsapi.Slice, me fundbridge.Actor) {
	stream := "application-" + appID
	terms := applicationsapi.ApplicationTerms{AmountRequested: yuan(r, 1, 50), UseOfFunds: "GPUs and hiring", CreditDataConsent: r.IntN(2) == 0}
	for _, in := range fundbridge.Instruments {
		if r.IntN(3) == 0 {
			terms.Instruments = append(terms.Instruments, in)
		}
	}
	if len(terms.Instruments) == 0 {
		terms.Instruments = []fundbridge.Instrument{fundbridge.InstrumentEquity}
	}
	s.emit(stream, me, applicationsapi.ApplicationDrafted{ApplicationID: appID, CompanyName: name, Slice: slice, ApplicationTerms: terms})
	if r.IntN(5) == 0 {
		terms.AmountRequested = terms.AmountRequested.Add(money.Yuan(100_000))
		s.emit(stream, me, applicationsapi.ApplicationUpdated{ApplicationID: appID, Slice: slice, ApplicationTerms: terms})
	}
	if r.IntN(20) == 0 {
		s.emit(stream, me, applicationsapi.ApplicationWithdrawn{ApplicationID: appID, Reason: "changed our plans", Slice: slice})
		return
	}
	s.emit(stream, me, applicationsapi.ApplicationSubmitted{ApplicationID: appID, CompanyName: name, Slice: slice, ApplicationTerms: terms})
	switch r.IntN(20) {
	case 0, 1:
		s.emit(stream, platform(), applicationsapi.ApplicationExpired{ApplicationID: appID, Slice: slice})
		return
	case 2:
		s.emit(stream, operator(), applicationsapi.ApplicationRejected{ApplicationID: appID, Reason: "outside the platform's scope", Slice: slice})
		return
	}
	matched := r.Perm(w.cfg.Funds)[:1+r.IntN(min(3, w.cfg.Funds))]
	fundIDs := make([]string, len(matched))
	for i, f := range matched {
		fundIDs[i] = FundID(f)
	}
	s.emit(stream, platform(), applicationsapi.ApplicationMatched{ApplicationID: appID, FundIDs: fundIDs, Slice: slice})
	reviewed, funded := false, false
	for _, f := range matched {
		closed, screened := w.deal(r, s, f, appID, slice, me)
		if screened && !reviewed {
			s.emit(stream, platform(), applicationsapi.ApplicationUnderReview{ApplicationID: appID, FundID: FundID(f), Slice: slice})
			reviewed = true
		}
		if closed != nil {
			s.emit(stream, platform(), applicationsapi.ApplicationFunded{ApplicationID: appID, DealID: matchingapi.DealID(FundID(f), appID), FundID: FundID(f),
				Instrument: fundbridge.InstrumentEquity, Amount: *closed, Slice: slice})
			funded = true
		}
	}
	if !reviewed && len(matched) > 1 { // a fund's mandate moved away from it
		s.emit(stream, platform(), applicationsapi.ApplicationUnmatched{ApplicationID: appID, FundIDs: fundIDs[len(fundIDs)-1:], Slice: slice})
	}
	// Loans and cover come from outside the deal pipeline.
	if !funded && r.IntN(3) == 0 || funded && r.IntN(8) == 0 {
		others := []fundbridge.Instrument{fundbridge.InstrumentVentureLoan, fundbridge.InstrumentLoanPlusEquity, fundbridge.InstrumentPatentInsurance}
		in := others[r.IntN(len(others))]
		s.emit(stream, platform(), applicationsapi.ApplicationFunded{ApplicationID: appID, DealID: "x-" + appID, FundID: FundID(matched[0]),
			Instrument: in, Amount: yuan(r, 1, 20), Slice: slice})
		funded = true
	}
	if funded {
		return
	}
	switch k := r.IntN(3); {
	case k == 0:
		s.emit(stream, me, applicationsapi.ApplicationWithdrawn{ApplicationID: appID, Reason: "raised elsewhere", Slice: slice})
	case k == 1 || reviewed:
		s.emit(stream, operator(), applicationsapi.ApplicationRejected{ApplicationID: appID, Reason: "no fund went ahead", Slice: slice})
	default:
		s.emit(stream, platform(), applicationsapi.ApplicationExpired{ApplicationID: appID, Slice: slice})
	}
}

// deal screens the application for fund f. It reports the equity
// invested if the deal closed, and whether it got past sourcing.
func (w *writer) deal(r *rand.Rand, s *script, f int, appID string, slice applicationsapi.Slice, me fundbridge.Actor) (*money.Amount, bool) {
	dealID := matchingapi.DealID(FundID(f), appID)
	stream := "deal-" + dealID
	fm := manager(f)
	s.emit(stream, fm, matchingapi.DealSourced{DealID: dealID, FundID: FundID(f), ApplicationID: appID, Score: 40 + r.IntN(60), Slice: slice})
	pipeline := matchingapi.Pipeline()
	at := 0 // index in the pipeline
	for pipeline[at] != matchingapi.StepICReview {
		if r.IntN(5) == 0 {
			s.emit(stream, fm, matchingapi.DealPassed{DealID: dealID, Step: pipeline[at], Reason: "not a fit"})
			return nil, at > 0
		}
		s.emit(stream, fm, matchingapi.DealAdvanced{DealID: dealID, From: pipeline[at], To: pipeline[at+1]})
		at++
	}
	for round := 0; ; round++ {
		amount := yuan(r, 1, 30)
		pre := yuan(r, 10, 500)
		post := pre.Add(amount)
		ownership := amount.Decimal().DivRound(post.Decimal(), 10)
		s.emit(stream, fm, matchingapi.TermSheetIssued{DealID: dealID, Amount: amount, PreMoney: pre, PostMoney: post, Ownership: ownership})
		if round < 2 && r.IntN(5) == 0 {
			s.emit(stream, me, matchingapi.TermSheetDeclined{DealID: dealID, Reason: "valuation too low"})
			continue
		}
		if r.IntN(6) == 0 {
			s.emit(stream, fm, matchingapi.DealPassed{DealID: dealID, Step: matchingapi.StepTermSheet, Reason: "startup went quiet"})
			return nil, true
		}
		s.emit(stream, me, matchingapi.TermSheetAccepted{DealID: dealID})
		w.close(r, s, f, appID, slice, amount, ownership)
		return &amount, true
	}
}

// close is the closing process's trail: the deal starts it, the
// application is held, the fund commits, the deal closes. Now and then a
// first attempt is undone (released, abandoned) before one succeeds.
func (w *writer) close(r *rand.Rand, s *script, f int, appID string, slice applicationsapi.Slice, amount money.Amount, ownership decimal.Decimal) {
	dealID := matchingapi.DealID(FundID(f), appID)
	deal, app, fund := "deal-"+dealID, "application-"+appID, "fund-"+FundID(f)
	commit := fundsapi.CapitalCommitted{FundID: FundID(f), DealID: dealID, ApplicationID: appID, CompanyID: slice.CompanyID, Amount: amount, DryPowderAfter: money.Zero}
	attempt := func(n int) string {
		process := dealID + "-" + strconv.Itoa(n)
		s.emit(deal, manager(f), matchingapi.DealClosingStarted{DealID: dealID, Process: process, FundID: FundID(f), ApplicationID: appID,
			CompanyID: slice.CompanyID, Amount: amount, Ownership: ownership})
		s.emit(app, platform(), applicationsapi.ApplicationReserved{ApplicationID: appID, DealID: dealID, FundID: FundID(f), Slice: slice})
		s.emit(fund, platform(), commit)
		return process
	}
	if r.IntN(8) == 0 {
		process := attempt(1)
		why := "the deal's closing did not complete"
		s.emit(fund, platform(), fundsapi.CapitalReleased{FundID: FundID(f), DealID: dealID, ApplicationID: appID, Amount: amount, DryPowderAfter: money.Zero, Reason: why})
		s.emit(app, platform(), applicationsapi.ReservationReleased{ApplicationID: appID, DealID: dealID, Reason: why, Slice: slice})
		s.emit(deal, platform(), matchingapi.DealClosingAbandoned{DealID: dealID, Process: process, Reason: why})
	}
	attempt(2)
	s.emit(deal, platform(), matchingapi.DealClosed{DealID: dealID, FundID: FundID(f), ApplicationID: appID, CompanyID: slice.CompanyID, Amount: amount, Ownership: ownership})
}

// pick draws an index with the given weights.
func pick(r *rand.Rand, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := r.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}
