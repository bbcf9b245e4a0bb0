package app_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge/internal/app"
)

// sum adds the amounts at key in each item (strings on the wire).
func sum(t *testing.T, items []any, key string) decimal.Decimal {
	t.Helper()
	total := decimal.Zero
	for _, it := range items {
		total = total.Add(decimal.RequireFromString(it.(map[string]any)[key].(string)))
	}
	return total
}

func items(r response, key string) []any {
	list, _ := r.body[key].([]any)
	return list
}

// A whole loan plus equity deal over HTTP: banks onboarded with limits, a
// syndicate oversubscribed and scaled back, the fund's tranche, the loan
// drawn, repaid, prepaid and defaulted, and each role seeing its part.
func TestLoanPlusEquityDealOverHTTP(t *testing.T) {
	p := start(t)
	lead, leadID := p.onboard("Bank of Beijing", "bank", "credit@bob.cn")
	bankB, bankBID := p.onboard("Bank of Ningbo", "bank", "credit@nbcb.cn")
	other, otherID := p.onboard("Bank of Shanghai", "bank", "credit@bosc.cn")
	fm, fmOrg := p.onboard("Qiming", "fund_manager", "ir@qiming.cn")
	startup, companyID := p.signUp(31, "growth")

	// Banks are onboarded by an operator, each with its two limits.
	for _, id := range []string{leadID, bankBID, otherID} {
		r := p.do("POST", "/api/v1/banks", p.opToken, map[string]any{"bank_id": id, "name": "bank " + id, "credit_limit": "500000000.00", "single_borrower_limit": "50000000.00"})
		if r.status != 201 || r.body["exposure"] != "0" && r.body["exposure"] != "0.00" {
			t.Fatalf("onboard bank = %d %s", r.status, r.raw)
		}
	}
	wantProblem(t, p.do("POST", "/api/v1/banks", lead, map[string]any{"bank_id": leadID, "name": "x", "credit_limit": "1.00", "single_borrower_limit": "1.00"}), 403)
	wantProblem(t, p.do("POST", "/api/v1/banks", p.opToken, map[string]any{"bank_id": fmOrg, "name": "x", "credit_limit": "1.00", "single_borrower_limit": "1.00"}), 422, "bank_id")
	wantProblem(t, p.do("POST", "/api/v1/banks", p.opToken, map[string]any{"bank_id": otherID, "name": "x", "credit_limit": "1.00", "single_borrower_limit": "2.00"}), 400, "single_borrower_limit")
	prog := map[string]any{"name": "科技贷", "stages": []string{"growth", "expansion"}, "loan_min": "1000000.00", "loan_max": "50000000.00", "max_months": 60, "requires_equity_partner": true}
	if r := p.do("PUT", "/api/v1/banks/"+leadID+"/programmes/tech-loan", lead, prog); r.status != 200 || len(items(r, "programmes")) != 1 {
		t.Fatalf("publish programme = %d %s", r.status, r.raw)
	}
	wantProblem(t, p.do("PUT", "/api/v1/banks/"+leadID+"/programmes/tech-loan", bankB, prog), 404)

	// The fund and the startup's application for a loan plus equity.
	f := p.do("POST", "/api/v1/funds", fm, map[string]any{"name": "Qiming Venture IX", "type": "vc", "committed_capital": "1000000000.00"})
	if f.status != 201 {
		t.Fatalf("fund = %d %s", f.status, f.raw)
	}
	fundID := f.body["fund_id"].(string)
	a := p.do("POST", "/api/v1/applications", startup, map[string]any{"amount_requested": "50000000.00", "instruments": []string{"loan_plus_equity"},
		"use_of_funds": "GPU cluster", "credit_data_consent": true})
	if a.status != 201 {
		t.Fatalf("application = %d %s", a.status, a.raw)
	}
	appID := a.body["application_id"].(string)

	today := time.Now().UTC()
	deal := map[string]any{
		"borrower_id": companyID, "application_id": appID, "lead_bank_id": leadID,
		"loan":     map[string]any{"principal": "30000000.00", "annual_rate": "0.0435", "months": 36, "method": "equal_installment"},
		"equity":   map[string]any{"fund_id": fundID, "amount": "20000000.00", "pre_money": "180000000.00"},
		"sequence": "together",
		"warrant": map[string]any{"coverage": "0.10", "strike_valuation": "200000000.00", "exercise_from": today.AddDate(0, 0, -1).Format(time.DateOnly),
			"exercise_until": today.AddDate(2, 0, 0).Format(time.DateOnly), "holder_id": leadID},
		"risk_sharing":         map[string]any{"banks": "0.5", "fund": "0.2", "risk_compensation_fund": "0.2", "insurer": "0.1"},
		"syndication_deadline": today.Add(30 * 24 * time.Hour).Format(time.RFC3339),
	}

	// Bad input names the field and appends nothing.
	head, err := p.app.Store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	bad := func(path string, v any) map[string]any {
		m := map[string]any{}
		for k, x := range deal {
			m[k] = x
		}
		if path == "loan.annual_rate" {
			m["loan"] = map[string]any{"principal": "30000000.00", "annual_rate": v, "months": 36, "method": "equal_installment"}
		} else {
			m[path] = v
		}
		return m
	}
	wantProblem(t, p.do("POST", "/api/v1/loan-deals", lead, bad("loan.annual_rate", "0.30")), 400, "loan.annual_rate")
	wantProblem(t, p.do("POST", "/api/v1/loan-deals", lead, bad("loan.annual_rate", 0.0435)), 400, "loan.annual_rate")
	wantProblem(t, p.do("POST", "/api/v1/loan-deals", lead, bad("risk_sharing", map[string]any{"banks": "0.5", "fund": "0.2", "risk_compensation_fund": "0.2", "insurer": "0.2"})), 400, "risk_sharing")
	wantProblem(t, p.do("POST", "/api/v1/loan-deals", lead, bad("sequence", "whenever")), 400, "sequence")
	wantProblem(t, p.do("POST", "/api/v1/loan-deals", lead, bad("loan", map[string]any{"principal": "30000000.00", "annual_rate": "0.0435", "months": 361, "method": "balloon"})), 400, "loan.months", "loan.method")
	wantProblem(t, p.do("GET", "/api/v1/schedules/preview?principal=1000000&annual_rate=0.0435&months=0&method=equal_installment", startup, nil), 400, "months")
	if after, _ := p.app.Store.Head(context.Background()); after != head {
		t.Errorf("bad input appended: head %d → %d", head, after)
	}
	wantProblem(t, p.do("POST", "/api/v1/loan-deals", bankB, deal), 403) // a bank proposes deals it leads
	wantProblem(t, p.do("POST", "/api/v1/loan-deals", startup, deal), 403)

	// The lead proposes and invites bank B.
	r := p.do("POST", "/api/v1/loan-deals", lead, deal, "Idempotency-Key", "deal-1")
	if r.status != 201 || r.body["status"] != "syndicating" {
		t.Fatalf("propose = %d %s", r.status, r.raw)
	}
	dealID := r.body["deal_id"].(string)
	if again := p.do("POST", "/api/v1/loan-deals", lead, deal, "Idempotency-Key", "deal-1"); again.body["deal_id"] != dealID {
		t.Errorf("retried proposal = %s, want the same deal", again.raw)
	}
	wantProblem(t, p.do("POST", "/api/v1/loan-deals/"+dealID+"/commitments", bankB, map[string]any{"amount": "1.00"}), 404) // not invited yet
	if r := p.do("POST", "/api/v1/loan-deals/"+dealID+"/invitations", lead, map[string]any{"bank_id": bankBID}); r.status != 200 || len(items(r, "banks")) != 2 {
		t.Fatalf("invite = %d %s", r.status, r.raw)
	}
	wantProblem(t, p.do("POST", "/api/v1/loan-deals/"+dealID+"/invitations", bankB, map[string]any{"bank_id": otherID}), 403)

	// Another bank does not know the deal exists.
	wantProblem(t, p.do("GET", "/api/v1/loan-deals/"+dealID, other, nil), 404)
	wantProblem(t, p.do("POST", "/api/v1/loan-deals/"+dealID+"/commitments", other, map[string]any{"amount": "1000000.00"}), 404)
	wantProblem(t, p.do("POST", "/api/v1/loan-deals/"+dealID+"/commitments", bankB, map[string]any{"amount": "60000000.00"}), 422, "amount") // more than the whole loan
	wantProblem(t, p.do("POST", "/api/v1/loan-deals/"+dealID+"/commitments", bankB, map[string]any{"amount": 5}), 400, "amount")

	// Both commit; together 36,000,000.01 for a 30,000,000.00 loan: each
	// scaled back pro rata, the fen left over to the larger remainder.
	r = p.do("POST", "/api/v1/loan-deals/"+dealID+"/commitments", lead, map[string]any{"amount": "20000000.00"}, "Idempotency-Key", "lead-commits")
	if r.status != 200 || r.body["book_closed"] != false {
		t.Fatalf("lead commits = %d %s", r.status, r.raw)
	}
	committed := r.header.Get("Fundbridge-Position")
	// A retry gets the first result and reserves nothing more.
	if r := p.do("POST", "/api/v1/loan-deals/"+dealID+"/commitments", lead, map[string]any{"amount": "20000000.00"}, "Idempotency-Key", "lead-commits"); r.status != 200 {
		t.Fatalf("retried commitment = %d %s", r.status, r.raw)
	}
	if b := p.do("GET", "/api/v1/banks/"+leadID+"?after="+committed, lead, nil); b.body["exposure"] != "20000000.00" {
		t.Errorf("lead's exposure after a retried commitment = %s", b.raw)
	}
	wantProblem(t, p.do("POST", "/api/v1/loan-deals/"+dealID+"/commitments", lead, map[string]any{"amount": "20000000.00"}), 409)
	// Above bank B's single-borrower limit: refused, nothing reserved;
	// the operator raises the limit and the same commitment is taken.
	if r := p.do("PUT", "/api/v1/banks/"+bankBID+"/limits", p.opToken, map[string]any{"credit_limit": "500000000.00", "single_borrower_limit": "15000000.00"}); r.status != 200 {
		t.Fatalf("lower limits = %d %s", r.status, r.raw)
	}
	wantProblem(t, p.do("POST", "/api/v1/loan-deals/"+dealID+"/commitments", bankB, map[string]any{"amount": "16000000.01"}), 422)
	if b := p.do("GET", "/api/v1/banks/"+bankBID, bankB, nil); b.body["exposure"] != "0" && b.body["exposure"] != "0.00" {
		t.Errorf("a refused commitment reserved: %s", b.raw)
	}
	wantProblem(t, p.do("PUT", "/api/v1/banks/"+bankBID+"/limits", bankB, map[string]any{"credit_limit": "500000000.00", "single_borrower_limit": "50000000.00"}), 403)
	if r := p.do("PUT", "/api/v1/banks/"+bankBID+"/limits", p.opToken, map[string]any{"credit_limit": "500000000.00", "single_borrower_limit": "50000000.00"}); r.status != 200 {
		t.Fatalf("raise limits = %d %s", r.status, r.raw)
	}
	r = p.do("POST", "/api/v1/loan-deals/"+dealID+"/commitments", bankB, map[string]any{"amount": "16000000.01"})
	if r.status != 200 || r.body["book_closed"] != true || r.body["oversubscribed"] != true {
		t.Fatalf("bank B commits = %d %s", r.status, r.raw)
	}
	pos := r.header.Get("Fundbridge-Position")
	if banks := items(r, "banks"); len(banks) != 1 || banks[0].(map[string]any)["allocated"] != "13333333.34" {
		t.Errorf("bank B sees %s, want only its own line allocated 13333333.34", r.raw)
	}
	full := p.do("GET", "/api/v1/loan-deals/"+dealID+"?after="+pos, lead, nil)
	want := map[string]string{leadID: "16666666.66", bankBID: "13333333.34"}
	for _, b := range items(full, "banks") {
		b := b.(map[string]any)
		if b["allocated"] != want[b["bank_id"].(string)] {
			t.Errorf("lead's book: %v, want allocated %s", b, want[b["bank_id"].(string)])
		}
	}
	if total := sum(t, items(full, "banks"), "allocated"); !total.Equal(decimal.RequireFromString("30000000")) {
		t.Errorf("allocations sum to %s, want exactly 30000000.00", total)
	}
	if b := p.do("GET", "/api/v1/banks/"+bankBID+"?after="+pos, bankB, nil); b.body["exposure"] != "13333333.34" {
		t.Errorf("bank B's exposure after scale-back = %s", b.raw)
	}
	wantProblem(t, p.do("GET", "/api/v1/banks/"+bankBID, lead, nil), 404)

	// The startup sees its deal without bank B's name; the fund its tranche.
	s := p.do("GET", "/api/v1/loan-deals/"+dealID, startup, nil)
	if s.status != 200 || string(s.raw) == "" || containsID(s.raw, bankBID) {
		t.Errorf("startup's deal = %d %s, must not name bank B", s.status, s.raw)
	}
	if v := p.do("GET", "/api/v1/loan-deals/"+dealID, fm, nil); v.status != 200 || len(items(v, "banks")) != 0 {
		t.Errorf("fund manager's deal = %d %s, want no book", v.status, v.raw)
	}

	// The fund's tranche closes the deal and opens the loan.
	wantProblem(t, p.do("POST", "/api/v1/loan-deals/"+dealID+"/equity", fm, map[string]any{"fund_id": fundID, "amount": "20000001.00"}), 422, "amount")
	r = p.do("POST", "/api/v1/loan-deals/"+dealID+"/equity", fm, map[string]any{"fund_id": fundID, "amount": "20000000.00"})
	if r.status != 200 || r.body["status"] != "closed" {
		t.Fatalf("equity = %d %s", r.status, r.raw)
	}
	pos = r.header.Get("Fundbridge-Position")
	if fund := p.do("GET", "/api/v1/funds/"+fundID, fm, nil); fund.body["dry_powder"] != "980000000.00" {
		t.Errorf("fund after the tranche = %s", fund.raw)
	}
	loanPath := "/api/v1/loans/" + dealID
	if l := p.do("GET", loanPath+"?after="+pos, lead, nil); l.status != 200 || l.body["status"] != "awaiting_drawdown" {
		t.Fatalf("loan = %d %s", l.status, l.raw)
	}

	// Drawn in two parts, never beyond the undrawn amount.
	if r := p.do("POST", loanPath+"/drawdowns", lead, map[string]any{"amount": "10000000.00"}); r.status != 200 || r.body["undrawn"] != "20000000.00" {
		t.Fatalf("first drawdown = %d %s", r.status, r.raw)
	}
	wantProblem(t, p.do("POST", loanPath+"/drawdowns", lead, map[string]any{"amount": "20000000.01"}), 422, "amount")
	wantProblem(t, p.do("POST", loanPath+"/drawdowns", bankB, map[string]any{"amount": "1.00"}), 403)
	r = p.do("POST", loanPath+"/drawdowns", lead, map[string]any{"amount": "20000000.00"})
	if r.status != 200 || r.body["status"] != "repaying" || len(items(r, "schedule")) != 36 {
		t.Fatalf("second drawdown = %d %s", r.status, r.raw)
	}
	first := items(r, "schedule")[0].(map[string]any)
	// 30,000,000.00 at 4.35% over 36 months: interest 108,750.00 in period 1.
	if first["interest"] != "108750.00" {
		t.Errorf("first period = %v", first)
	}

	// The startup repays the first installment; it is split to the banks.
	r = p.do("POST", loanPath+"/repayments", startup, map[string]any{"amount": first["payment"]})
	if r.status != 200 {
		t.Fatalf("repay = %d %s", r.status, r.raw)
	}
	if containsID(r.raw, bankBID) {
		t.Errorf("the startup's loan names bank B: %s", r.raw)
	}
	pos = r.header.Get("Fundbridge-Position")
	l := p.do("GET", loanPath+"?after="+pos, lead, nil)
	banks := items(l, "banks")
	if got := sum(t, banks, "principal_repaid"); !got.Equal(decimal.RequireFromString(first["principal"].(string))) {
		t.Errorf("banks' principal repaid %s, want the period's %s", got, first["principal"])
	}
	if got := sum(t, banks, "interest_paid"); !got.Equal(decimal.RequireFromString("108750")) {
		t.Errorf("banks' interest %s, want 108750.00", got)
	}
	if got := sum(t, banks, "outstanding"); !got.Equal(decimal.RequireFromString(l.body["outstanding"].(string))) {
		t.Errorf("banks' outstanding %s ≠ the loan's %s", got, l.body["outstanding"])
	}
	mine := p.do("GET", loanPath, bankB, nil)
	if len(items(mine, "banks")) != 1 || containsID(mine.raw, leadID) && items(mine, "banks")[0].(map[string]any)["bank_id"] != bankBID {
		t.Errorf("bank B's loan = %s, want its own line only", mine.raw)
	}
	wantProblem(t, p.do("GET", loanPath, other, nil), 404)
	wantProblem(t, p.do("POST", loanPath+"/repayments", other, map[string]any{"amount": "1.00"}), 404)

	// Early repayment of 5,000,000.00: outstanding falls, the schedule is recomputed.
	before := decimal.RequireFromString(l.body["outstanding"].(string))
	r = p.do("POST", loanPath+"/early-repayments", startup, map[string]any{"amount": "5000000.00"})
	if r.status != 200 {
		t.Fatalf("early repayment = %d %s", r.status, r.raw)
	}
	after := decimal.RequireFromString(r.body["outstanding"].(string))
	if !after.LessThan(before) || before.Sub(after).GreaterThan(decimal.RequireFromString("5000000")) {
		t.Errorf("outstanding %s → %s after prepaying 5,000,000.00", before, after)
	}

	// The warrant, exercised by its holder within the window.
	if r := p.do("POST", loanPath+"/warrant/exercise", lead, map[string]any{}); r.status != 200 || r.body["warrant_exercised"] == nil {
		t.Errorf("exercise = %d %s", r.status, r.raw)
	}
	wantProblem(t, p.do("POST", loanPath+"/warrant/exercise", bankB, map[string]any{}), 403)

	// Default: the loss allocated by the risk-sharing table.
	wantProblem(t, p.do("POST", loanPath+"/default", bankB, map[string]any{"reason": "missed payments"}), 403)
	wantProblem(t, p.do("POST", loanPath+"/default", lead, map[string]any{}), 400, "reason")
	r = p.do("POST", loanPath+"/default", lead, map[string]any{"reason": "the borrower stopped paying"})
	if r.status != 200 || r.body["status"] != "defaulted" {
		t.Fatalf("default = %d %s", r.status, r.raw)
	}
	def := r.body["default"].(map[string]any)
	alloc := def["allocation"].(map[string]any)
	loss := decimal.RequireFromString(def["loss"].(string))
	var allocated decimal.Decimal
	for _, k := range []string{"banks", "fund", "risk_compensation_fund", "insurer"} {
		allocated = allocated.Add(decimal.RequireFromString(alloc[k].(string)))
	}
	if !allocated.Equal(loss) || !decimal.RequireFromString(alloc["banks"].(string)).Equal(loss.Div(decimal.NewFromInt(2)).Round(2)) {
		t.Errorf("allocation %v of loss %s", alloc, loss)
	}
	if got := sum(t, def["bank_losses"].([]any), "amount"); !got.Equal(decimal.RequireFromString(alloc["banks"].(string))) {
		t.Errorf("bank losses sum to %s, want the banks' share %s", got, alloc["banks"])
	}
	wantProblem(t, p.do("POST", loanPath+"/repayments", startup, map[string]any{"amount": "1.00"}), 409)
	pos = r.header.Get("Fundbridge-Position")
	// After the default, each role sees its part of the loss: bank B its
	// own line with its loss, the startup no bank's name, the fund the
	// loan without the banks and the loss split without each bank's, the
	// operator the whole book.
	if mine := p.do("GET", loanPath+"?after="+pos, bankB, nil); len(items(mine, "banks")) != 1 ||
		items(mine, "banks")[0].(map[string]any)["bank_id"] != bankBID || items(mine, "banks")[0].(map[string]any)["loss"] == "0.00" {
		t.Errorf("bank B's defaulted loan = %s, want its own line and loss", mine.raw)
	}
	if s := p.do("GET", loanPath, startup, nil); s.status != 200 || containsID(s.raw, bankBID) {
		t.Errorf("the startup's defaulted loan = %d %s", s.status, s.raw)
	}
	if v := p.do("GET", loanPath, fm, nil); v.status != 200 || len(items(v, "banks")) != 0 || containsID(v.raw, bankBID) {
		t.Errorf("the fund's view of the loan = %d %s, want it without the banks", v.status, v.raw)
	} else if d, _ := v.body["default"].(map[string]any); d == nil || len(d["bank_losses"].([]any)) != 0 ||
		d["allocation"].(map[string]any)["fund"] != alloc["fund"] {
		t.Errorf("the fund's view of the default = %v, want the split with the fund's %s and no bank's loss", v.body["default"], alloc["fund"])
	}
	// The fund lists the loan it reads, as it reads it: a list and a read
	// of one loan agree.
	if l := p.do("GET", "/api/v1/loans", fm, nil); l.status != 200 || len(items(l, "items")) != 1 || containsID(l.raw, bankBID) {
		t.Errorf("the fund's loans = %d %s, want the one loan it reads, without the banks", l.status, l.raw)
	} else if one := items(l, "items")[0].(map[string]any); one["loan_id"] != dealID || len(one["banks"].([]any)) != 0 {
		t.Errorf("the fund's listed loan = %v, want loan %s without the banks", one, dealID)
	} else if d, _ := one["default"].(map[string]any); d == nil || len(d["bank_losses"].([]any)) != 0 {
		t.Errorf("the fund's listed loan's default = %v, want the split without each bank's loss", one["default"])
	}
	if v := p.do("GET", "/api/v1/loan-deals/"+dealID, p.opToken, nil); len(items(v, "banks")) != 2 {
		t.Errorf("the operator's deal = %s, want the whole book", v.raw)
	}
	book := p.do("GET", "/api/v1/banks/"+bankBID+"/book?after="+pos, bankB, nil)
	if book.status != 200 || book.body["exposure"] != "0" && book.body["exposure"] != "0.00" || book.body["losses"] == "0" {
		t.Errorf("bank B's book after default = %d %s", book.status, book.raw)
	}
	if l := p.do("GET", "/api/v1/loans", bankB, nil); len(items(l, "items")) != 1 {
		t.Errorf("bank B's loans = %s", l.raw)
	}
	if l := p.do("GET", "/api/v1/loan-deals", other, nil); l.status != 200 || len(items(l, "items")) != 0 {
		t.Errorf("another bank's deals = %d %s", l.status, l.raw)
	}
	processesAllowed(t, p)
}

