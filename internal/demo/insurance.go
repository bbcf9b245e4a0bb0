package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
)

// demoPatent is a patent the loader registered, as insurance needs it.
type demoPatent struct {
	number, kind, filedOn, holding string
}

type insurer struct {
	token, id string
}

// insuranceFates are what happens to the policies of the demo, one
// startup each in turn: a request left with an open quote, one
// withdrawn, a policy bound and waiting for its premium, one in force,
// one with a claim filed, one partly paid, one settled, one denied, one
// cancelled.
var insuranceFates = []string{"quoted", "withdrawn", "awaiting_premium", "in_force", "claim_filed", "claim_part_paid", "claim_settled", "claim_denied", "cancelled"}

// timedInsuranceFates need their days to pass, on a simulated history: a
// quote issued forty days ago and never accepted, which the policy
// process expired at the end of its 30th day; a three-month policy bound
// five months ago, which it expired at the end of its last day.
var timedInsuranceFates = []string{"quote_expired", "policy_expired"}

// requestedDaysAgo is when a request of each fate was made, on a
// simulated history.
var requestedDaysAgo = map[string]int{"quoted": 5, "withdrawn": 20, "awaiting_premium": 3, "in_force": 60, "claim_filed": 45,
	"claim_part_paid": 90, "claim_settled": 120, "claim_denied": 75, "cancelled": 50, "quote_expired": 40, "policy_expired": 150}

// insurance onboards insurers with rating tables, opens subsidy
// programmes and takes startups' patents through every state of cover.
func (l *loader) insurance(ctx context.Context, tl *timeline, startups []*startup, sum *Summary) error {
	op := l.cfg.OperatorToken
	// Its own randomness from the seed, so that what loads before it
	// (whose draws may differ on a second load) changes nothing here.
	rnd := rand.New(rand.NewPCG(l.cfg.Seed, 0x1a5))
	sum.Policies = map[string]int{}
	insurers, err := l.insurers(ctx)
	if err != nil {
		return err
	}
	if err := l.subsidyProgrammes(ctx); err != nil {
		return err
	}
	// A second load finds the requests of the first and counts them.
	var existing insuranceapi.RequestList
	if err := l.call(ctx, "GET", "/api/v1/insurance-requests?limit=200", op, "", nil, &existing); err != nil {
		return err
	}
	if len(existing.Items) > 0 {
		for _, r := range existing.Items {
			sum.Policies["request_"+r.Status]++
		}
		return nil
	}
	fates := insuranceFates
	if l.simulated {
		fates = append(slices.Clone(insuranceFates), timedInsuranceFates...)
	}
	n := 0
	for k, s := range startups {
		if n == 2*len(fates) {
			break
		}
		p, ok := insurable(s.patents)
		if !ok {
			continue
		}
		if p.holding == "licensee" {
			// The owner's consent to insure, filed with the platform.
			if err := l.call(ctx, "PUT", "/api/v1/patent-standing/"+p.number, op, l.key("standing", k), map[string]any{
				"licensee_id": s.companyID, "owner_consent": true, "in_dispute": false, "note": "licensor's written consent on file"}, nil); err != nil {
				return err
			}
			sum.Policies["licensed_with_consent"]++
		}
		fate := fates[n%len(fates)]
		quoting, declining := insurers[n%len(insurers)], insurers[(n+1)%len(insurers)]
		draw := rnd.Int64N(4_500_001) // drawn here, so each request's draws are its own
		tl.at(tl.daysAgo(requestedDaysAgo[fate]), fmt.Sprintf("insurance request %d (%s)", n, fate), func(ctx context.Context) error {
			return l.policy(ctx, tl, rand.New(rand.NewPCG(l.cfg.Seed, uint64(draw))), k, s, p, quoting, declining, fate, draw)
		})
		sum.Policies[fate]++
		n++
	}
	fmt.Fprintf(l.log, "demo: %d insurers, 2 subsidy programmes, %d insurance requests planned\n", len(insurers), n)
	return nil
}

// insurers onboards the insurers, each with an underwriter signed in and
// its rating table published.
func (l *loader) insurers(ctx context.Context) ([]insurer, error) {
	op := l.cfg.OperatorToken
	var insurers []insurer
	for i, name := range []string{"PICC Property and Casualty", "Ping An Property & Casualty", "China Taiping Insurance"} {
		email := fmt.Sprintf("ip%d.s%d@insurer.demo.fundbridge.cn", i, l.cfg.Seed)
		password := fmt.Sprintf("demo-insurer-%d-%d", l.cfg.Seed, i)
		var out struct {
			Org struct {
				OrgID string `json:"org_id"`
			} `json:"org"`
		}
		if err := l.call(ctx, "POST", "/api/v1/orgs", op, l.key("insurer-org", i), map[string]any{"name": name, "role": "insurer",
			"user": map[string]string{"email": email, "password": password, "name": "Underwriter " + strconv.Itoa(i)}}, &out); err != nil {
			return nil, err
		}
		tok, err := l.signIn(ctx, email, password)
		if err != nil {
			return nil, err
		}
		in := insurer{token: tok, id: out.Org.OrgID}
		if err := l.call(ctx, "POST", "/api/v1/insurers", op, l.key("insurer", i), map[string]any{"insurer_id": in.id, "name": name}, nil); err != nil {
			return nil, err
		}
		if err := l.call(ctx, "PUT", "/api/v1/insurers/"+in.id+"/rating-table", tok, l.key("table", i), map[string]any{"table": insuranceapi.SampleRatingTable(in.id)}, nil); err != nil {
			return nil, err
		}
		insurers = append(insurers, in)
	}
	return insurers, nil
}

