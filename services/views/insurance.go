package views

import (
	"context"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/projections/insurancebook"
	"github.com/fundbridge/fundbridge/services/svc"
	"github.com/fundbridge/fundbridge/services/views/viewsapi"
)

func (s *Service) insurerBook(ctx context.Context, req *svc.Request, q viewsapi.InsurerBookQuery) (svc.Result[viewsapi.InsurerBookResult], error) {
	notFound := fundbridge.Errorf(fundbridge.ENOTFOUND, "no insurer %s", q.InsurerID)
	if req.Actor.Role == fundbridge.RoleInsurer && req.Actor.OrgID != q.InsurerID {
		return svc.Result[viewsapi.InsurerBookResult]{}, notFound // another insurer's book: do not tell whether it exists
	}
	if err := s.runner.WaitFor(ctx, insurancebook.Name, q.After); err != nil {
		return svc.Result[viewsapi.InsurerBookResult]{}, err
	}
	position := s.runner.Position(insurancebook.Name)
	asOf, err := projections.ParseAsOf("as_of", q.AsOf)
	if err != nil {
		return svc.Result[viewsapi.InsurerBookResult]{}, err
	}
	books, err := viewAsOf(ctx, s, s.insurancebook, insurancebook.New, asOf)
	if err != nil {
		return svc.Result[viewsapi.InsurerBookResult]{}, err
	}
	total, byCoverage, ok := books.Book(q.InsurerID)
	if !ok {
		return svc.Result[viewsapi.InsurerBookResult]{}, notFound
	}
	out := viewsapi.InsurerBookResult{InsurerID: q.InsurerID, Total: insurerFigures("total", total),
		Items: make([]viewsapi.InsurerFigures, len(byCoverage)), Position: position}
	for i, c := range byCoverage {
		out.Items[i] = insurerFigures(c.Coverage, c.Figures)
	}
	return svc.Result[viewsapi.InsurerBookResult]{Value: out}, nil
}

func insurerFigures(coverage string, f insurancebook.Figures) viewsapi.InsurerFigures {
	written, paid := f.PremiumWritten.Amount(), f.ClaimsPaid.Amount()
	return viewsapi.InsurerFigures{
		Coverage: coverage, Requests: f.Requests, Declined: f.Declined, Quotes: f.Quotes,
		QuotesOpen: f.QuotesOpen, QuotedOpen: f.QuotedOpen.Amount(),
		Bound: f.Bound, AwaitingPremium: f.AwaitingPremium, InForce: f.InForce, SumInsured: f.SumInsured.Amount(),
		PremiumWritten: written, PremiumReceived: f.PremiumReceived.Amount(), Refunded: f.Refunded.Amount(),
		ClaimsFiled: f.ClaimsFiled, ClaimsOpen: f.ClaimsOpen, ClaimsDenied: f.ClaimsDenied, ClaimsPaid: paid,
		LossRatio: projections.AmountRatio(paid, written),
	}
}

func (s *Service) subsidyProgrammes(ctx context.Context, _ *svc.Request, q viewsapi.SubsidyProgrammesQuery) (svc.Result[viewsapi.SubsidyProgrammesResult], error) {
	if err := s.runner.WaitFor(ctx, insurancebook.Name, q.After); err != nil {
		return svc.Result[viewsapi.SubsidyProgrammesResult]{}, err
	}
	position := s.runner.Position(insurancebook.Name)
	asOf, err := projections.ParseAsOf("as_of", q.AsOf)
	if err != nil {
		return svc.Result[viewsapi.SubsidyProgrammesResult]{}, err
	}
	books, err := viewAsOf(ctx, s, s.insurancebook, insurancebook.New, asOf)
	if err != nil {
		return svc.Result[viewsapi.SubsidyProgrammesResult]{}, err
	}
	list := books.Programmes()
	out := viewsapi.SubsidyProgrammesResult{Items: make([]viewsapi.SubsidyProgrammeBudget, len(list)), Position: position}
	for i, x := range list {
		used := x.Drawn - x.Returned
		status := "open"
		if x.Closed {
			status = "closed"
		}
		out.Items[i] = viewsapi.SubsidyProgrammeBudget{
			ProgrammeID: x.ID, Name: x.Name, Sponsor: x.Sponsor, Share: x.Share, Status: status,
			Budget: x.Budget.Amount(), Drawn: x.Drawn.Amount(), Returned: x.Returned.Amount(),
			Used: used.Amount(), Left: (x.Budget - used).Amount(), UsedShare: projections.AmountRatio(used.Amount(), x.Budget.Amount()),
			Policies: x.Policies, Capped: x.Capped,
		}
	}
	return svc.Result[viewsapi.SubsidyProgrammesResult]{Value: out}, nil
}