// processesAllowed checks that the deals service's process managers ran
// under their NATS permissions: nothing refused, nothing failing to open.
func processesAllowed(t *testing.T, p *product) {
	t.Helper()
	p.rec.mu.Lock()
	logs := p.rec.logs.String()
	p.rec.mu.Unlock()
	for _, line := range strings.Split(logs, "\n") {
		for _, bad := range []string{"NATS refused", "Permissions Violation", "process manager not open", "process manager stopped"} {
			if strings.Contains(line, bad) {
				t.Errorf("log: %s", line)
			}
		}
	}
}

func containsID(raw []byte, id string) bool {
	return len(id) > 0 && strings.Contains(string(raw), `"`+id+`"`)
}

// The schedule preview gives the figures anyone can check by hand.
func TestSchedulePreviewOverHTTP(t *testing.T) {
	p := start(t)
	startup, _ := p.signUp(41, "seed")
	r := p.do("GET", "/api/v1/schedules/preview?principal=1000000.00&annual_rate=0.0435&months=36&method=equal_installment", startup, nil)
	if r.status != 200 {
		t.Fatalf("preview = %d %s", r.status, r.raw)
	}
	periods := items(r, "periods")
	first, last := periods[0].(map[string]any), periods[len(periods)-1].(map[string]any)
	if len(periods) != 36 || first["payment"] != "29679.93" || first["interest"] != "3625.00" || last["payment"] != "29680.10" ||
		last["balance"] != "0.00" || r.body["total_interest"] != "68477.65" {
		t.Errorf("preview: %d periods, first %v, last %v, total interest %v", len(periods), first, last, r.body["total_interest"])
	}
	wantProblem(t, p.do("GET", "/api/v1/schedules/preview?principal=1000000.00&annual_rate=0.0435&months=36&method=equal_installment", "", nil), 401)
	wantProblem(t, p.do("GET", "/api/v1/schedules/preview?principal=-1&annual_rate=4.35%25&months=x&method=balloon&interest_only_months=40", startup, nil), 400,
		"principal", "annual_rate", "months", "method")
}

