package matching

import (
	"strings"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
)

// The views' typed folds: one function per event type matching reads. Each
// runs under the views' lock. What the applications service must be told
// is the matchmaking process's (matchmaking.go), which asks these views.

func (v *views) registerFolds() {
	f := &v.folds
	fold := func(fn func()) error { fn(); return nil }

	projections.On(f, func(_ events.Event, p fundsapi.FundRegistered) error {
		return fold(func() { v.engine.RegisterFund(p.FundID, p.ManagerOrg, p.Name, p.Type, p.CommittedCapital) })
	})
	projections.On(f, func(_ events.Event, p fundsapi.MandateSet) error {
		return fold(func() { v.engine.SetMandate(p.FundID, p.Mandate) })
	})
	projections.On(f, func(_ events.Event, p fundsapi.CapitalCommitted) error {
		return fold(func() { v.engine.SetDryPowder(p.FundID, p.DryPowderAfter) })
	})
	projections.On(f, func(_ events.Event, p fundsapi.CapitalReleased) error {
		return fold(func() { v.engine.SetDryPowder(p.FundID, p.DryPowderAfter) })
	})
	projections.On(f, func(_ events.Event, p fundsapi.FundClosed) error {
		return fold(func() { v.engine.CloseFund(p.FundID) })
	})

	// Banks' lending programmes: matches stay in matching's views (the
	// application records fund matches only), so they make no work.
	projections.On(f, func(_ events.Event, p dealsapi.BankOnboarded) error {
		return fold(func() { v.engine.NameBank(p.BankID, p.Name) })
	})
	projections.On(f, func(_ events.Event, p dealsapi.ProgrammePublished) error {
		return fold(func() { v.engine.PublishProgramme(p.BankID, p.Programme) })
	})
	projections.On(f, func(_ events.Event, p dealsapi.ProgrammeWithdrawn) error {
		return fold(func() { v.engine.WithdrawProgramme(p.BankID, p.ProgrammeID) })
	})

	// Matching follows the company: its open applications are rematched
	// as the company is now.
	projections.On(f, func(_ events.Event, p applicationsapi.CompanyStageChanged) error {
		return fold(func() {
			v.engine.MoveCompany(p.CompanyID, func(s applicationsapi.Slice) applicationsapi.Slice {
				s.Stage = p.To
				return s
			})
		})
	})
	projections.On(f, func(_ events.Event, p applicationsapi.CompanyProfileUpdated) error {
		return fold(func() {
			v.engine.MoveCompany(p.CompanyID, func(s applicationsapi.Slice) applicationsapi.Slice {
				s.Layer, s.Sector, s.City = p.Layer, p.Sector, p.City
				return s
			})
		})
	})

	v.registerApplicationFolds()

	// Every deal event folds through the deal's own evolve.
	deal := func(e events.Event, payload any) error {
		id := strings.TrimPrefix(e.StreamID, matchingapi.DealAggregate+"-")
		before, known := v.deals[id]
		d := evolveDeal(before, e, payload)
		v.deals[id] = d
		if !known && dealExists(d) {
			v.dealsByFund[d.FundID] = append(v.dealsByFund[d.FundID], id)
			v.dealsByApp[d.ApplicationID] = append(v.dealsByApp[d.ApplicationID], id)
			v.dealsByOwner[d.CompanyID] = append(v.dealsByOwner[d.CompanyID], id)
		}
		return nil
	}
	projections.On(f, func(e events.Event, p matchingapi.DealSourced) error { return deal(e, p) })
	projections.On(f, func(e events.Event, p matchingapi.DealAdvanced) error { return deal(e, p) })
	projections.On(f, func(e events.Event, p matchingapi.DealPassed) error { return deal(e, p) })
	projections.On(f, func(e events.Event, p matchingapi.TermSheetIssued) error { return deal(e, p) })
	projections.On(f, func(e events.Event, p matchingapi.TermSheetAccepted) error { return deal(e, p) })
	projections.On(f, func(e events.Event, p matchingapi.TermSheetDeclined) error { return deal(e, p) })
	projections.On(f, func(e events.Event, p matchingapi.DealClosed) error { return deal(e, p) })
	projections.On(f, func(e events.Event, p matchingapi.DealClosingStarted) error { return deal(e, p) })
	projections.On(f, func(e events.Event, p matchingapi.DealClosingAbandoned) error { return deal(e, p) })
}

// registerApplicationFolds folds the applications' lifecycles.
// application.updated.v1 only changes a draft; the submission carries the
// terms matching uses.
func (v *views) registerApplicationFolds() {
	f := &v.folds
	projections.On(f, func(_ events.Event, p applicationsapi.ApplicationDrafted) error {
		v.app(p.ApplicationID, p.CompanyID).status = statusDraft
		return nil
	})
	projections.On(f, func(_ events.Event, p applicationsapi.ApplicationSubmitted) error {
		v.app(p.ApplicationID, p.CompanyID).status = statusSubmitted
		v.engine.OpenApplication(p)
		return nil
	})
	projections.On(f, func(_ events.Event, p applicationsapi.ApplicationMatched) error {
		a := v.app(p.ApplicationID, p.CompanyID)
		if a.status == statusSubmitted {
			a.status = statusMatched
		}
		addTo(&a.matched, p.FundIDs...)
		v.landed(p.ApplicationID, matchingapi.ChangeMatch, p.FundIDs...)
		// A review asked while the fund's match was being taken back and
		// given again may have been refused: let it be asked again.
		v.landed(p.ApplicationID, matchingapi.ChangeReview, p.FundIDs...)
		a.matchEvents++
		return nil
	})
	projections.On(f, func(_ events.Event, p applicationsapi.ApplicationUnmatched) error {
		a := v.app(p.ApplicationID, p.CompanyID)
		for _, fund := range p.FundIDs {
			delete(a.matched, fund)
		}
		v.landed(p.ApplicationID, matchingapi.ChangeUnmatch, p.FundIDs...)
		if a.status == statusMatched && len(a.matched) == 0 {
			a.status = statusSubmitted
		}
		a.matchEvents++
		return nil
	})
	projections.On(f, func(_ events.Event, p applicationsapi.ApplicationUnderReview) error {
		a := v.app(p.ApplicationID, p.CompanyID)
		a.status = statusUnderReview
		addTo(&a.reviewing, p.FundID)
		v.landed(p.ApplicationID, matchingapi.ChangeReview, p.FundID)
		return nil
	})
	projections.On(f, func(_ events.Event, p applicationsapi.ApplicationFunded) error {
		v.app(p.ApplicationID, p.CompanyID).status = statusFunded
		delete(v.planned, p.ApplicationID)
		v.engine.CloseApplication(p.ApplicationID)
		return nil
	})
	projections.On(f, func(_ events.Event, p applicationsapi.ApplicationWithdrawn) error {
		v.closeApp(p.ApplicationID, p.CompanyID, statusWithdrawn)
		return nil
	})
	projections.On(f, func(_ events.Event, p applicationsapi.ApplicationRejected) error {
		v.closeApp(p.ApplicationID, p.CompanyID, statusRejected)
		return nil
	})
	projections.On(f, func(_ events.Event, p applicationsapi.ApplicationExpired) error {
		v.closeApp(p.ApplicationID, p.CompanyID, statusExpired)
		return nil
	})
}
