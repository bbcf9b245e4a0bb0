package timeline

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
)

// The entries of the applications service's companies.
func (p *Projection) companyKinds() {
	on(p, func(en *draft, v applicationsapi.CompanyRegistered) (*Company, error) {
		c, _, err := p.company(v.CompanyID)
		if err != nil {
			return nil, err
		}
		if c.Stage, err = stageIndex(v.Stage); err != nil {
			return nil, err
		}
		c.Name, en.Stage = v.Name, c.Stage
		en.text = join(string(v.Layer), string(v.Sector), string(v.City), v.Name)
		return c, nil
	}, func(l *line) {
		x := pieces(l.text, 4)
		l.say("company.registered", textParam(x[3]), enumParam("layer", x[0]), enumParam("sector", x[1]), enumParam("city", x[2]),
			enumParam("stage", string(l.v.Stage)))
	})
	on(p, func(en *draft, v applicationsapi.CompanyProfileUpdated) (*Company, error) {
		c, err := p.current(en, v.CompanyID)
		if err != nil {
			return nil, err
		}
		c.Name, en.text = v.Name, v.Name
		return c, nil
	}, func(l *line) { l.say("company.profile_updated", textParam(l.text)) })
	on(p, func(en *draft, v applicationsapi.CompanyStageChanged) (*Company, error) {
		c, _, err := p.company(v.CompanyID)
		if err != nil {
			return nil, err
		}
		if c.Stage, err = stageIndex(v.To); err != nil {
			return nil, err
		}
		en.Stage, en.text = c.Stage, string(v.From)
		return c, nil
	}, func(l *line) {
		l.say("company.stage_changed", enumParam("stage", l.text), enumParam("stage", string(l.v.Stage)))
	})
	on(p, func(en *draft, v applicationsapi.PatentAdded) (*Company, error) {
		c, err := p.current(en, v.CompanyID)
		en.ref, en.text = v.Number, join(string(v.Kind), v.Title)
		return c, err
	}, func(l *line) {
		x := pieces(l.text, 2)
		l.say("company.patent_added", enumParam("patent_kind", x[0]), textParam(l.ref), textParam(x[1]))
	})
}

