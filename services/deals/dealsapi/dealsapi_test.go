package dealsapi

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
)

func fields(err error) []string {
	var out []string
	for _, f := range fundbridge.ErrorFields(err) {
		out = append(out, f.Field)
	}
	return out
}

func TestProposeDealNamesEveryBadField(t *testing.T) {
	var bad ProposeDeal
	if err := json.Unmarshal([]byte(`{
		"borrower_id": "co 1",
		"lead_bank_id": "bank/1",
		"loan": {"principal": "0", "annual_rate": "0.30", "months": 361, "method": "balloon", "interest_only_months": 400},
		"equity": {"fund_id": "", "amount": "0", "pre_money": "0.00"},
		"sequence": "later",
		"warrant": {"coverage": "1.5", "strike_valuation": "0", "exercise_from": "2027-02-30", "exercise_until": "2026-01-01", "holder_id": ""},
		"risk_sharing": {"banks": "0.5", "fund": "0.5", "risk_compensation_fund": "0.5", "insurer": "x"}
	}`), &bad); err != nil {
		t.Fatal(err)
	}
	err := bad.Validate()
	if fundbridge.ErrorCode(err) != fundbridge.EINVALID {
		t.Fatalf("%v", err)
	}
	got := fields(err)
	for _, want := range []string{"borrower_id", "application_id", "lead_bank_id", "loan.principal", "loan.annual_rate", "loan.months",
		"loan.method", "loan.interest_only_months", "equity.fund_id", "equity.amount", "equity.pre_money", "sequence",
		"warrant.coverage", "warrant.strike_valuation", "warrant.exercise_from", "warrant.holder_id", "risk_sharing.insurer", "syndication_deadline"} {
		if !slices.Contains(got, want) {
			t.Errorf("%s not named in %v", want, err)
		}
	}
	for i, f := range got {
		if slices.Contains(got[:i], f) {
			t.Errorf("%s named twice in %v", f, err)
		}
	}
}

func TestRiskSharesMustSumToExactlyOne(t *testing.T) {
	c := ProposeDeal{BorrowerID: "co-1", ApplicationID: "app-1", LeadBankID: "bank-1",
		Loan:     LoanTermsInput{Principal: money.MustParse("1000000"), AnnualRate: "0.0435", Months: 36, Method: EqualInstallment},
		Equity:   EquityInput{FundID: "fund-1", Amount: money.MustParse("5000000"), PreMoney: money.MustParse("45000000")},
		Sequence: Together, SyndicationDeadline: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC),
		RiskSharing: RiskSharingInput{Banks: "0.4", Fund: "0.2", RiskCompensationFund: "0.3", Insurer: "0.1"}}
	if err := c.Validate(); err != nil {
		t.Fatalf("a good deal refused: %v", err)
	}
	for _, shares := range [][4]string{{"0.4", "0.2", "0.3", "0.0999"}, {"0.4", "0.2", "0.3", "0.1001"}, {"1", "1", "0", "0"}} {
		c.RiskSharing = RiskSharingInput{Banks: shares[0], Fund: shares[1], RiskCompensationFund: shares[2], Insurer: shares[3]}
		if got := fields(c.Validate()); !slices.Equal(got, []string{"risk_sharing"}) {
			t.Errorf("shares %v: fields %v, want risk_sharing", shares, got)
		}
	}
	c.RiskSharing = RiskSharingInput{Banks: "1", Fund: "0", RiskCompensationFund: "0", Insurer: "0"}
	if err := c.Validate(); err != nil {
		t.Errorf("banks bearing the whole loss refused: %v", err)
	}
}

// Every event type is registered and reads back as it was written.
func TestEventsRoundTrip(t *testing.T) {
	reg := events.NewRegistry()
	Register(reg)
	for _, p := range []events.Payload{
		BankOnboarded{BankID: "b", CreditLimit: money.MustParse("1")}, BankLimitsChanged{}, ProgrammePublished{}, ProgrammeWithdrawn{},
		ExposureReserved{}, ExposureReleased{}, DealProposed{Warrant: &Warrant{}}, BankInvited{}, BankCommitted{}, BankDeclined{},
		BookClosed{}, EquityTrancheCommitted{}, DealClosed{}, DealExpired{}, LoanOpened{}, LoanDrawnDown{}, ScheduleFixed{Rules: ScheduleRules, Principal: money.MustParse("100"), AnnualRate: decimal.RequireFromString("0.05"), Months: 12, Method: EqualPrincipal},
		RepaymentReceived{}, FeeCharged{}, PeriodOverdue{}, EarlyRepaymentReceived{}, LoanRepaid{}, LoanDefaulted{}, WarrantExercised{},
	} {
		data, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		_, back, err := reg.Decode(events.Event{Type: p.EventType(), Payload: data})
		if err != nil {
			t.Errorf("%s: %v", p.EventType(), err)
			continue
		}
		again, _ := json.Marshal(back)
		if string(again) != string(data) {
			t.Errorf("%s: wrote %s, read %s", p.EventType(), data, again)
		}
	}
}

// An amount left out reads as one the person must give, not as a zero
// they chose.
func TestMissingAmountIsAskedFor(t *testing.T) {
	err := CommitToDeal{DealID: "deal-1", BankID: "bank-1"}.Validate()
	fe := fundbridge.ErrorFields(err)
	if len(fe) != 1 || fe[0].Field != "amount" || fe[0].Reason != "must be given and greater than zero" {
		t.Errorf("commitment without an amount: %v, want amount named as to be given", err)
	}
}
