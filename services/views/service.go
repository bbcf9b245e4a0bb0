// Package views is the query service of the read projections: the
// lifecycle-stage funnel, company timelines, the market overview and
// fund deal boards, folded from the whole log by one projections.Runner,
// kept on local disk between restarts, and answered over NATS.
package views

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/projections/dealboard"
	"github.com/fundbridge/fundbridge/projections/lifecycle"
	"github.com/fundbridge/fundbridge/projections/market"
	"github.com/fundbridge/fundbridge/projections/timeline"
	"github.com/fundbridge/fundbridge/services/svc"
)

// Name is the service's name on the bus.
const Name = "views"

// Service answers queries from the projections it runs.
type Service struct {
	runner    *projections.Runner
	lifecycle *lifecycle.Projection
	timeline  *timeline.Projection
	market    *market.Projection
	dealboard *dealboard.Projection
	log       *slog.Logger
}

// Option configures a Service.
type Option func(*projections.RunnerOptions)

// WithLogger logs to l.
func WithLogger(l *slog.Logger) Option { return func(o *projections.RunnerOptions) { o.Logger = l } }

// WithSaving saves each projection's snapshot after every events applied,
// or interval after the last save if anything changed.
func WithSaving(every uint64, interval time.Duration) Option {
	return func(o *projections.RunnerOptions) { o.SaveEvery, o.SaveInterval = every, interval }
}

// New returns the service over store. The registry must hold the event
// types of the applications, funds and matching services; dir keeps the
// projections' snapshots ("" keeps none: every start folds the log).
func New(store events.Store, registry *events.Registry, dir string, opts ...Option) *Service {
	ro := projections.RunnerOptions{Dir: dir}
	for _, o := range opts {
		o(&ro)
	}
	if ro.Logger == nil {
		ro.Logger = slog.Default()
	}
	s := &Service{
		lifecycle: lifecycle.New(), timeline: timeline.New(), market: market.New(), dealboard: dealboard.New(),
		log: ro.Logger.With("service", Name),
	}
	s.runner = projections.NewRunner(store, registry, ro, s.lifecycle, s.timeline, s.market, s.dealboard)
	return s
}

// Run follows the log until ctx ends, then saves the projections.
func (s *Service) Run(ctx context.Context) error { return s.runner.Run(ctx) }

// Rebuild folds the named projection ("" for all) again from position 0,
// reporting progress (log positions done and total, events per second);
// for the CLI. It works whether or not the service runs.
func (s *Service) Rebuild(ctx context.Context, name string, progress func(done, total uint64, rate float64)) error {
	return s.runner.Rebuild(ctx, name, progress)
}

// Status reports each projection's checkpoint and state.
func (s *Service) Status() []projections.Status { return s.runner.Status() }

// Runtime is the service's operations on the bus.
func (s *Service) Runtime() svc.Service {
	operators := []fundbridge.Role{fundbridge.RoleOperator, fundbridge.RoleSystem}
	return svc.Service{Name: Name, Logger: s.log, Operations: map[string]svc.Handler{
		"lifecycle_stages": op(operators, s.lifecycleStages),
		"market_overview":  op(operators, s.marketOverview),
		"status":           op(operators, s.status),
		"company_timeline": op([]fundbridge.Role{fundbridge.RoleOperator, fundbridge.RoleStartup}, s.companyTimeline),
		"deal_board":       op([]fundbridge.Role{fundbridge.RoleOperator, fundbridge.RoleFundManager}, s.dealBoard),
	}}
}

// op wraps a typed handler: the role check first (a role that may never
// see this view is EFORBIDDEN), then the strict decoding of the payload.
func op[P any](roles []fundbridge.Role, h func(context.Context, fundbridge.Actor, P) (any, error)) svc.Handler {
	return func(ctx context.Context, req *svc.Request) (svc.Result, error) {
		if !slices.Contains(roles, req.Actor.Role) {
			return svc.Result{}, fundbridge.Errorf(fundbridge.EFORBIDDEN, "a %s may not see this view", req.Actor.Role)
		}
		var p P
		if trimmed := bytes.TrimSpace(req.Payload); len(trimmed) > 0 && !bytes.Equal(trimmed, []byte("null")) {
			dec := json.NewDecoder(bytes.NewReader(trimmed))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&p); err != nil {
				return svc.Result{}, svc.DecodeError(err)
			}
			if _, err := dec.Token(); !errors.Is(err, io.EOF) {
				return svc.Result{}, fundbridge.Invalid("malformed request", fundbridge.FieldError{Field: "payload", Reason: "data after the JSON object"})
			}
		}
		v, err := h(ctx, req.Actor, p)
		if err != nil {
			return svc.Result{}, err
		}
		return svc.Result{Value: v}, nil
	}
}