// subsidyProgrammes opens the premium subsidy programmes: Shenzhen's, and
// Beijing's for pledge guarantees with a budget small enough to run out.
func (l *loader) subsidyProgrammes(ctx context.Context) error {
	for i, g := range []map[string]any{
		{"name": "深圳市知识产权保险保费资助", "sponsor": "Shenzhen Administration for Market Regulation", "share": "0.50", "cap_per_company_per_year": "50000.00",
			"budget": "200000.00", "coverages": []string{"enforcement", "infringement_loss"}, "cities": []string{"shenzhen", "guangzhou"}},
		{"name": "知识产权质押融资保证保险补贴", "sponsor": "Beijing Intellectual Property Office", "share": "0.30", "cap_per_company_per_year": "30000.00",
			"budget": "20000.00", "coverages": []string{"enforcement", "infringement_loss", "pledge_guarantee"}},
	} {
		if err := l.call(ctx, "POST", "/api/v1/subsidy-programmes", l.cfg.OperatorToken, l.key("programme", i), g, nil); err != nil {
			return err
		}
	}
	return nil
}

// insurable is an invention patent: twenty years from filing, so every
// one the demo registers has more than three years left. An owned one
// first; a licensed one needs its owner's consent recorded.
func insurable(patents []demoPatent) (demoPatent, bool) {
	for _, holding := range []string{"owner", "licensee"} {
		for _, p := range patents {
			if p.kind == "invention" && p.holding == holding {
				return p, true
			}
		}
	}
	return demoPatent{}, false
}

type requestOut struct {
	RequestID string `json:"request_id"`
	StartsOn  string `json:"starts_on"`
	Months    int    `json:"months"`
	Claims    string `json:"claims"`
	Quotes    []struct {
		QuoteID    string `json:"quote_id"`
		ValidUntil string `json:"valid_until"`
	} `json:"quotes"`
}

type policyOut struct {
	PolicyID   string `json:"policy_id"`
	EndsOn     string `json:"ends_on"`
	PremiumDue string `json:"premium_due"`
	Claims     []struct {
		ClaimID string `json:"claim_id"`
	} `json:"claims"`
}

// policy takes one startup's request to its fate.
func (l *loader) policy(ctx context.Context, tl *timeline, rnd *rand.Rand, k int, s *startup, p demoPatent, quoting, declining insurer, fate string, draw int64) error {
	sumInsured := (500_000 + draw) / 10_000 * 10_000
	r, err := l.quotedRequest(ctx, rnd, k, s, p, quoting, declining, fate, sumInsured)
	if err != nil {
		return err
	}
	path := "/api/v1/insurance-requests/" + r.RequestID
	switch fate {
	case "quote_expired": // never accepted: the policy process expires it
		end, err := endOfChinaDay(r.Quotes[0].ValidUntil)
		if err != nil {
			return err
		}
		tl.at(justAfter(end), "quote "+r.Quotes[0].QuoteID+" expires", func(ctx context.Context) error {
			return l.await(ctx, "quote "+r.Quotes[0].QuoteID+" expired", s.token, path, func(body map[string]any) bool {
				quotes, _ := body["quotes"].([]any)
				q, _ := quotes[0].(map[string]any)
				return q["status"] == "expired"
			})
		})
		return nil
	case "quoted":
		return nil
	case "withdrawn":
		return l.call(ctx, "POST", path+"/withdraw", s.token, l.key("ins-withdraw", k), map[string]any{"reason": "covered by a parent company policy"}, nil)
	}
	var pol policyOut
	if err := l.call(ctx, "POST", path+"/quotes/"+r.Quotes[0].QuoteID+"/accept", s.token, l.key("ins-accept", k), map[string]any{}, &pol); err != nil {
		return err
	}
	if fate == "awaiting_premium" {
		return nil
	}
	ppath := "/api/v1/policies/" + pol.PolicyID
	if err := l.call(ctx, "POST", ppath+"/premium", s.token, l.key("ins-premium", k), map[string]any{"amount": pol.PremiumDue}, nil); err != nil {
		return err
	}
	today := l.clock.Now().In(time.FixedZone("CST", 8*3600))
	switch fate {
	case "policy_expired": // its three months ran out: the policy process expires it
		end, err := endOfChinaDay(pol.EndsOn)
		if err != nil {
			return err
		}
		tl.at(justAfter(end), "policy "+pol.PolicyID+" expires", func(ctx context.Context) error {
			return l.await(ctx, "policy "+pol.PolicyID+" expired", s.token, ppath, statusIs("expired"))
		})
		return nil
	case "in_force":
		return nil
	case "cancelled":
		return l.call(ctx, "POST", ppath+"/cancel", s.token, l.key("ins-cancel", k), map[string]any{
			"effective_on": today.AddDate(0, 0, 1).Format(time.DateOnly), "reason": "replaced by a portfolio policy"}, nil)
	}
	return l.claim(ctx, k, s, quoting, &pol, ppath, sumInsured, today, fate)
}

