package views_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections/sim"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	ins "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/views/viewsapi"
)

// TestRebuildEqualsTheLiveFold: every view answers the same after all
// projections are folded again from position 0 as it did from the live
// fold, over a history of equity, loan-plus-equity deals and insurance.
// query is one view's query.
type query struct {
	op      string
	as      fundbridge.Actor
	payload map[string]any
}

// writeBooks appends a loan-plus-equity deal in repayment with a period
// in arrears, an insurance request, quote and policy and a subsidy
// programme to f's log, and returns the position of the last with a
// query of every view that shows them.
func writeBooks(t *testing.T, f *fixture) (uint64, []query) {
	t.Helper()
	m := money.MustParse
	operator := actor("u-op", fundbridge.RoleOperator, "")
	bank := actor("u-b1", fundbridge.RoleBank, "b1")
	company := sim.CompanyID(2)
	founder := actor("u-c", fundbridge.RoleStartup, company)
	day := func(n int) time.Time {
		y, mo, d := time.Now().UTC().Add(8 * time.Hour).Date()
		return time.Date(y, mo, d+n, 0, 0, 0, 0, time.UTC)
	}
	f.appendTo(t, "bank-b1", operator, dealsapi.BankOnboarded{BankID: "b1", Name: "First", CreditLimit: m("9000000.00"), SingleBorrowerLimit: m("5000000.00")})
	f.appendTo(t, "loan_deal-d1", bank,
		dealsapi.DealProposed{DealID: "d1", BorrowerID: company, ApplicationID: "none", LeadBankID: "b1", Loan: dealsapi.LoanTerms{Principal: m("1000000.00"), Months: 2},
			Equity: dealsapi.EquityTranche{FundID: sim.FundID(0), Amount: m("500000.00")}},
		dealsapi.BankInvited{DealID: "d1", BankID: "b1"})
	f.appendTo(t, "bank-b1", bank, dealsapi.ExposureReserved{BankID: "b1", DealID: "d1", BorrowerID: company, Amount: m("1000000.00")})
	f.appendTo(t, "loan_deal-d1", bank,
		dealsapi.BankCommitted{DealID: "d1", BankID: "b1", Amount: m("1000000.00")},
		dealsapi.BookClosed{DealID: "d1", Committed: m("1000000.00"), Allocations: []dealsapi.Allocation{{BankID: "b1", Committed: m("1000000.00"), Allocated: m("1000000.00")}}},
		dealsapi.EquityTrancheCommitted{DealID: "d1", FundID: sim.FundID(0), Amount: m("500000.00")},
		dealsapi.DealClosed{DealID: "d1"})
	f.appendTo(t, "loan-d1", bank,
		dealsapi.LoanOpened{LoanID: "d1", BorrowerID: company, LeadBankID: "b1", Banks: []dealsapi.LoanBank{{BankID: "b1"}}},
		dealsapi.LoanDrawnDown{LoanID: "d1", Amount: m("1000000.00"), DrawnAfter: m("1000000.00"), Banks: []dealsapi.BankAmount{{BankID: "b1", Amount: m("1000000.00")}}},
		dealsapi.ScheduleFixed{LoanID: "d1", Principal: m("1000000.00"), Periods: []dealsapi.ScheduledPeriod{
			{Number: 1, Due: day(-3), Principal: m("500000.00"), Interest: m("3000.00")},
			{Number: 2, Due: day(27), Principal: m("500000.00"), Interest: m("1500.00")}}})
	f.appendTo(t, "insurance-r1", founder, ins.InsuranceRequested{RequestID: "r1", CompanyID: company, Stage: fundbridge.StageGrowth, City: "hefei",
		Coverage: ins.CoveragePledgeGuarantee, SumInsured: m("1000000.00"), Insurers: []string{"i1"}, LoanDealID: "d1"})
	f.appendTo(t, "insurance-r1", founder, ins.InsuranceQuoted{RequestID: "r1", QuoteID: "q1", InsurerID: "i1", Premium: m("9000.00")})
	f.appendTo(t, "subsidy-sp1", operator, ins.SubsidyProgrammeCreated{ProgrammeID: "sp1", Name: "P", Share: decimal.RequireFromString("0.3"), Budget: m("50000.00")})
	pos := f.appendTo(t, "policy-p1", founder, ins.PolicyBound{PolicyID: "p1", RequestID: "r1", CompanyID: company, InsurerID: "i1", Stage: fundbridge.StageGrowth, City: "hefei",
		Coverage: ins.CoveragePledgeGuarantee, SumInsured: m("1000000.00"), Premium: m("9000.00"), LoanDealID: "d1"})

	queries := []query{
		{"lifecycle_stages", operator, map[string]any{"period": "month"}},
		{"market_overview", operator, map[string]any{}},
		{"company_timeline", operator, map[string]any{"company_id": company}},
		{"deal_board", operator, map[string]any{"fund_id": sim.FundID(0)}},
		{"bank_book", operator, map[string]any{"bank_id": "b1"}},
		{"insurer_book", operator, map[string]any{"insurer_id": "i1"}},
		{"subsidy_programmes", operator, map[string]any{}},
	}
	return pos, queries
}

