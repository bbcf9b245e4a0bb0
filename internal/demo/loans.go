package demo

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/fundbridge/fundbridge"
)

// The loan plus external direct investment part of the market: banks with
// limits and lending programmes, and deals at every step: syndicating,
// oversubscribed and closed (awaiting drawdown), in repayment, prepaid in
// part, and defaulted with the loss allocated.

type bank struct {
	token string
	org   string
}

var bankNames = []string{"Bank of Beijing", "China Merchants Bank", "Bank of Ningbo", "Bank of Hangzhou", "Bank of Jiangsu", "SPD Silicon Valley Bank"}

// loanTargets are the steps the loan deals are taken to, in turn.
var loanTargets = []string{"syndicating", "closed", "repaying", "prepaid", "defaulted"}

var sequences = []string{"together", "equity_first", "loan_first"}

// banks creates the bank orgs and onboards them with their limits and a
// programme each.
func (l *loader) banks(ctx context.Context, n int) ([]*bank, error) {
	op := l.cfg.OperatorToken
	out := make([]*bank, n)
	for i := range out {
		email := fmt.Sprintf("credit%d.s%d@demo.fundbridge.cn", i, l.cfg.Seed)
		password := fmt.Sprintf("demo-bank-%d-%d", l.cfg.Seed, i)
		var org struct {
			Org struct {
				OrgID string `json:"org_id"`
			} `json:"org"`
		}
		name := bankNames[i%len(bankNames)]
		if err := l.call(ctx, "POST", "/api/v1/orgs", op, l.key("bank-org", i), map[string]any{"name": name, "role": "bank",
			"user": map[string]string{"email": email, "password": password, "name": "Credit officer " + fmt.Sprint(i)}}, &org); err != nil {
			return nil, err
		}
		tok, err := l.signIn(ctx, email, password)
		if err != nil {
			return nil, err
		}
		b := &bank{token: tok, org: org.Org.OrgID}
		credit := int64(1_000_000_000 * (1 + i%3))
		if err := l.call(ctx, "POST", "/api/v1/banks", op, l.key("bank", i), map[string]any{"bank_id": b.org, "name": name,
			"credit_limit": yuan(credit), "single_borrower_limit": yuan(credit / 10)}, nil); err != nil && !isStatus(err, http.StatusConflict) {
			return nil, err
		}
		programme := map[string]any{"name": []string{"科技贷", "投贷联动", "知识产权质押贷", "人才贷"}[i%4],
			"stages":   []fundbridge.Stage{"startup", "growth", "expansion", "pre_ipo"}[i%2:],
			"loan_min": yuan(1_000_000), "loan_max": yuan(credit / 10), "max_months": 36 + 12*(i%3), "requires_equity_partner": i%2 == 0}
		if i%3 == 1 {
			programme["layers"] = []fundbridge.Layer{fundbridge.Layers[i%len(fundbridge.Layers)]}
		}
		if err := l.call(ctx, "PUT", "/api/v1/banks/"+b.org+"/programmes/p"+fmt.Sprint(i), b.token, l.key("programme", i), programme, nil); err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

// loanDeals loads the banks and the deals. A second load finds the deals
// of the first (the lead banks' lists) and counts them instead.
func (l *loader) loanDeals(ctx context.Context, startups []*startup, funds []*fund, sum *Summary) error {
	banks, err := l.banks(ctx, 4)
	if err != nil {
		return err
	}
	sum.Banks = len(banks)
	var vc []*fund
	for _, f := range funds {
		if f.typ == "vc" || f.typ == "pe" || f.typ == "industry" {
			vc = append(vc, f)
		}
	}
	var existing struct {
		Items []struct {
			Status string `json:"status"`
		} `json:"items"`
	}
	if err := l.call(ctx, "GET", "/api/v1/loan-deals?limit=200", l.cfg.OperatorToken, "", nil, &existing); err != nil {
		return err
	}
	if len(existing.Items) > 0 || len(vc) == 0 {
		for _, d := range existing.Items {
			sum.LoanDeals[d.Status]++
		}
		return nil
	}
	n := 0
	for k, s := range startups {
		if s.stage == "seed" || n >= max(len(loanTargets), len(startups)/8) {
			continue
		}
		target := loanTargets[n%len(loanTargets)]
		lead, other := banks[n%len(banks)], banks[(n+1)%len(banks)]
		if err := l.loanDeal(ctx, k, s, vc[n%len(vc)], lead, other, target, sequences[n%len(sequences)]); err != nil {
			return fmt.Errorf("loan deal %d (%s): %w", n, target, err)
		}
		sum.LoanDeals[target]++
		n++
	}
	fmt.Fprintf(l.log, "demo: %d banks, %d loan plus equity deals\n", len(banks), n)
	return nil
}

// loanDeal applies for a loan plus equity, proposes the deal and takes it
// to target.
func (l *loader) loanDeal(ctx context.Context, k int, s *startup, f *fund, lead, other *bank, target, sequence string) error {
	principal := l.between(5_000_000, 30_000_000)
	var app struct {
		ApplicationID string `json:"application_id"`
	}
	if err := l.call(ctx, "POST", "/api/v1/applications", s.token, l.key("loan-app", k), map[string]any{"amount_requested": yuan(principal + principal/5),
		"instruments": []string{"loan_plus_equity"}, "use_of_funds": pick(l.rnd, useOfFunds), "credit_data_consent": true}, &app); err != nil {
		return err
	}
	if err := l.call(ctx, "POST", "/api/v1/applications/"+app.ApplicationID+"/submit", s.token, l.key("loan-submit", k), map[string]any{}, nil); err != nil && !isStatus(err, http.StatusConflict) {
		return err
	}
	today := time.Now().UTC()
	proposal := map[string]any{
		"borrower_id": s.companyID, "application_id": app.ApplicationID, "lead_bank_id": lead.org,
		"loan": map[string]any{"principal": yuan(principal), "annual_rate": pick(l.rnd, []string{"0.0345", "0.0385", "0.0435", "0.0480"}),
			"months": pick(l.rnd, []int{24, 36}), "method": pick(l.rnd, []string{"equal_installment", "equal_principal", "interest_only_bullet"})},
		"equity":       map[string]any{"fund_id": f.id, "amount": yuan(principal / 5), "pre_money": yuan(principal * 3)},
		"sequence":     sequence,
		"risk_sharing": map[string]any{"banks": "0.5", "fund": "0.2", "risk_compensation_fund": "0.2", "insurer": "0.1"},
		"warrant": map[string]any{"coverage": "0.10", "strike_valuation": yuan(principal * 4), "exercise_from": today.Format(time.DateOnly),
			"exercise_until": today.AddDate(3, 0, 0).Format(time.DateOnly), "holder_id": lead.org},
		"syndication_deadline": today.AddDate(0, 0, 30).Truncate(24 * time.Hour).Format(time.RFC3339),
	}
	var deal struct {
		DealID string `json:"deal_id"`
	}
	if err := l.call(ctx, "POST", "/api/v1/loan-deals", lead.token, l.key("loan-deal", k), proposal, &deal); err != nil {
		return err
	}
	path := "/api/v1/loan-deals/" + deal.DealID
	if err := l.call(ctx, "POST", path+"/invitations", lead.token, l.key("invite", deal.DealID), map[string]any{"bank_id": other.org}, nil); err != nil {
		return err
	}
	equity := func() error {
		return l.call(ctx, "POST", path+"/equity", f.mgr.token, l.key("equity", deal.DealID), map[string]any{"fund_id": f.id, "amount": yuan(principal / 5)}, nil)
	}
	if sequence == "equity_first" {
		if err := equity(); err != nil {
			return err
		}
	}
	// The lead takes 60%; the other bank 60% more: oversubscribed by a
	// fifth and scaled back. A syndicating deal has only the lead's part.
	if err := l.call(ctx, "POST", path+"/commitments", lead.token, l.key("commit-lead", deal.DealID), map[string]any{"amount": yuan(principal * 6 / 10)}, nil); err != nil {
		return err
	}
	if target == "syndicating" {
		return nil
	}
	if err := l.call(ctx, "POST", path+"/commitments", other.token, l.key("commit-other", deal.DealID), map[string]any{"amount": yuan(principal * 6 / 10)}, nil); err != nil {
		return err
	}
	if sequence != "equity_first" {
		if err := equity(); err != nil {
			return err
		}
	}
	if target == "closed" {
		return nil
	}
	loan := "/api/v1/loans/" + deal.DealID
	var drawn struct {
		Schedule []struct {
			Payment string `json:"payment"`
		} `json:"schedule"`
	}
	if err := l.call(ctx, "POST", loan+"/drawdowns", lead.token, l.key("draw", deal.DealID), map[string]any{"amount": yuan(principal)}, &drawn); err != nil {
		return err
	}
	if len(drawn.Schedule) == 0 {
		return fmt.Errorf("drawdown of loan %s fixed no schedule", deal.DealID)
	}
	if err := l.call(ctx, "POST", loan+"/repayments", s.token, l.key("repay", deal.DealID), map[string]any{"amount": drawn.Schedule[0].Payment}, nil); err != nil {
		return err
	}
	switch target {
	case "prepaid":
		return l.call(ctx, "POST", loan+"/early-repayments", s.token, l.key("prepay", deal.DealID), map[string]any{"amount": yuan(principal / 4)}, nil)
	case "defaulted":
		return l.call(ctx, "POST", loan+"/default", lead.token, l.key("default", deal.DealID), map[string]any{"reason": "the borrower lost its main customer and stopped paying"}, nil)
	}
	return nil
}
