package applications

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
)

func amount(s string) *money.Amount {
	a := money.MustParse(s)
	return &a
}

// company is the applicant as the application's decider sees it.
func company(t testing.TB, stage fundbridge.Stage) Company {
	c := companyFolds().Apply(Company{}, events.Event{Version: 1, RecordedAt: testNow()}, registered(t))
	if stage != c.Stage {
		c = companyFolds().Apply(c, events.Event{Version: 2, RecordedAt: testNow()}, applicationsapi.CompanyStageChanged{CompanyID: c.ID, From: c.Stage, To: stage})
	}
	return c
}

func seedSlice() applicationsapi.Slice {
	return applicationsapi.Slice{CompanyID: "acme", Stage: fundbridge.StageSeed, Layer: fundbridge.LayerTechnology, Sector: "computer_vision", City: "beijing"}
}

func growthSlice() applicationsapi.Slice {
	s := seedSlice()
	s.Stage = fundbridge.StageGrowth
	return s
}

func draftCmd() applicationsapi.DraftApplication {
	return applicationsapi.DraftApplication{CompanyID: "acme", AmountRequested: amount("30000000.00"),
		Instruments: []fundbridge.Instrument{fundbridge.InstrumentEquity, fundbridge.InstrumentVentureLoan},
		UseOfFunds:  "GPU cluster and two more research engineers", ValuationAsk: amount("120000000"), CreditDataConsent: true}
}

func terms() applicationsapi.ApplicationTerms { return draftCmd().Terms() }

// The lifecycle so far, as given events.
func drafted() events.Payload {
	return applicationsapi.ApplicationDrafted{ApplicationID: "app1", CompanyName: "Acme Vision", Slice: seedSlice(), ApplicationTerms: terms()}
}
func submitted() events.Payload {
	return applicationsapi.ApplicationSubmitted{ApplicationID: "app1", CompanyName: "Acme Vision", Slice: seedSlice(), ApplicationTerms: terms()}
}
func matched(funds ...string) events.Payload {
	return applicationsapi.ApplicationMatched{ApplicationID: "app1", FundIDs: funds, Slice: seedSlice()}
}
func underReview(fund string) events.Payload {
	return applicationsapi.ApplicationUnderReview{ApplicationID: "app1", FundID: fund, Slice: seedSlice()}
}
func funded(deal, fund string) events.Payload {
	return applicationsapi.ApplicationFunded{ApplicationID: "app1", DealID: deal, FundID: fund, Instrument: fundbridge.InstrumentEquity, Amount: money.MustParse("20000000"), Slice: seedSlice()}
}

// histories lists a given history for every status.
func histories() map[applicationsapi.Status][]events.Payload {
	return map[applicationsapi.Status][]events.Payload{
		applicationsapi.StatusDraft:       {drafted()},
		applicationsapi.StatusSubmitted:   {drafted(), submitted()},
		applicationsapi.StatusMatched:     {drafted(), submitted(), matched("f1", "f2")},
		applicationsapi.StatusUnderReview: {drafted(), submitted(), matched("f1", "f2"), underReview("f1")},
		applicationsapi.StatusFunded:      {drafted(), submitted(), matched("f1", "f2"), underReview("f1"), funded("d1", "f1")},
		applicationsapi.StatusWithdrawn:   {drafted(), submitted(), applicationsapi.ApplicationWithdrawn{ApplicationID: "app1", Slice: seedSlice()}},
		applicationsapi.StatusRejected:    {drafted(), submitted(), applicationsapi.ApplicationRejected{ApplicationID: "app1", Reason: "not AI", Slice: seedSlice()}},
		applicationsapi.StatusExpired:     {drafted(), submitted(), applicationsapi.ApplicationExpired{ApplicationID: "app1", Slice: seedSlice()}},
	}
}