// LifecycleQuery asks for the lifecycle-stage funnel. Empty filters take
// everything; dates are China calendar days, YYYY-MM-DD; as_of may also
// be an RFC 3339 time.
type LifecycleQuery struct {
	Layer  fundbridge.Layer  `json:"layer,omitempty"`
	Sector fundbridge.Sector `json:"sector,omitempty"`
	City   fundbridge.City   `json:"city,omitempty"`
	Period string            `json:"period,omitempty"` // month, quarter, year or "" for none
	From   string            `json:"from,omitempty"`   // first day counted
	To     string            `json:"to,omitempty"`     // last day counted
	AsOf   string            `json:"as_of,omitempty"`  // count only what was recorded by the end of this day
	After  uint64            `json:"after,omitempty"`
}

// query validates q, naming every bad field.
func (q LifecycleQuery) query() (lifecycle.Query, error) {
	var fields []fundbridge.FieldError
	bad := func(err error) {
		fields = append(fields, fundbridge.ErrorFields(err)...)
	}
	out := lifecycle.Query{Layer: q.Layer, Sector: q.Sector, City: q.City}
	if q.Layer != "" && !q.Layer.Valid() {
		fields = append(fields, fundbridge.FieldError{Field: "layer", Reason: fundbridge.EnumError(q.Layer, fundbridge.Layers)})
	}
	if q.Sector != "" {
		switch {
		case !q.Sector.Valid():
			fields = append(fields, fundbridge.FieldError{Field: "sector", Reason: fundbridge.EnumError(q.Sector, fundbridge.AllSectors())})
		case q.Layer != "" && q.Layer.Valid() && q.Sector.Layer() != q.Layer:
			fields = append(fields, fundbridge.FieldError{Field: "sector", Reason: "is not a sector of layer " + string(q.Layer)})
		}
	}
	if q.City != "" && !q.City.Valid() {
		fields = append(fields, fundbridge.FieldError{Field: "city", Reason: fundbridge.EnumError(q.City, fundbridge.Cities)})
	}
	var err error
	if out.Period, err = projections.ParseGranularity("period", q.Period); err != nil {
		bad(err)
	}
	if q.From != "" {
		if out.From, err = projections.ParseDate("from", q.From); err != nil {
			bad(err)
		}
	}
	if q.To != "" {
		if out.To, err = projections.ParseDate("to", q.To); err != nil {
			bad(err)
		} else {
			out.To = out.To.Add(24 * time.Hour) // the whole last day
		}
	}
	if !out.From.IsZero() && !out.To.IsZero() && !out.From.Before(out.To) {
		fields = append(fields, fundbridge.FieldError{Field: "to", Reason: "is before from"})
	}
	if out.AsOf, err = projections.ParseAsOf("as_of", q.AsOf); err != nil {
		bad(err)
	}
	if len(fields) > 0 {
		return lifecycle.Query{}, fundbridge.Invalid("invalid lifecycle query", fields...)
	}
	return out, nil
}

// LifecycleResult holds a row per stage, per period when grouped.
type LifecycleResult struct {
	Items    []lifecycle.Row `json:"items"`
	Position uint64          `json:"position"` // of the log the answer reflects
}

func (s *Service) lifecycleStages(ctx context.Context, _ fundbridge.Actor, q LifecycleQuery) (any, error) {
	lq, err := q.query()
	if err != nil {
		return nil, err
	}
	if err := s.runner.WaitFor(ctx, lifecycle.Name, q.After); err != nil {
		return nil, err
	}
	position := s.runner.Position(lifecycle.Name)
	rows, err := s.lifecycle.Query(lq)
	if err != nil {
		return nil, err
	}
	if rows == nil {
		rows = []lifecycle.Row{}
	}
	return LifecycleResult{Items: rows, Position: position}, nil
}