// A deal still open at its syndication deadline expires by itself (the
// deadline is the syndication process's durable timer, not a command):
// the committed bank's exposure and the fund's tranche are given back,
// and no one can commit any more; each role sees the expiry as before.
func TestLoanDealExpiresAtItsDeadlineOverHTTP(t *testing.T) {
	p := start(t)
	lead, leadID := p.onboard("Bank of Hangzhou", "bank", "credit@hzbank.cn")
	bankB, bankBID := p.onboard("Bank of Jiangsu", "bank", "credit@jsbchina.cn")
	other, _ := p.onboard("Bank of Suzhou", "bank", "credit@bosc.cn")
	fm, _ := p.onboard("Hillhouse", "fund_manager", "ir@hillhouse.cn")
	startup, companyID := p.signUp(32, "growth")
	for _, id := range []string{leadID, bankBID} {
		if r := p.do("POST", "/api/v1/banks", p.opToken, map[string]any{"bank_id": id, "name": "bank " + id, "credit_limit": "500000000.00", "single_borrower_limit": "50000000.00"}); r.status != 201 {
			t.Fatalf("onboard bank = %d %s", r.status, r.raw)
		}
	}
	f := p.do("POST", "/api/v1/funds", fm, map[string]any{"name": "Hillhouse Growth", "type": "vc", "committed_capital": "100000000.00"})
	if f.status != 201 {
		t.Fatalf("fund = %d %s", f.status, f.raw)
	}
	fundID := f.body["fund_id"].(string)
	a := p.do("POST", "/api/v1/applications", startup, map[string]any{"amount_requested": "30000000.00", "instruments": []string{"loan_plus_equity"},
		"use_of_funds": "robot arms", "credit_data_consent": true})
	if a.status != 201 {
		t.Fatalf("application = %d %s", a.status, a.raw)
	}
	deadline := time.Now().UTC().Add(6 * time.Second).Truncate(time.Second).Add(time.Second)
	proposal := func(edit func(map[string]any)) map[string]any {
		b := map[string]any{
			"borrower_id": companyID, "application_id": a.body["application_id"], "lead_bank_id": leadID,
			"loan":                 map[string]any{"principal": "20000000.00", "annual_rate": "0.04", "months": 24, "method": "equal_principal"},
			"equity":               map[string]any{"fund_id": fundID, "amount": "5000000.00", "pre_money": "95000000.00"},
			"sequence":             "together",
			"risk_sharing":         map[string]any{"banks": "0.6", "fund": "0.2", "risk_compensation_fund": "0.1", "insurer": "0.1"},
			"syndication_deadline": deadline.Format(time.RFC3339),
		}
		if edit != nil {
			edit(b)
		}
		return b
	}
	// Parties the proposal names must exist: the warrant's holder (a bank
	// or the equity fund) and the insurer that bears a share.
	for field, edit := range map[string]func(map[string]any){
		"warrant.holder_id": func(b map[string]any) {
			b["warrant"] = map[string]any{"coverage": "0.1", "strike_valuation": "100000000.00", "exercise_from": "2027-01-01", "exercise_until": "2027-06-30", "holder_id": "no-such-org"}
		},
		"risk_sharing.insurer_id": func(b map[string]any) { b["risk_sharing"].(map[string]any)["insurer_id"] = "no-such-insurer" },
	} {
		if r := p.do("POST", "/api/v1/loan-deals", lead, proposal(edit)); r.status != 422 || !strings.Contains(string(r.raw), `"field":"`+field+`"`) {
			t.Errorf("a proposal naming an unknown party in %s = %d %s, want 422 naming the field", field, r.status, r.raw)
		}
	}
	r := p.do("POST", "/api/v1/loan-deals", lead, proposal(func(b map[string]any) {
		b["warrant"] = map[string]any{"coverage": "0.1", "strike_valuation": "100000000.00", "exercise_from": "2027-01-01", "exercise_until": "2027-06-30", "holder_id": fundID}
	}))
	if r.status != 201 {
		t.Fatalf("propose = %d %s", r.status, r.raw)
	}
	dealID := r.body["deal_id"].(string)
	path := "/api/v1/loan-deals/" + dealID
	if r := p.do("POST", path+"/invitations", lead, map[string]any{"bank_id": bankBID}); r.status != 200 {
		t.Fatalf("invite = %d %s", r.status, r.raw)
	}
	if r := p.do("POST", path+"/commitments", bankB, map[string]any{"amount": "7000000.00"}); r.status != 200 {
		t.Fatalf("commit = %d %s", r.status, r.raw)
	}
	eq := p.do("POST", path+"/equity", fm, map[string]any{"fund_id": fundID, "amount": "5000000.00"})
	if eq.status != 200 || eq.body["status"] != "syndicating" {
		t.Fatalf("equity = %d %s", eq.status, eq.raw)
	}
	if fund := p.do("GET", "/api/v1/funds/"+fundID+"?after="+eq.header.Get("Fundbridge-Position"), fm, nil); fund.body["dry_powder"] != "95000000.00" {
		t.Errorf("fund with the tranche committed = %s", fund.raw)
	}

	// Nobody sends anything: the deadline passes and the deal expires.
	var d response
	for until := time.Now().Add(20 * time.Second); time.Now().Before(until); time.Sleep(100 * time.Millisecond) {
		if d = p.do("GET", path, lead, nil); d.body["status"] == "expired" {
			break
		}
	}
	if d.body["status"] != "expired" {
		t.Fatalf("deal after its deadline = %s", d.raw)
	}
	// Releases follow the expiry: wait for them, then check each party.
	var b response
	for until := time.Now().Add(10 * time.Second); time.Now().Before(until); time.Sleep(100 * time.Millisecond) {
		b = p.do("GET", "/api/v1/banks/"+bankBID, bankB, nil)
		fund := p.do("GET", "/api/v1/funds/"+fundID, fm, nil)
		if (b.body["exposure"] == "0" || b.body["exposure"] == "0.00") && fund.body["dry_powder"] == "100000000.00" {
			break
		}
	}
	if b.body["exposure"] != "0" && b.body["exposure"] != "0.00" {
		t.Errorf("bank B after the expiry = %s, want no exposure", b.raw)
	}
	if fund := p.do("GET", "/api/v1/funds/"+fundID, fm, nil); fund.body["dry_powder"] != "100000000.00" {
		t.Errorf("fund after the expiry = %s, want its tranche back", fund.raw)
	}
	wantProblem(t, p.do("POST", path+"/commitments", lead, map[string]any{"amount": "1000000.00"}), 409)
	if s := p.do("GET", path, startup, nil); s.status != 200 || s.body["status"] != "expired" || containsID(s.raw, bankBID) {
		t.Errorf("the startup's expired deal = %d %s", s.status, s.raw)
	}
	wantProblem(t, p.do("GET", path, other, nil), 404)
	// Expiring by hand stays an operator's override; a bank may not.
	wantProblem(t, p.do("POST", path+"/expire", lead, map[string]any{}), 403)
	if r := p.do("POST", path+"/expire", p.opToken, map[string]any{}); r.status != 200 || r.body["status"] != "expired" {
		t.Errorf("operator's expire of an expired deal = %d %s", r.status, r.raw)
	}
	processesAllowed(t, p)
}