// quotedRequest is the k-th startup's request to insure p: quoted by
// quoting, declined by declining.
func (l *loader) quotedRequest(ctx context.Context, rnd *rand.Rand, k int, s *startup, p demoPatent, quoting, declining insurer, fate string, sumInsured int64) (requestOut, error) {
	coverage := []string{"enforcement", "infringement_loss"}[k%2]
	request := map[string]any{"coverage": coverage, "patents": []string{p.number}, "sum_insured": yuan(sumInsured), "insurers": []string{quoting.id, declining.id}}
	if fate == "policy_expired" {
		request["months"] = 3
	}
	var r requestOut
	if err := l.call(ctx, "POST", "/api/v1/insurance-requests", s.token, l.key("ins-request", k), request, &r); err != nil {
		return r, err
	}
	path := "/api/v1/insurance-requests/" + r.RequestID
	premium, err := premium(rnd, quoting.id, coverage, p, sumInsured, r, l.clock.Now())
	if err != nil {
		return r, err
	}
	if err := l.call(ctx, "POST", path+"/quotes", quoting.token, l.key("ins-quote", k), map[string]any{"premium": premium}, &r); err != nil {
		return r, err
	}
	if err := l.call(ctx, "POST", path+"/declines", declining.token, l.key("ins-decline", k), map[string]any{"reason": "the patent's field is outside our appetite"}, nil); err != nil {
		return r, err
	}
	return r, nil
}

// claim files a claim on pol (at ppath) today, a tenth of the sum
// insured, and takes it to its fate: filed, denied, or assessed and paid
// in part or in full.
func (l *loader) claim(ctx context.Context, k int, s *startup, quoting insurer, pol *policyOut, ppath string, sumInsured int64, today time.Time, fate string) error {
	claimed := sumInsured / 10
	if err := l.call(ctx, "POST", ppath+"/claims", s.token, l.key("ins-claim", k), map[string]any{"incident_on": today.Format(time.DateOnly),
		"amount": yuan(claimed), "description": "a competitor ships a product using the patented method; enforcement costs"}, pol); err != nil {
		return err
	}
	cpath := ppath + "/claims/" + pol.Claims[0].ClaimID
	switch fate {
	case "claim_filed":
		return nil
	case "claim_denied":
		return l.call(ctx, "POST", cpath+"/denial", quoting.token, l.key("ins-deny", k), map[string]any{"reason": "the product does not use the claimed method"}, nil)
	}
	assessed := claimed * 8 / 10
	if err := l.call(ctx, "POST", cpath+"/assessment", quoting.token, l.key("ins-assess", k), map[string]any{"amount": yuan(assessed), "note": "lawyers' fees at the court's scale"}, nil); err != nil {
		return err
	}
	paid := assessed
	if fate == "claim_part_paid" {
		paid = assessed / 2
	}
	err := l.call(ctx, "POST", cpath+"/settlements", quoting.token, l.key("ins-settle", k), map[string]any{"amount": yuan(paid)}, nil)
	if isStatus(err, http.StatusConflict) {
		return nil
	}
	return err
}

// premium is what the insurer quotes: its published table's premium for
// the request, moved within the quote band by the seed.
func premium(rnd *rand.Rand, insurerID, coverage string, p demoPatent, sumInsured int64, r requestOut, now time.Time) (string, error) {
	filed, err := time.Parse(time.DateOnly, p.filedOn)
	if err != nil {
		return "", err
	}
	starts, err := time.Parse(time.DateOnly, r.StartsOn)
	if err != nil {
		return "", err
	}
	today := insuranceapi.Today(now)
	if starts.Before(today) {
		starts = today
	}
	tp, err := insuranceapi.SampleRatingTable(insurerID).Premium(insuranceapi.PremiumInput{
		Coverage: insuranceapi.Coverage(coverage), Claims: insuranceapi.ClaimsBand(r.Claims), SumInsured: money.MustParse(yuan(sumInsured)),
		StartsOn: starts, Months: r.Months,
		Patents: []insuranceapi.RatedPatent{{Number: p.number, Kind: insuranceapi.PatentKind(p.kind), FiledOn: filed}},
	})
	if err != nil {
		return "", err
	}
	factor := decimal.New(90+int64(rnd.IntN(21)), -2) // 0.90 to 1.10
	return tp.Amount.Mul(factor).String(), nil
}