// MarketQuery asks for the market overview.
type MarketQuery struct {
	After uint64 `json:"after,omitempty"`
}

// MarketResult holds the overview's rows: the total, then each dimension.
type MarketResult struct {
	Items    []market.Row `json:"items"`
	Position uint64       `json:"position"`
}

func (s *Service) marketOverview(ctx context.Context, _ fundbridge.Actor, q MarketQuery) (any, error) {
	if err := s.runner.WaitFor(ctx, market.Name, q.After); err != nil {
		return nil, err
	}
	position := s.runner.Position(market.Name)
	return MarketResult{Items: s.market.Overview(), Position: position}, nil
}

// TimelineQuery asks for a company's timeline; a startup may leave out
// its own company's ID.
type TimelineQuery struct {
	CompanyID string `json:"company_id,omitempty"`
	After     uint64 `json:"after,omitempty"`
}

// TimelineResult is a company's timeline, oldest first.
type TimelineResult struct {
	Company  timeline.CompanyView `json:"company"`
	Items    []timeline.EntryView `json:"items"`
	Position uint64               `json:"position"`
}

func (s *Service) companyTimeline(ctx context.Context, actor fundbridge.Actor, q TimelineQuery) (any, error) {
	if q.CompanyID == "" && actor.Role == fundbridge.RoleStartup {
		q.CompanyID = actor.OrgID
	}
	if q.CompanyID == "" {
		return nil, fundbridge.Invalid("no company", fundbridge.FieldError{Field: "company_id", Reason: "required"})
	}
	notFound := fundbridge.Errorf(fundbridge.ENOTFOUND, "no company %s", q.CompanyID)
	if actor.Role == fundbridge.RoleStartup && actor.OrgID != q.CompanyID {
		return nil, notFound // someone else's company: do not tell whether it exists
	}
	if err := s.runner.WaitFor(ctx, timeline.Name, q.After); err != nil {
		return nil, err
	}
	position := s.runner.Position(timeline.Name)
	company, entries, ok := s.timeline.Timeline(q.CompanyID)
	if !ok {
		return nil, notFound
	}
	return TimelineResult{Company: company, Items: entries, Position: position}, nil
}

// DealBoardQuery asks for a fund's deal board.
type DealBoardQuery struct {
	FundID string `json:"fund_id"`
	After  uint64 `json:"after,omitempty"`
}

// DealBoardResult is the board with the position it reflects.
type DealBoardResult struct {
	dealboard.Board
	Position uint64 `json:"position"`
}

func (s *Service) dealBoard(ctx context.Context, actor fundbridge.Actor, q DealBoardQuery) (any, error) {
	if q.FundID == "" {
		return nil, fundbridge.Invalid("no fund", fundbridge.FieldError{Field: "fund_id", Reason: "required"})
	}
	if err := s.runner.WaitFor(ctx, dealboard.Name, q.After); err != nil {
		return nil, err
	}
	position := s.runner.Position(dealboard.Name)
	notFound := fundbridge.Errorf(fundbridge.ENOTFOUND, "no fund %s", q.FundID)
	manager, ok := s.dealboard.Manager(q.FundID)
	if !ok || actor.Role == fundbridge.RoleFundManager && (actor.OrgID == "" || actor.OrgID != manager) {
		return nil, notFound // someone else's fund: do not tell whether it exists
	}
	board, ok := s.dealboard.Board(q.FundID)
	if !ok {
		return nil, notFound
	}
	return DealBoardResult{Board: board, Position: position}, nil
}

// StatusQuery asks how the projections stand.
type StatusQuery struct{}

// StatusResult lists every projection.
type StatusResult struct {
	Items []projections.Status `json:"items"`
}

func (s *Service) status(context.Context, fundbridge.Actor, StatusQuery) (any, error) {
	return StatusResult{Items: s.runner.Status()}, nil
}