// Arrears over HTTP: a loan disbursed 100 days ago (the deals service's
// clock set back while it is drawn) and never paid. With the clock back
// at today, nobody sends anything: the arrears process's durable
// deadlines record each period past due, every role sees its part of the
// arrears, and the startup's repayment of what is overdue clears them.
func TestLoanArrearsOverHTTP(t *testing.T) {
	var skew atomic.Int64
	p := startWith(t, func(o *app.Options) {
		o.Clock = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	})
	lead, leadID := p.onboard("Bank of Chengdu", "bank", "credit@bocd.cn")
	bankB, bankBID := p.onboard("Bank of Chongqing", "bank", "credit@cqcbank.cn")
	other, _ := p.onboard("Bank of Xi'an", "bank", "credit@xacbank.cn")
	fm, _ := p.onboard("Sequoia China", "fund_manager", "ir@sequoia.cn")
	startup, companyID := p.signUp(33, "expansion")
	for _, id := range []string{leadID, bankBID} {
		if r := p.do("POST", "/api/v1/banks", p.opToken, map[string]any{"bank_id": id, "name": "bank " + id, "credit_limit": "500000000.00", "single_borrower_limit": "50000000.00"}); r.status != 201 {
			t.Fatalf("onboard bank = %d %s", r.status, r.raw)
		}
	}
	f := p.do("POST", "/api/v1/funds", fm, map[string]any{"name": "Sequoia Seed", "type": "vc", "committed_capital": "100000000.00"})
	a := p.do("POST", "/api/v1/applications", startup, map[string]any{"amount_requested": "12000000.00", "instruments": []string{"loan_plus_equity"},
		"use_of_funds": "lidar production line", "credit_data_consent": true})
	if f.status != 201 || a.status != 201 {
		t.Fatalf("fund = %d %s, application = %d %s", f.status, f.raw, a.status, a.raw)
	}
	skew.Store(int64(-100 * 24 * time.Hour))
	r := p.do("POST", "/api/v1/loan-deals", lead, map[string]any{
		"borrower_id": companyID, "application_id": a.body["application_id"], "lead_bank_id": leadID,
		"loan":                 map[string]any{"principal": "10000000.00", "annual_rate": "0.0435", "months": 12, "method": "equal_installment"},
		"equity":               map[string]any{"fund_id": f.body["fund_id"], "amount": "2000000.00", "pre_money": "38000000.00"},
		"sequence":             "loan_first",
		"risk_sharing":         map[string]any{"banks": "0.7", "fund": "0.1", "risk_compensation_fund": "0.1", "insurer": "0.1"},
		"syndication_deadline": time.Now().UTC().Add(time.Hour).Format(time.RFC3339),
	})
	if r.status != 201 {
		t.Fatalf("propose = %d %s", r.status, r.raw)
	}
	dealID := r.body["deal_id"].(string)
	path, loanPath := "/api/v1/loan-deals/"+dealID, "/api/v1/loans/"+dealID
	for _, step := range []struct {
		token, suffix string
		body          map[string]any
	}{
		{lead, "/invitations", map[string]any{"bank_id": bankBID}},
		{lead, "/commitments", map[string]any{"amount": "6000000.00"}},
		{bankB, "/commitments", map[string]any{"amount": "4000000.00"}},
		{fm, "/equity", map[string]any{"fund_id": f.body["fund_id"], "amount": "2000000.00"}},
	} {
		if r := p.do("POST", path+step.suffix, step.token, step.body); r.status != 200 {
			t.Fatalf("%s = %d %s", step.suffix, r.status, r.raw)
		}
	}
	if r := p.do("POST", loanPath+"/drawdowns", lead, map[string]any{"amount": "10000000.00"}); r.status != 200 || r.body["status"] != "repaying" {
		t.Fatalf("drawdown = %d %s", r.status, r.raw)
	}
	skew.Store(0)

	// Three periods fell due in the 100 days; the deadlines record them.
	var l response
	for until := time.Now().Add(20 * time.Second); time.Now().Before(until); time.Sleep(100 * time.Millisecond) {
		l = p.do("GET", loanPath, lead, nil)
		overdue := 0
		for _, in := range items(l, "schedule") {
			if in.(map[string]any)["overdue"] == true {
				overdue++
			}
		}
		if overdue == 3 {
			break
		}
	}
	days, _ := l.body["days_past_due"].(float64)
	arrears := decimal.RequireFromString(l.body["arrears"].(string))
	if days < 60 || !arrears.IsPositive() {
		t.Fatalf("the lead's loan after 100 days unpaid: %v days past due, arrears %s: %s", days, arrears, l.raw)
	}
	owed := decimal.Zero
	for _, in := range items(l, "schedule")[:3] {
		in := in.(map[string]any)
		if in["overdue"] != true {
			t.Errorf("period %v not overdue", in["period"])
		}
		owed = owed.Add(decimal.RequireFromString(in["payment"].(string)))
	}
	if !owed.Equal(arrears) {
		t.Errorf("arrears %s, want the three periods' payments %s", arrears, owed)
	}
	// Each role sees its part: bank B its own line and its share of the
	// arrears in its book; the startup its arrears without the banks'
	// names; another bank nothing.
	book := p.do("GET", "/api/v1/banks/"+bankBID+"/book", bankB, nil)
	if book.status != 200 || len(items(book, "arrears")) == 0 {
		t.Errorf("bank B's book = %d %s, want its arrears", book.status, book.raw)
	}
	if mine := p.do("GET", loanPath, bankB, nil); len(items(mine, "banks")) != 1 || mine.body["arrears"] != l.body["arrears"] {
		t.Errorf("bank B's loan = %s", mine.raw)
	}
	s := p.do("GET", loanPath, startup, nil)
	if s.body["arrears"] != l.body["arrears"] || containsID(s.raw, bankBID) {
		t.Errorf("the startup's loan = %s", s.raw)
	}
	wantProblem(t, p.do("GET", loanPath, other, nil), 404)
	wantProblem(t, p.do("POST", loanPath+"/arrears", lead, map[string]any{}), 403) // the override is the operator's

	// Paying what is overdue clears the arrears.
	r = p.do("POST", loanPath+"/repayments", startup, map[string]any{"amount": arrears.StringFixed(2)})
	if r.status != 200 || r.body["arrears"] != "0.00" && r.body["arrears"] != "0" || r.body["days_past_due"] != float64(0) {
		t.Errorf("after repaying the arrears = %d %s", r.status, r.raw)
	}
	processesAllowed(t, p)
}