// lifecycle checks a move from every status: those in allowed give the
// events of want(status); the rest are conflicts naming the status.
func lifecycle(t *testing.T, allowed []applicationsapi.Status, when func(Application) ([]events.Payload, error), want func(applicationsapi.Status) []events.Payload) {
	d := applicationDecider()
	for status, given := range histories() {
		t.Run(string(status), func(t *testing.T) {
			if in(status, allowed...) {
				check(t, d, given, when, want(status))
			} else {
				check(t, d, given, when, refused{code: fundbridge.ECONFLICT, says: "is " + string(status)})
			}
		})
	}
	t.Run("unknown application", func(t *testing.T) {
		check(t, d, nil, when, refused{code: fundbridge.ENOTFOUND})
	})
}

func TestApplicationDraft(t *testing.T) {
	d := applicationDecider()
	draft := func(c Company, cmd applicationsapi.DraftApplication) func(Application) ([]events.Payload, error) {
		return validated(cmd, func(a Application, cmd applicationsapi.DraftApplication) ([]events.Payload, error) {
			return draftApplication(a, "app1", c, cmd)
		})
	}
	t.Run("drafts with the company's slice", func(t *testing.T) {
		check(t, d, nil, draft(company(t, fundbridge.StageSeed), draftCmd()), []events.Payload{drafted()})
	})
	t.Run("a draft may wait for instruments and the use of funds", func(t *testing.T) {
		cmd := applicationsapi.DraftApplication{CompanyID: "acme", AmountRequested: amount("5000000")}
		check(t, d, nil, draft(company(t, fundbridge.StageSeed), cmd), []events.Payload{applicationsapi.ApplicationDrafted{
			ApplicationID: "app1", CompanyName: "Acme Vision", Slice: seedSlice(),
			ApplicationTerms: applicationsapi.ApplicationTerms{AmountRequested: money.MustParse("5000000"), Instruments: []fundbridge.Instrument{}},
		}})
	})
	t.Run("the company must be registered", func(t *testing.T) {
		check(t, d, nil, draft(Company{}, draftCmd()), refused{code: fundbridge.EUNPROCESSABLE, says: "not registered"})
	})
	t.Run("an existing application", func(t *testing.T) {
		check(t, d, []events.Payload{drafted()}, draft(company(t, fundbridge.StageSeed), draftCmd()), refused{code: fundbridge.ECONFLICT})
	})
	bad := func(name, field, says string, edit func(*applicationsapi.DraftApplication)) {
		t.Run(name, func(t *testing.T) {
			cmd := draftCmd()
			edit(&cmd)
			check(t, d, nil, draft(company(t, fundbridge.StageSeed), cmd), refused{code: fundbridge.EINVALID, field: field, says: says})
		})
	}
	bad("amount missing", "amount_requested", "required", func(c *applicationsapi.DraftApplication) { c.AmountRequested = nil })
	bad("amount zero", "amount_requested", "greater than zero", func(c *applicationsapi.DraftApplication) { c.AmountRequested = amount("0") })
	bad("amount negative", "amount_requested", "negative", func(c *applicationsapi.DraftApplication) { c.AmountRequested = negative("5") })
	bad("amount over ¥10bn", "amount_requested", "¥10bn", func(c *applicationsapi.DraftApplication) { c.AmountRequested = amount("10000000000.01") })
	bad("unknown instrument", "instruments[1]", "", func(c *applicationsapi.DraftApplication) { c.Instruments[1] = "crypto" })
	bad("instrument twice", "instruments[1]", "twice", func(c *applicationsapi.DraftApplication) { c.Instruments[1] = fundbridge.InstrumentEquity })
	bad("use of funds too long", "use_of_funds", "at most 2000", func(c *applicationsapi.DraftApplication) { c.UseOfFunds = strings.Repeat("算", 2001) })
	bad("zero valuation", "valuation_ask", "", func(c *applicationsapi.DraftApplication) { c.ValuationAsk = amount("0") })
	bad("no company", "company_id", "required", func(c *applicationsapi.DraftApplication) { c.CompanyID = "" })
	t.Run("¥10bn exactly is allowed", func(t *testing.T) {
		cmd := draftCmd()
		cmd.AmountRequested = amount("10000000000.00")
		if err := cmd.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}

// negative is -s: no decoder reads one, but a command built in code may
// carry one, and validation still refuses it.
func negative(s string) *money.Amount {
	a := money.Zero.Sub(money.MustParse(s))
	return &a
}

func TestDecodingRefusesWhatValidationWould(t *testing.T) {
	for _, s := range []string{`"-5"`, `"100.005"`, `"1e3"`} {
		var a money.Amount
		if err := a.UnmarshalJSON([]byte(s)); err == nil {
			t.Errorf("%s decoded as %s", s, a)
		}
	}
}

func TestApplicationUpdate(t *testing.T) {
	update := func(c Company, cmd applicationsapi.UpdateApplication) func(Application) ([]events.Payload, error) {
		return validated(cmd, func(a Application, cmd applicationsapi.UpdateApplication) ([]events.Payload, error) {
			return updateApplication(a, c, cmd)
		})
	}
	upd := applicationsapi.UpdateApplication{ApplicationID: "app1", AmountRequested: amount("45000000"),
		Instruments: ptr([]fundbridge.Instrument{fundbridge.InstrumentLoanPlusEquity}), UseOfFunds: ptr("a second data centre")}
	want := terms()
	want.AmountRequested, want.Instruments, want.UseOfFunds = money.MustParse("45000000"), []fundbridge.Instrument{fundbridge.InstrumentLoanPlusEquity}, "a second data centre"
	t.Run("from each status", func(t *testing.T) {
		lifecycle(t, []applicationsapi.Status{applicationsapi.StatusDraft}, update(company(t, fundbridge.StageGrowth), upd), func(applicationsapi.Status) []events.Payload {
			// The company grew since the draft: the update records its current stage.
			return []events.Payload{applicationsapi.ApplicationUpdated{ApplicationID: "app1", Slice: growthSlice(), ApplicationTerms: want}}
		})
	})
	t.Run("null removes the valuation ask", func(t *testing.T) {
		var cmd applicationsapi.UpdateApplication
		if err := json.Unmarshal([]byte(`{"application_id": "app1", "valuation_ask": null, "credit_data_consent": false}`), &cmd); err != nil {
			t.Fatal(err)
		}
		want := terms()
		want.ValuationAsk, want.CreditDataConsent = nil, false
		check(t, applicationDecider(), []events.Payload{drafted()}, update(company(t, fundbridge.StageSeed), cmd),
			[]events.Payload{applicationsapi.ApplicationUpdated{ApplicationID: "app1", Slice: seedSlice(), ApplicationTerms: want}})
	})
	t.Run("unchanged appends nothing", func(t *testing.T) {
		same := applicationsapi.UpdateApplication{ApplicationID: "app1", AmountRequested: amount("30000000"), ValuationAsk: applicationsapi.OptionalAmount{Set: true, Value: amount("120000000.00")}}
		check(t, applicationDecider(), []events.Payload{drafted()}, update(company(t, fundbridge.StageSeed), same), []events.Payload(nil))
	})
	for _, bad := range []struct {
		field string
		cmd   applicationsapi.UpdateApplication
	}{
		{"amount_requested", applicationsapi.UpdateApplication{AmountRequested: amount("0.00")}},
		{"instruments[0]", applicationsapi.UpdateApplication{Instruments: ptr([]fundbridge.Instrument{"bond"})}},
		{"use_of_funds", applicationsapi.UpdateApplication{UseOfFunds: ptr(strings.Repeat("x", 2001))}},
		{"valuation_ask", applicationsapi.UpdateApplication{ValuationAsk: applicationsapi.OptionalAmount{Set: true, Value: negative("1")}}},
		{"application_id", applicationsapi.UpdateApplication{}},
	} {
		t.Run("invalid "+bad.field, func(t *testing.T) {
			if bad.field != "application_id" {
				bad.cmd.ApplicationID = "app1"
			}
			check(t, applicationDecider(), []events.Payload{drafted()}, update(company(t, fundbridge.StageSeed), bad.cmd), refused{code: fundbridge.EINVALID, field: bad.field})
		})
	}
}

func TestApplicationSubmit(t *testing.T) {
	submit := func(a Application) ([]events.Payload, error) {
		return submitApplication(a, company(t, fundbridge.StageSeed))
	}
	t.Run("from each status", func(t *testing.T) {
		lifecycle(t, []applicationsapi.Status{applicationsapi.StatusDraft}, submit, func(applicationsapi.Status) []events.Payload { return []events.Payload{submitted()} })
	})
	t.Run("incomplete", func(t *testing.T) {
		given := []events.Payload{applicationsapi.ApplicationDrafted{ApplicationID: "app1", CompanyName: "Acme Vision", Slice: seedSlice(),
			ApplicationTerms: applicationsapi.ApplicationTerms{AmountRequested: money.MustParse("100"), UseOfFunds: " "}}}
		check(t, applicationDecider(), given, submit, refused{code: fundbridge.EUNPROCESSABLE, field: "instruments"})
		check(t, applicationDecider(), given, submit, refused{code: fundbridge.EUNPROCESSABLE, field: "use_of_funds"})
	})
}

func TestApplicationWithdraw(t *testing.T) {
	cmd := applicationsapi.WithdrawApplication{ApplicationID: "app1", Reason: "raised elsewhere"}
	lifecycle(t, []applicationsapi.Status{applicationsapi.StatusDraft, applicationsapi.StatusSubmitted, applicationsapi.StatusMatched, applicationsapi.StatusUnderReview},
		validated(cmd, func(a Application, cmd applicationsapi.WithdrawApplication) ([]events.Payload, error) {
			return withdrawApplication(a, company(t, fundbridge.StageSeed), cmd)
		}),
		func(applicationsapi.Status) []events.Payload {
			return []events.Payload{applicationsapi.ApplicationWithdrawn{ApplicationID: "app1", Reason: "raised elsewhere", Slice: seedSlice()}}
		})
}

func TestApplicationMarkMatched(t *testing.T) {
	d := applicationDecider()
	match := func(funds ...string) func(Application) ([]events.Payload, error) {
		return validated(applicationsapi.MarkMatched{ApplicationID: "app1", FundIDs: funds}, func(a Application, cmd applicationsapi.MarkMatched) ([]events.Payload, error) {
			return markMatched(a, company(t, fundbridge.StageSeed), cmd)
		})
	}
	t.Run("from each status", func(t *testing.T) {
		lifecycle(t, []applicationsapi.Status{applicationsapi.StatusSubmitted, applicationsapi.StatusMatched, applicationsapi.StatusUnderReview}, match("f3"), func(applicationsapi.Status) []events.Payload {
			return []events.Payload{matched("f3")}
		})
	})
	t.Run("again adds only new funds", func(t *testing.T) {
		check(t, d, histories()[applicationsapi.StatusMatched], match("f2", "f3"), []events.Payload{matched("f3")})
	})
	t.Run("nothing new is a no-op", func(t *testing.T) {
		check(t, d, histories()[applicationsapi.StatusMatched], match("f2", "f1"), []events.Payload(nil))
	})
	t.Run("no funds", func(t *testing.T) {
		check(t, d, histories()[applicationsapi.StatusSubmitted], match(), refused{code: fundbridge.EINVALID, field: "fund_ids"})
	})
	t.Run("a fund twice", func(t *testing.T) {
		check(t, d, histories()[applicationsapi.StatusSubmitted], match("f1", "f1"), refused{code: fundbridge.EINVALID, field: "fund_ids[1]"})
	})
}

func TestApplicationMarkUnmatched(t *testing.T) {
	d := applicationDecider()
	unmatch := func(funds ...string) func(Application) ([]events.Payload, error) {
		return validated(applicationsapi.MarkUnmatched{ApplicationID: "app1", FundIDs: funds}, func(a Application, cmd applicationsapi.MarkUnmatched) ([]events.Payload, error) {
			return markUnmatched(a, company(t, fundbridge.StageSeed), cmd)
		})
	}
	unmatched := func(funds ...string) events.Payload {
		return applicationsapi.ApplicationUnmatched{ApplicationID: "app1", FundIDs: funds, Slice: seedSlice()}
	}
	t.Run("from each status", func(t *testing.T) {
		lifecycle(t, []applicationsapi.Status{applicationsapi.StatusSubmitted, applicationsapi.StatusMatched, applicationsapi.StatusUnderReview}, unmatch("f2"), func(s applicationsapi.Status) []events.Payload {
			if s == applicationsapi.StatusSubmitted {
				return nil // nothing was matched
			}
			return []events.Payload{unmatched("f2")}
		})
	})
	t.Run("only recorded funds are removed", func(t *testing.T) {
		check(t, d, histories()[applicationsapi.StatusMatched], unmatch("f9", "f1"), []events.Payload{unmatched("f1")})
	})
	t.Run("no funds", func(t *testing.T) {
		check(t, d, histories()[applicationsapi.StatusMatched], unmatch(), refused{code: fundbridge.EINVALID, field: "fund_ids"})
	})
	t.Run("the last fund gone sends a matched application back to submitted", func(t *testing.T) {
		a := replayed(t, append(histories()[applicationsapi.StatusMatched], unmatched("f1", "f2")))
		if a.Status != applicationsapi.StatusSubmitted || len(a.FundIDs) != 0 {
			t.Errorf("status %s, funds %v; want submitted with none", a.Status, a.FundIDs)
		}
		a = replayed(t, append(histories()[applicationsapi.StatusUnderReview], unmatched("f1", "f2")))
		if a.Status != applicationsapi.StatusUnderReview || len(a.FundIDs) != 0 || len(a.ReviewedBy) != 1 {
			t.Errorf("under review: status %s, funds %v, reviewed by %v; want under review, none, f1", a.Status, a.FundIDs, a.ReviewedBy)
		}
		a = replayed(t, append(histories()[applicationsapi.StatusMatched], unmatched("f1"), matched("f3", "f1")))
		if !slices.Equal(a.FundIDs, []string{"f2", "f3", "f1"}) {
			t.Errorf("funds %v after a removal and a new match, want f2 f3 f1", a.FundIDs)
		}
	})
}

func TestApplicationMarkUnderReview(t *testing.T) {
	d := applicationDecider()
	review := func(fund string) func(Application) ([]events.Payload, error) {
		return validated(applicationsapi.MarkUnderReview{ApplicationID: "app1", FundID: fund}, func(a Application, cmd applicationsapi.MarkUnderReview) ([]events.Payload, error) {
			return markUnderReview(a, company(t, fundbridge.StageSeed), cmd)
		})
	}
	t.Run("from each status", func(t *testing.T) {
		lifecycle(t, []applicationsapi.Status{applicationsapi.StatusMatched, applicationsapi.StatusUnderReview}, review("f2"), func(applicationsapi.Status) []events.Payload { return []events.Payload{underReview("f2")} })
	})
	t.Run("idempotent", func(t *testing.T) {
		check(t, d, histories()[applicationsapi.StatusUnderReview], review("f1"), []events.Payload(nil))
	})
	t.Run("a fund not matched", func(t *testing.T) {
		check(t, d, histories()[applicationsapi.StatusMatched], review("f9"), refused{code: fundbridge.EUNPROCESSABLE, says: "f9"})
	})
	t.Run("no fund", func(t *testing.T) {
		check(t, d, histories()[applicationsapi.StatusMatched], review(""), refused{code: fundbridge.EINVALID, field: "fund_id"})
	})
}

func TestApplicationMarkFunded(t *testing.T) {
	d := applicationDecider()
	fund := func(deal, fundID, amt string) func(Application) ([]events.Payload, error) {
		cmd := applicationsapi.MarkFunded{ApplicationID: "app1", DealID: deal, FundID: fundID, Instrument: fundbridge.InstrumentEquity, Amount: amount(amt)}
		return validated(cmd, func(a Application, cmd applicationsapi.MarkFunded) ([]events.Payload, error) {
			return markFunded(a, company(t, fundbridge.StageSeed), cmd)
		})
	}
	t.Run("from each status", func(t *testing.T) {
		lifecycle(t, []applicationsapi.Status{applicationsapi.StatusMatched, applicationsapi.StatusUnderReview, applicationsapi.StatusFunded}, fund("d2", "f2", "20000000"), func(applicationsapi.Status) []events.Payload {
			return []events.Payload{funded("d2", "f2")}
		})
	})
	t.Run("the same deal again is a no-op", func(t *testing.T) {
		check(t, d, histories()[applicationsapi.StatusFunded], fund("d1", "f1", "20000000.00"), []events.Payload(nil))
	})
	t.Run("the same deal with other terms", func(t *testing.T) {
		check(t, d, histories()[applicationsapi.StatusFunded], fund("d1", "f1", "25000000"), refused{code: fundbridge.ECONFLICT, says: "d1"})
	})
	t.Run("a fund not matched", func(t *testing.T) {
		check(t, d, histories()[applicationsapi.StatusMatched], fund("d1", "f9", "1000"), refused{code: fundbridge.EUNPROCESSABLE, says: "f9"})
	})
	t.Run("a zero amount", func(t *testing.T) {
		check(t, d, histories()[applicationsapi.StatusMatched], fund("d1", "f1", "0"), refused{code: fundbridge.EINVALID, field: "amount"})
	})
	t.Run("records the deals", func(t *testing.T) {
		a := replayed(t, append(histories()[applicationsapi.StatusFunded], funded("d2", "f2")))
		if a.Status != applicationsapi.StatusFunded || len(a.Deals) != 2 || a.Deals[1].DealID != "d2" || a.Deals[1].Amount.String() != "20000000.00" {
			t.Fatalf("state = %+v", a)
		}
	})
}

func TestApplicationReject(t *testing.T) {
	cmd := applicationsapi.RejectApplication{ApplicationID: "app1", Reason: "not an AI company"}
	reject := validated(cmd, func(a Application, cmd applicationsapi.RejectApplication) ([]events.Payload, error) {
		return rejectApplication(a, company(t, fundbridge.StageSeed), cmd)
	})
	lifecycle(t, []applicationsapi.Status{applicationsapi.StatusSubmitted, applicationsapi.StatusMatched, applicationsapi.StatusUnderReview}, reject, func(applicationsapi.Status) []events.Payload {
		return []events.Payload{applicationsapi.ApplicationRejected{ApplicationID: "app1", Reason: "not an AI company", Slice: seedSlice()}}
	})
	t.Run("a reason is required", func(t *testing.T) {
		noReason := validated(applicationsapi.RejectApplication{ApplicationID: "app1"}, func(a Application, cmd applicationsapi.RejectApplication) ([]events.Payload, error) {
			return rejectApplication(a, company(t, fundbridge.StageSeed), cmd)
		})
		check(t, applicationDecider(), histories()[applicationsapi.StatusSubmitted], noReason, refused{code: fundbridge.EINVALID, field: "reason"})
	})
}

func TestApplicationExpire(t *testing.T) {
	// The company moved on since it applied: the event records where it stands now.
	lifecycle(t, []applicationsapi.Status{applicationsapi.StatusSubmitted, applicationsapi.StatusMatched}, func(a Application) ([]events.Payload, error) {
		return expireApplication(a, company(t, fundbridge.StageGrowth))
	}, func(applicationsapi.Status) []events.Payload {
		return []events.Payload{applicationsapi.ApplicationExpired{ApplicationID: "app1", Slice: growthSlice()}}
	})
}

func replayed(t *testing.T, history []events.Payload) Application {
	d := applicationDecider()
	a := d.Initial()
	for i, p := range history {
		a = d.Evolve(a, events.Event{Version: uint64(i + 1), RecordedAt: testNow()}, p)
	}
	return a
}

func TestApplicationStateFolds(t *testing.T) {
	a := replayed(t, histories()[applicationsapi.StatusUnderReview])
	var statuses []applicationsapi.Status
	for _, h := range a.History {
		statuses = append(statuses, h.Status)
	}
	if asJSON(statuses) != `["draft","submitted","matched","under_review"]` || asJSON(a.FundIDs) != `["f1","f2"]` || asJSON(a.ReviewedBy) != `["f1"]` || a.Version != 4 {
		t.Fatalf("state = %+v", a)
	}
	// A later match while under review adds the fund and keeps the status.
	b := replayed(t, append(histories()[applicationsapi.StatusUnderReview], matched("f3")))
	if b.Status != applicationsapi.StatusUnderReview || asJSON(b.FundIDs) != `["f1","f2","f3"]` || len(b.History) != 4 {
		t.Fatalf("state = %+v", b)
	}
}