// answers asks every query, waiting for pos.
func (f *fixture) answers(t *testing.T, pos uint64, queries []query) []string {
	t.Helper()
	var out []string
	for _, q := range queries {
		q.payload["after"] = pos
		var raw json.RawMessage
		if err := f.call(t, q.as, q.op, q.payload, &raw); err != nil {
			t.Fatalf("%s: %v", q.op, err)
		}
		out = append(out, string(raw))
	}
	return out
}

func TestRebuildEqualsTheLiveFold(t *testing.T) {
	f := setUp(t)
	pos, queries := writeBooks(t, f)
	answers := func() []string { return f.answers(t, pos, queries) }
	live := answers()
	var book struct {
		Arrears []struct{ Loans int } `json:"arrears"`
		Due     string                `json:"due_next_30_days"`
	}
	_ = json.Unmarshal([]byte(live[4]), &book)
	if book.Arrears[0].Loans != 1 || book.Due != "501500.00" {
		t.Errorf("bank book %s", live[4])
	}
	// As of now, the views folded from the log up to now answer as the
	// live ones; as of 2020 nothing of it existed.
	now := time.Now().UTC().Add(time.Second).Format(time.RFC3339Nano)
	for i, q := range queries {
		q.payload["as_of"] = now
		var raw json.RawMessage
		if err := f.call(t, q.as, q.op, q.payload, &raw); err != nil {
			t.Fatalf("%s as of now: %v", q.op, err)
		}
		if string(raw) != live[i] {
			t.Errorf("%s as of now:\n%s\nlive:\n%s", q.op, raw, live[i])
		}
		q.payload["as_of"] = "2020-01-01"
		err := f.call(t, q.as, q.op, q.payload, &raw)
		switch q.op {
		case "bank_book", "insurer_book", "deal_board", "company_timeline":
			if fundbridge.ErrorCode(err) != fundbridge.ENOTFOUND {
				t.Errorf("%s as of 2020: %v %s, want not found", q.op, err, raw)
			}
		case "subsidy_programmes":
			if err != nil || !strings.Contains(string(raw), `"items":[]`) {
				t.Errorf("%s as of 2020: %v %s", q.op, err, raw)
			}
		}
		q.payload["as_of"] = "last week"
		if err := f.call(t, q.as, q.op, q.payload, nil); fundbridge.ErrorCode(err) != fundbridge.EINVALID {
			t.Errorf("%s as of last week: %v, want invalid", q.op, err)
		}
		delete(q.payload, "as_of")
	}
	if err := f.svc.Rebuild(context.Background(), "", nil); err != nil {
		t.Fatal(err)
	}
	for i, again := range answers() {
		if again != live[i] {
			t.Errorf("%s after a rebuild:\n%s\nlive:\n%s", queries[i].op, again, live[i])
		}
	}
}

// TestRestartResumesFromSnapshots: stopped, the service saves every
// projection with its checkpoint; started again on the same directory it
// restores them (not folding from 0) and answers every view as before.
func TestRestartResumesFromSnapshots(t *testing.T) {
	env := testenv.Start(t, registry())
	if _, err := sim.Write(context.Background(), env.Store, sim.Config{Seed: 12, Companies: 6, Funds: 3}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f := serve(t, env, dir)
	pos, queries := writeBooks(t, f)
	before := f.answers(t, pos, queries)
	f.stop()

	g := serve(t, env, dir)
	after := g.answers(t, pos, queries)
	// The service answers before every snapshot is loaded (a query waits
	// for its own view): look at the status until all are.
	var st viewsapi.StatusResult
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if err := g.call(t, actor("u-op", fundbridge.RoleOperator, ""), "status", nil, &st); err != nil {
			t.Fatal(err)
		}
		restored := 0
		for _, s := range st.Items {
			if s.RestoredFrom >= pos {
				restored++
			}
		}
		if restored == len(st.Items) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not every projection restored from its snapshot at %d: %+v", pos, st.Items)
		}
	}
	for i, again := range after {
		if again != before[i] {
			t.Errorf("%s after a restart:\n%s\nbefore:\n%s", queries[i].op, again, before[i])
		}
	}
}
