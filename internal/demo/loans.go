package demo

import (
	"context"
	"fmt"
	"net/http"
	"slices"
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

// loanTargets are the steps the loan deals are taken to, in turn. On a
// simulated history (Config.Clock) the loans also live through the
// months: most are paid on time, some stop paying and are in arrears, one
// defaults after three months unpaid, and one syndication runs out of
// time and expires.
var loanTargets = []string{"syndicating", "closed", "repaying", "prepaid", "defaulted"}

// On a simulated history a syndication that ran out of time joins the
// targets, and one loan in arrears per plan follows them.
const expiredTarget, arrearsTarget = "expired", "arrears"

// arrearsPlans spread the loans in arrears over the bank book's buckets:
// the periods paid before payments stopped, and how many days before
// today the first unpaid period fell due.
var arrearsPlans = []struct{ paid, daysPastDue int }{{3, 12}, {2, 45}, {1, 75}, {0, 130}}

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

// loanDeals loads the banks and plans the deals on the timeline. A second
// load finds the deals of the first (the lead banks' lists) and counts
// them instead.
func (l *loader) loanDeals(ctx context.Context, tl *timeline, startups []*startup, funds []*fund, sum *Summary) error {
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
	targets := loanTargets
	if l.simulated {
		targets = append(slices.Clone(loanTargets), expiredTarget)
	}
	plan := make([]string, max(len(targets), len(startups)/8))
	for i := range plan {
		plan[i] = targets[i%len(targets)]
	}
	if l.simulated {
		for range arrearsPlans {
			plan = append(plan, arrearsTarget)
		}
	}
	n, arrears := 0, 0
	for k, s := range startups {
		if s.stage == "seed" || n >= len(plan) {
			continue
		}
		d := &loanDeal{k: k, s: s, f: vc[n%len(vc)], lead: banks[n%len(banks)], other: banks[(n+1)%len(banks)],
			target: plan[n], sequence: sequences[n%len(sequences)], principal: l.between(5_000_000, 30_000_000)}
		if d.target == arrearsTarget {
			d.plan = arrearsPlans[arrears]
			arrears++
		}
		tl.at(d.start(tl), fmt.Sprintf("loan deal %d (%s)", n, d.target), func(ctx context.Context) error { return l.loanDeal(ctx, tl, d) })
		sum.LoanDeals[d.target]++
		n++
	}
	fmt.Fprintf(l.log, "demo: %d banks, %d loan plus equity deals\n", len(banks), n)
	return nil
}

// loanDeal is one loan plus equity deal of the demo and what becomes of it.
type loanDeal struct {
	k           int
	s           *startup
	f           *fund
	lead, other *bank
	target      string
	sequence    string
	principal   int64
	plan        struct{ paid, daysPastDue int } // for a loan in arrears
	id          string
}

// start is the day the deal is proposed (and, for a loan, drawn): a loan
// in arrears so that the periods it pays and the first it leaves unpaid
// fall on its plan; a deal still open or just closed days ago.
func (d *loanDeal) start(tl *timeline) time.Time {
	switch d.target {
	case "syndicating":
		return tl.daysAgo(3)
	case "closed":
		return tl.daysAgo(2)
	case expiredTarget: // its 30 days ran out ten days ago
		return tl.daysAgo(40)
	case arrearsTarget:
		return tl.today.AddDate(0, -(d.plan.paid + 1), -d.plan.daysPastDue)
	case "prepaid":
		return tl.today.AddDate(0, -2, -15)
	case "defaulted":
		return tl.today.AddDate(0, -6, 0)
	}
	return tl.today.AddDate(0, -4-d.k%3, -d.k%20) // repaying, for four to six months
}

// loanDeal applies for a loan plus equity, proposes the deal and takes it
// to its target, planning what comes later on the timeline.
func (l *loader) loanDeal(ctx context.Context, tl *timeline, d *loanDeal) error {
	k, s, f, lead, other, principal := d.k, d.s, d.f, d.lead, d.other, d.principal
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
	today := l.clock.Now()
	proposal := map[string]any{
		"borrower_id": s.companyID, "application_id": app.ApplicationID, "lead_bank_id": lead.org,
		"loan": map[string]any{"principal": yuan(principal), "annual_rate": pick(l.rnd, []string{"0.0345", "0.0385", "0.0435", "0.0480"}),
			"months": pick(l.rnd, []int{24, 36}), "method": pick(l.rnd, []string{"equal_installment", "equal_principal", "interest_only_bullet"})},
		"equity":       map[string]any{"fund_id": f.id, "amount": yuan(principal / 5), "pre_money": yuan(principal * 3)},
		"sequence":     d.sequence,
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
	d.id = deal.DealID
	path := "/api/v1/loan-deals/" + deal.DealID
	if err := l.call(ctx, "POST", path+"/invitations", lead.token, l.key("invite", deal.DealID), map[string]any{"bank_id": other.org}, nil); err != nil {
		return err
	}
	equity := func() error {
		return l.call(ctx, "POST", path+"/equity", f.mgr.token, l.key("equity", deal.DealID), map[string]any{"fund_id": f.id, "amount": yuan(principal / 5)}, nil)
	}
	if d.sequence == "equity_first" {
		if err := equity(); err != nil {
			return err
		}
	}
	// The lead takes 60%; the other bank 60% more: oversubscribed by a
	// fifth and scaled back. A syndicating deal has only the lead's part
	// (an expired one too: its deadline passes with the book not full).
	if err := l.call(ctx, "POST", path+"/commitments", lead.token, l.key("commit-lead", deal.DealID), map[string]any{"amount": yuan(principal * 6 / 10)}, nil); err != nil {
		return err
	}
	if d.target == expiredTarget {
		deadline := today.AddDate(0, 0, 30).Truncate(24 * time.Hour)
		tl.at(justAfter(deadline), fmt.Sprintf("deal %s expires", d.id), func(ctx context.Context) error {
			return l.await(ctx, "deal "+d.id+" expired", lead.token, path, statusIs("expired"))
		})
	}
	if d.target == "syndicating" || d.target == expiredTarget {
		return nil
	}
	if err := l.call(ctx, "POST", path+"/commitments", other.token, l.key("commit-other", deal.DealID), map[string]any{"amount": yuan(principal * 6 / 10)}, nil); err != nil {
		return err
	}
	if d.sequence != "equity_first" {
		if err := equity(); err != nil {
			return err
		}
	}
	if d.target == "closed" {
		return nil
	}
	return l.drawAndService(ctx, tl, d)
}

type drawnLoan struct {
	Schedule []struct {
		Period  int       `json:"period"`
		Due     time.Time `json:"due"`
		Payment string    `json:"payment"`
	} `json:"schedule"`
}

// drawAndService draws the loan and plans its life: each period it pays,
// two days before it falls due; a partial early repayment; a default
// declared after three months unpaid.
func (l *loader) drawAndService(ctx context.Context, tl *timeline, d *loanDeal) error {
	loan := "/api/v1/loans/" + d.id
	var drawn drawnLoan
	if err := l.call(ctx, "POST", loan+"/drawdowns", d.lead.token, l.key("draw", d.id), map[string]any{"amount": yuan(d.principal)}, &drawn); err != nil {
		return err
	}
	if len(drawn.Schedule) == 0 {
		return fmt.Errorf("drawdown of loan %s fixed no schedule", d.id)
	}
	repay := func(i int) func(context.Context) error {
		return func(ctx context.Context) error {
			key := l.key("repay", d.id)
			if i > 0 {
				key = l.key("repay", d.id, i+1)
			}
			return l.call(ctx, "POST", loan+"/repayments", d.s.token, key, map[string]any{"amount": drawn.Schedule[i].Payment}, nil)
		}
	}
	if !l.simulated {
		// Today only: the first period paid at once, and the rest as
		// the target says, with nothing falling due.
		if err := repay(0)(ctx); err != nil {
			return err
		}
		switch d.target {
		case "prepaid":
			return l.call(ctx, "POST", loan+"/early-repayments", d.s.token, l.key("prepay", d.id), map[string]any{"amount": yuan(d.principal / 4)}, nil)
		case "defaulted":
			return l.call(ctx, "POST", loan+"/default", d.lead.token, l.key("default", d.id), map[string]any{"reason": "the borrower lost its main customer and stopped paying"}, nil)
		}
		return nil
	}
	name := func(what string) string { return fmt.Sprintf("loan %s: %s", d.id, what) }
	paid := len(drawn.Schedule) // on time, every period due by today
	var defaultAt time.Time
	switch d.target {
	case arrearsTarget:
		paid = d.plan.paid
	case "defaulted": // two periods paid, then three months unpaid
		paid = 2
		defaultAt = earliest(drawn.Schedule[paid].Due.AddDate(0, 0, 91), tl.daysAgo(1))
		tl.at(defaultAt, name("default"), func(ctx context.Context) error {
			return l.call(ctx, "POST", loan+"/default", d.lead.token, l.key("default", d.id), map[string]any{"reason": "the borrower lost its main customer and stopped paying"}, nil)
		})
	case "prepaid": // two periods paid, then a quarter of the principal early
		paid = 2
		tl.at(drawn.Schedule[1].Due.AddDate(0, 0, 5), name("early repayment"), func(ctx context.Context) error {
			return l.call(ctx, "POST", loan+"/early-repayments", d.s.token, l.key("prepay", d.id), map[string]any{"amount": yuan(d.principal / 4)}, nil)
		})
	}
	for i := range min(paid, len(drawn.Schedule)) {
		tl.at(drawn.Schedule[i].Due.AddDate(0, 0, -2), name(fmt.Sprintf("period %d paid", i+1)), repay(i))
	}
	// Each period left unpaid: the arrears process records it the day
	// after it fell due (until a default ends the watch).
	for i := paid; i < len(drawn.Schedule); i++ {
		check := justAfter(drawn.Schedule[i].Due.AddDate(0, 0, 1))
		if !defaultAt.IsZero() && !check.Before(defaultAt) {
			break
		}
		tl.at(check, name(fmt.Sprintf("period %d overdue", i+1)), func(ctx context.Context) error {
			return l.await(ctx, fmt.Sprintf("loan %s period %d overdue", d.id, i+1), d.lead.token, loan, func(body map[string]any) bool {
				schedule, _ := body["schedule"].([]any)
				period, _ := schedule[i].(map[string]any)
				return period["overdue"] == true
			})
		})
	}
	return nil
}