// slice places an application event: on its company, at the stage it
// carries.
func (p *Projection) slice(en *draft, s applicationsapi.Slice, appID string) (*Company, error) {
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

// terms places an application event with its amount and instruments.
func (p *Projection) terms(en *draft, s applicationsapi.Slice, id string, t applicationsapi.ApplicationTerms) (*Company, error) {
	mask, err := instrumentMask(t.Instruments)
	if err != nil {
		return nil, err
	}
	if err := amountOf(en, t.AmountRequested); err != nil {
		return nil, err
	}
	en.Mask = mask
	return p.slice(en, s, id)
}

func (p *Projection) applicationKinds() {
	on(p, func(en *draft, v applicationsapi.ApplicationDrafted) (*Company, error) {
		return p.terms(en, v.Slice, v.ApplicationID, v.ApplicationTerms)
	}, func(l *line) { l.say("application.drafted", l.amountParam(), instruments(l.en.Mask)) })
	on(p, func(en *draft, v applicationsapi.ApplicationUpdated) (*Company, error) {
		return p.terms(en, v.Slice, v.ApplicationID, v.ApplicationTerms)
	}, func(l *line) { l.say("application.updated", l.amountParam(), instruments(l.en.Mask)) })
	on(p, func(en *draft, v applicationsapi.ApplicationSubmitted) (*Company, error) {
		return p.terms(en, v.Slice, v.ApplicationID, v.ApplicationTerms)
	}, func(l *line) { l.say("application.submitted", l.amountParam(), instruments(l.en.Mask)) })
	on(p, func(en *draft, v applicationsapi.ApplicationMatched) (*Company, error) {
		en.text = strings.Join(v.FundIDs, ",")
		return p.slice(en, v.Slice, v.ApplicationID)
	}, func(l *line) {
		ids := strings.Split(l.text, ",")
		names := make([]string, len(ids))
		for i, id := range ids {
			names[i] = l.p.fundName(id)
		}
		l.say("application.matched", countParam(strconv.Itoa(len(ids))), listParam("text", names))
	})
	on(p, func(en *draft, v applicationsapi.ApplicationUnderReview) (*Company, error) {
		en.text = v.FundID
		return p.slice(en, v.Slice, v.ApplicationID)
	}, func(l *line) {
		l.v.FundID = l.text
		l.say("application.under_review", textParam(l.p.fundName(l.text)))
	})
	on(p, func(en *draft, v applicationsapi.ApplicationFunded) (*Company, error) {
		mask, err := instrumentMask([]fundbridge.Instrument{v.Instrument})
		if err != nil {
			return nil, err
		}
		if err := amountOf(en, v.Amount); err != nil {
			return nil, err
		}
		en.Mask, en.text = mask, v.FundID
		return p.slice(en, v.Slice, v.ApplicationID)
	}, func(l *line) {
		l.v.FundID = l.text
		l.say("application.funded", l.amountParam(), textParam(l.p.fundName(l.text)), instruments(l.en.Mask))
	})
	on(p, func(en *draft, v applicationsapi.ApplicationWithdrawn) (*Company, error) {
		en.text = v.Reason
		return p.slice(en, v.Slice, v.ApplicationID)
	}, func(l *line) { l.sayWithReason("application.withdrawn", l.text) })
	on(p, func(en *draft, v applicationsapi.ApplicationRejected) (*Company, error) {
		en.text = v.Reason
		return p.slice(en, v.Slice, v.ApplicationID)
	}, func(l *line) { l.sayWithReason("application.rejected", l.text) })
	on(p, func(en *draft, v applicationsapi.ApplicationExpired) (*Company, error) {
		return p.slice(en, v.Slice, v.ApplicationID)
	}, func(l *line) { l.say("application.expired") })
}

// deal places a screening deal's event: on the deal's company, at the
// company's current stage.
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

// The screening deals of the matching service.
func (p *Projection) dealKinds() {
	on(p, func(en *draft, v matchingapi.DealSourced) (*Company, error) {
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
		p.st.Deals = append(p.st.Deals, Deal{ID: v.DealID, Company: ci, Fund: v.FundID, Application: v.ApplicationID})
		en.ref, en.text = v.DealID, strconv.Itoa(v.Score)
		return c, nil
	}, func(l *line) { l.say("deal.sourced", textParam(l.p.fundName(l.deal.Fund)), countParam(l.text)) })
	on(p, func(en *draft, v matchingapi.DealAdvanced) (*Company, error) {
		en.text = string(v.To)
		return p.deal(en, v.DealID)
	}, func(l *line) { l.say("deal.advanced", textParam(l.p.fundName(l.deal.Fund)), enumParam("step", l.text)) })
	on(p, func(en *draft, v matchingapi.DealPassed) (*Company, error) {
		en.text = join(string(v.Step), v.Reason)
		return p.deal(en, v.DealID)
	}, func(l *line) {
		x := pieces(l.text, 2)
		l.say("deal.passed", textParam(l.p.fundName(l.deal.Fund)), enumParam("step", x[0]), textParam(x[1]))
	})
	on(p, func(en *draft, v matchingapi.TermSheetIssued) (*Company, error) {
		c, err := p.deal(en, v.DealID)
		if err != nil {
			return nil, err
		}
		if err := amountOf(en, v.Amount); err != nil {
			return nil, err
		}
		if en.Extra, err = projections.ToFen("pre-money valuation", v.PreMoney); err != nil {
			return nil, err
		}
		en.text = v.Ownership.String()
		return c, nil
	}, func(l *line) {
		l.say("deal.term_sheet_issued", textParam(l.p.fundName(l.deal.Fund)), l.amountParam(), l.extraParam(), percentParam(l.text))
	})
	on(p, func(en *draft, v matchingapi.TermSheetAccepted) (*Company, error) {
		return p.deal(en, v.DealID)
	}, func(l *line) { l.say("deal.term_sheet_accepted", textParam(l.p.fundName(l.deal.Fund))) })
	on(p, func(en *draft, v matchingapi.TermSheetDeclined) (*Company, error) {
		en.text = v.Reason
		return p.deal(en, v.DealID)
	}, func(l *line) {
		l.sayWithReason("deal.term_sheet_declined", l.text, textParam(l.p.fundName(l.deal.Fund)))
	})
	on(p, func(en *draft, v matchingapi.DealClosed) (*Company, error) {
		c, err := p.deal(en, v.DealID)
		if err != nil {
			return nil, err
		}
		en.text = v.Ownership.String()
		return c, amountOf(en, v.Amount)
	}, func(l *line) {
		l.say("deal.closed", textParam(l.p.fundName(l.deal.Fund)), l.amountParam(), percentParam(l.text))
	})
}
