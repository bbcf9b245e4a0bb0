package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
)

func dec(v any) decimal.Decimal { return decimal.RequireFromString(v.(string)) }

// insurers onboards two insurers with the sample rating table and a
// subsidy programme for enforcement cover in Shenzhen.
type insuranceMarket struct {
	insA, insAID, insB, insBID string
	programmeID                string
}

func newInsuranceMarket(t *testing.T, p *product, budget string) insuranceMarket {
	t.Helper()
	var m insuranceMarket
	m.insA, m.insAID = p.onboard("PICC Property", "insurer", "ip@picc.cn")
	m.insB, m.insBID = p.onboard("Ping An P&C", "insurer", "ip@pingan.cn")
	for _, id := range []string{m.insAID, m.insBID} {
		if r := p.do("POST", "/api/v1/insurers", p.opToken, map[string]any{"insurer_id": id, "name": "insurer " + id}); r.status != 201 {
			t.Fatalf("onboard insurer = %d %s", r.status, r.raw)
		}
	}
	for tok, id := range map[string]string{m.insA: m.insAID, m.insB: m.insBID} {
		if r := p.do("PUT", "/api/v1/insurers/"+id+"/rating-table", tok, map[string]any{"table": insuranceapi.SampleRatingTable(id)}); r.status != 200 {
			t.Fatalf("publish table = %d %s", r.status, r.raw)
		}
	}
	g := p.do("POST", "/api/v1/subsidy-programmes", p.opToken, map[string]any{"name": "深圳知识产权保险补贴", "sponsor": "Shenzhen IP Office",
		"share": "0.50", "cap_per_company_per_year": "100000.00", "budget": budget, "coverages": []string{"enforcement", "pledge_guarantee"}, "cities": []string{"shenzhen"}})
	if g.status != 201 {
		t.Fatalf("programme = %d %s", g.status, g.raw)
	}
	m.programmeID = g.body["programme_id"].(string)
	return m
}

func (p *product) addPatent(tok, company, number, kind, filed, holding string) {
	p.t.Helper()
	r := p.do("POST", "/api/v1/companies/"+company+"/patents", tok, map[string]any{"number": number, "kind": kind,
		"title": "一种模型压缩方法", "filed_on": filed, "granted_on": filed[:4] + "-12-01", "holding": holding})
	if r.status != 201 {
		p.t.Fatalf("patent %s = %d %s", number, r.status, r.raw)
	}
}

// quoteAtTable has the insurer quote the premium its table gives (the
// middle of the band), read back from the band's refusal.
func (p *product) quoteAtTable(t *testing.T, tok, requestID string) (quoteID string, premium decimal.Decimal) {
	t.Helper()
	far := p.do("POST", "/api/v1/insurance-requests/"+requestID+"/quotes", tok, map[string]any{"premium": "1.00"})
	wantProblem(t, far, 422, "premium")
	detail, _ := far.body["detail"].(string)
	i := strings.Index(detail, "the table premium ¥")
	if i < 0 {
		t.Fatalf("band refusal does not name the table premium: %s", far.raw)
	}
	rest := detail[i+len("the table premium ¥"):]
	table := decimal.RequireFromString(strings.ReplaceAll(rest[:strings.Index(rest, " ")], ",", ""))
	r := p.do("POST", "/api/v1/insurance-requests/"+requestID+"/quotes", tok, map[string]any{"premium": table.StringFixed(2)})
	if r.status != 201 {
		t.Fatalf("quote = %d %s", r.status, r.raw)
	}
	q := items(r, "quotes")
	return q[len(q)-1].(map[string]any)["quote_id"].(string), table
}

// The whole life of a policy over HTTP, for every role: insurers
// onboarded and publishing tables, a request on the startup's own
// patents, quotes in the band, a decline, acceptance with the subsidy
// drawn, the premium paid, claims filed, assessed, settled in parts and
// denied, and a cancellation refunding company and programme pro rata.
func TestPatentInsuranceOverHTTP(t *testing.T) {
	p := start(t)
	m := newInsuranceMarket(t, p, "5000.00")
	insC, insCID := p.onboard("Taiping", "insurer", "ip@taiping.cn")
	fm, _ := p.onboard("Qiming", "fund_manager", "ir@qiming.cn")
	startup, companyID := p.signUp(41, "growth")
	other, otherID := p.signUp(42, "seed")

	// Only operators onboard; an org must exist with role insurer.
	wantProblem(t, p.do("POST", "/api/v1/insurers", m.insA, map[string]any{"insurer_id": m.insAID, "name": "x"}), 403)
	wantProblem(t, p.do("POST", "/api/v1/insurers", p.opToken, map[string]any{"insurer_id": otherID, "name": "x"}), 422, "insurer_id")
	// An insurer publishes its own table only; one not onboarded none.
	table := map[string]any{"table": insuranceapi.SampleRatingTable(m.insAID)}
	wantProblem(t, p.do("PUT", "/api/v1/insurers/"+m.insAID+"/rating-table", m.insB, table), 404)
	wantProblem(t, p.do("PUT", "/api/v1/insurers/"+insCID+"/rating-table", insC, map[string]any{"table": insuranceapi.SampleRatingTable(insCID)}), 404)
	wantProblem(t, p.do("PUT", "/api/v1/insurers/"+m.insAID+"/rating-table", m.insA, map[string]any{"table": map[string]any{"minimum_premium": "1.001"}}), 400, "table.minimum_premium")
	rt := p.do("GET", "/api/v1/insurers/"+m.insAID+"/rating-table", startup, nil)
	if rt.status != 200 || rt.body["quote_band_percent"] != float64(20) || len(rt.body["table"].(map[string]any)["rates"].([]any)) == 0 {
		t.Fatalf("rating table = %d %s", rt.status, rt.raw)
	}
	if l := p.do("GET", "/api/v1/insurers", fm, nil); l.status != 200 || len(items(l, "items")) != 2 {
		t.Errorf("insurers = %d %s", l.status, l.raw)
	}

	// Patents: one good, one licensed without the owner's consent on
	// record, one with less than three years left.
	good, licensed, old := patentNo("202310123456"), patentNo("202110654321"), patentNo("201720345678")
	p.addPatent(startup, companyID, good, "invention", "2023-02-01", "owner")
	p.addPatent(startup, companyID, licensed, "invention", "2021-05-01", "licensee")
	p.addPatent(startup, companyID, old, "utility_model", "2017-06-01", "owner")
	req := map[string]any{"coverage": "enforcement", "patents": []string{good}, "sum_insured": "1000000.00", "insurers": []string{m.insAID, m.insBID}}
	bad := map[string]any{"coverage": "enforcement", "patents": []string{good, licensed, old}, "sum_insured": "1000000.00", "insurers": []string{m.insAID}}
	wantProblem(t, p.do("POST", "/api/v1/insurance-requests", startup, bad), 422, "patents[1]", "patents[2]")
	// The owner's consent, recorded by an operator for this company, lets
	// the licensed patent be insured; a dispute recorded later stops it.
	standing := "/api/v1/patent-standing/" + licensed
	wantProblem(t, p.do("PUT", standing, startup, map[string]any{"licensee_id": companyID, "owner_consent": true, "in_dispute": false}), 403)
	wantProblem(t, p.do("PUT", "/api/v1/patent-standing/CN202310123456.7", p.opToken, map[string]any{"in_dispute": true}), 400, "number")
	if r := p.do("PUT", standing, p.opToken, map[string]any{"licensee_id": companyID, "owner_consent": true, "in_dispute": false, "note": "licence §7"}); r.status != 200 || r.body["owner_consent"] != true {
		t.Fatalf("record consent = %d %s", r.status, r.raw)
	}
	onLicensed := map[string]any{"coverage": "infringement_loss", "patents": []string{licensed}, "sum_insured": "500000.00", "insurers": []string{m.insBID}}
	if r := p.do("POST", "/api/v1/insurance-requests", startup, onLicensed); r.status != 201 {
		t.Fatalf("request on a licensed patent with consent = %d %s", r.status, r.raw)
	}
	if r := p.do("PUT", standing, p.opToken, map[string]any{"licensee_id": companyID, "owner_consent": true, "in_dispute": true, "note": "invalidation requested"}); r.status != 200 {
		t.Fatalf("record dispute = %d %s", r.status, r.raw)
	}
	wantProblem(t, p.do("POST", "/api/v1/insurance-requests", startup, onLicensed), 422, "patents[0]")
	if g := p.do("GET", standing, m.insA, nil); g.status != 200 || g.body["in_dispute"] != true {
		t.Errorf("standing = %d %s", g.status, g.raw)
	}
	wantProblem(t, p.do("POST", "/api/v1/insurance-requests", startup, map[string]any{"coverage": "fire", "patents": []string{}, "sum_insured": "0", "insurers": []string{}}), 400, "coverage", "patents", "sum_insured", "insurers")
	wantProblem(t, p.do("POST", "/api/v1/insurance-requests", startup, map[string]any{"coverage": "enforcement", "patents": []string{good}, "sum_insured": "1e6", "insurers": []string{m.insAID}}), 400, "sum_insured")
	wantProblem(t, p.do("POST", "/api/v1/insurance-requests", other, req), 422, "patents[0]") // not its patent
	wantProblem(t, p.do("POST", "/api/v1/insurance-requests", m.insA, req), 403)
	wantProblem(t, p.do("POST", "/api/v1/insurance-requests", startup, map[string]any{"coverage": "enforcement", "patents": []string{good}, "sum_insured": "1000000.00", "insurers": []string{insCID}}), 422, "insurers[0]")

	r := p.do("POST", "/api/v1/insurance-requests", startup, req, "Idempotency-Key", "ins-1")
	if r.status != 201 || r.body["status"] != "open" || r.body["city"] != "shenzhen" {
		t.Fatalf("request = %d %s", r.status, r.raw)
	}
	requestID := r.body["request_id"].(string)
	pos := r.header.Get("Fundbridge-Position")
	if again := p.do("POST", "/api/v1/insurance-requests", startup, req, "Idempotency-Key", "ins-1"); again.body["request_id"] != requestID {
		t.Errorf("retried request = %s", again.raw)
	}
	// Who sees the request: the company, the insurers asked, operators.
	for _, tok := range []string{startup, m.insA, m.insB, p.opToken} {
		if g := p.do("GET", "/api/v1/insurance-requests/"+requestID+"?after="+pos, tok, nil); g.status != 200 {
			t.Errorf("GET request = %d %s", g.status, g.raw)
		}
	}
	for _, tok := range []string{other, insC} {
		wantProblem(t, p.do("GET", "/api/v1/insurance-requests/"+requestID, tok, nil), 404)
	}
	wantProblem(t, p.do("POST", "/api/v1/insurance-requests/"+requestID+"/withdraw", other, map[string]any{}), 404)
	wantProblem(t, p.do("POST", "/api/v1/insurance-requests/"+requestID+"/withdraw", m.insA, map[string]any{}), 403)
	wantProblem(t, p.do("GET", "/api/v1/insurance-requests/"+requestID, fm, nil), 403)
	wantProblem(t, p.do("POST", "/api/v1/insurance-requests/"+requestID+"/quotes", insC, map[string]any{"premium": "100.00"}), 404)
	if l := p.do("GET", "/api/v1/insurance-requests", insC, nil); len(items(l, "items")) != 0 {
		t.Errorf("insurer C lists %s", l.raw)
	}

	// A quote in the band; B declines; each insurer sees only its own.
	quoteID, premium := p.quoteAtTable(t, m.insA, requestID)
	wantProblem(t, p.do("POST", "/api/v1/insurance-requests/"+requestID+"/quotes", m.insA, map[string]any{"premium": premium.StringFixed(2)}), 409)
	if d := p.do("POST", "/api/v1/insurance-requests/"+requestID+"/declines", m.insB, map[string]any{"reason": "outside appetite"}); d.status != 200 || len(items(d, "quotes")) != 0 {
		t.Errorf("decline = %d %s, B must not see A's quote", d.status, d.raw)
	}
	wantProblem(t, p.do("POST", "/api/v1/insurance-requests/"+requestID+"/quotes", m.insB, map[string]any{"premium": premium.StringFixed(2)}), 409) // declined: no quote after
	wantProblem(t, p.do("POST", "/api/v1/insurance-requests/"+requestID+"/quotes/"+quoteID+"/accept", m.insA, map[string]any{}), 403)
	wantProblem(t, p.do("POST", "/api/v1/insurance-requests/"+requestID+"/quotes/"+quoteID+"/accept", other, map[string]any{}), 404)
	// A dispute recorded after the quote stops the binding until it ends.
	goodStanding := "/api/v1/patent-standing/" + good
	if r := p.do("PUT", goodStanding, p.opToken, map[string]any{"in_dispute": true, "note": "ownership suit"}); r.status != 200 {
		t.Fatalf("record dispute = %d %s", r.status, r.raw)
	}
	wantProblem(t, p.do("POST", "/api/v1/insurance-requests/"+requestID+"/quotes/"+quoteID+"/accept", startup, map[string]any{}), 422, "patents[0]")
	if r := p.do("PUT", goodStanding, p.opToken, map[string]any{"in_dispute": false, "note": "suit withdrawn"}); r.status != 200 {
		t.Fatalf("record the dispute's end = %d %s", r.status, r.raw)
	}

	// Accepting binds the policy and draws the subsidy: half the premium,
	// within the budget of ¥5,000.00.
	r = p.do("POST", "/api/v1/insurance-requests/"+requestID+"/quotes/"+quoteID+"/accept", startup, map[string]any{})
	if r.status != 201 || r.body["status"] != "awaiting_premium" {
		t.Fatalf("accept = %d %s", r.status, r.raw)
	}
	policyID := r.body["policy_id"].(string)
	wantSubsidy := decimal.Min(premium.Mul(decimal.RequireFromString("0.5")).Round(2), decimal.RequireFromString("5000"))
	if !dec(r.body["subsidy"]).Equal(wantSubsidy) || !dec(r.body["premium_due"]).Equal(premium.Sub(wantSubsidy)) {
		t.Errorf("premium %s: subsidy %v, due %v; want subsidy %s", premium, r.body["subsidy"], r.body["premium_due"], wantSubsidy)
	}
	if !strings.HasPrefix(r.body["policy_number"].(string), "PE-") {
		t.Errorf("policy number %v", r.body["policy_number"])
	}
	// The insurer that declined sees the request closed, not the winner's policy.
	if g := p.do("GET", "/api/v1/insurance-requests/"+requestID+"?after="+r.header.Get("Fundbridge-Position"), m.insB, nil); g.status != 200 || g.body["status"] != "accepted" || g.body["policy_id"] != nil && g.body["policy_id"] != "" {
		t.Errorf("the declining insurer sees %d %s", g.status, g.raw)
	}
	if g := p.do("GET", "/api/v1/insurance-requests/"+requestID, m.insA, nil); g.body["policy_id"] != policyID {
		t.Errorf("the winning insurer sees %s", g.raw)
	}
	due := r.body["premium_due"].(string)
	wantProblem(t, p.do("POST", "/api/v1/policies/"+policyID+"/premium", startup, map[string]any{"amount": "1.00"}), 422, "amount")
	wantProblem(t, p.do("POST", "/api/v1/policies/"+policyID+"/claims", startup, map[string]any{"incident_on": time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly), "amount": "1.00", "description": "x"}), 409)
	r = p.do("POST", "/api/v1/policies/"+policyID+"/premium", startup, map[string]any{"amount": due})
	if r.status != 200 || r.body["status"] != "in_force" {
		t.Fatalf("pay = %d %s", r.status, r.raw)
	}

	// Claims: filed by the company, assessed and settled in two parts by
	// the insurer; a second denied.
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	wantProblem(t, p.do("POST", "/api/v1/policies/"+policyID+"/claims", startup, map[string]any{"incident_on": "2020-01-01", "amount": "1.00", "description": "x"}), 422, "incident_on")
	r = p.do("POST", "/api/v1/policies/"+policyID+"/claims", startup, map[string]any{"incident_on": today, "amount": "300000.00", "description": "infringer in Dongguan; lawyers' fees"})
	if r.status != 201 {
		t.Fatalf("claim = %d %s", r.status, r.raw)
	}
	claimID := items(r, "claims")[0].(map[string]any)["claim_id"].(string)
	claimPath := "/api/v1/policies/" + policyID + "/claims/" + claimID
	wantProblem(t, p.do("POST", claimPath+"/assessment", startup, map[string]any{"amount": "1.00"}), 403)
	wantProblem(t, p.do("POST", claimPath+"/assessment", m.insB, map[string]any{"amount": "1.00"}), 404)
	wantProblem(t, p.do("POST", claimPath+"/assessment", m.insA, map[string]any{"amount": "300000.01"}), 422, "amount")
	if r := p.do("POST", claimPath+"/assessment", m.insA, map[string]any{"amount": "250000.00"}); r.status != 200 {
		t.Fatalf("assess = %d %s", r.status, r.raw)
	}
	if r := p.do("POST", claimPath+"/settlements", m.insA, map[string]any{"amount": "100000.00"}); r.status != 200 || items(r, "claims")[0].(map[string]any)["status"] != "part_paid" {
		t.Fatalf("settle part = %d %s", r.status, r.raw)
	}
	wantProblem(t, p.do("POST", claimPath+"/settlements", m.insA, map[string]any{"amount": "150000.01"}), 422, "amount")
	r = p.do("POST", claimPath+"/settlements", m.insA, map[string]any{"amount": "150000.00"})
	if r.status != 200 || items(r, "claims")[0].(map[string]any)["status"] != "settled" || r.body["remaining_limit"] != "750000.00" {
		t.Fatalf("settle rest = %d %s", r.status, r.raw)
	}
	r = p.do("POST", "/api/v1/policies/"+policyID+"/claims", startup, map[string]any{"incident_on": today, "amount": "50000.00", "description": "second infringer"})
	second := items(r, "claims")[1].(map[string]any)["claim_id"].(string)
	if r := p.do("POST", "/api/v1/policies/"+policyID+"/claims/"+second+"/denial", m.insA, map[string]any{"reason": "the patent was not infringed"}); r.status != 200 {
		t.Fatalf("deny = %d %s", r.status, r.raw)
	}

	// Who sees the policy.
	for _, tok := range []string{startup, m.insA, p.opToken} {
		if l := p.do("GET", "/api/v1/policies", tok, nil); len(items(l, "items")) != 1 {
			t.Errorf("policies = %s", l.raw)
		}
	}
	for _, tok := range []string{other, m.insB} {
		wantProblem(t, p.do("GET", "/api/v1/policies/"+policyID, tok, nil), 404)
		if l := p.do("GET", "/api/v1/policies", tok, nil); len(items(l, "items")) != 0 {
			t.Errorf("policies = %s", l.raw)
		}
	}

	// Cancelled from tomorrow: refund and earned premium add up to the
	// premium, the refund split between the company and the programme,
	// which gets its part back.
	tomorrow := time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, 1).Format(time.DateOnly)
	wantProblem(t, p.do("POST", "/api/v1/policies/"+policyID+"/cancel", m.insA, map[string]any{"effective_on": tomorrow}), 403)
	r = p.do("POST", "/api/v1/policies/"+policyID+"/cancel", startup, map[string]any{"effective_on": tomorrow, "reason": "moved to another insurer"})
	if r.status != 200 || r.body["status"] != "cancelled" {
		t.Fatalf("cancel = %d %s", r.status, r.raw)
	}
	c := r.body["cancellation"].(map[string]any)
	if !dec(c["refund"]).Add(dec(c["earned"])).Equal(premium) || !dec(c["refund_to_company"]).Add(dec(c["refund_to_programme"])).Equal(dec(c["refund"])) {
		t.Errorf("cancellation %v of premium %s", c, premium)
	}
	g := p.do("GET", "/api/v1/subsidy-programmes/"+m.programmeID+"?after="+r.header.Get("Fundbridge-Position"), p.opToken, nil)
	if !dec(g.body["drawn"]).Equal(wantSubsidy.Sub(dec(c["refund_to_programme"]))) || len(items(g, "draws")) != 1 {
		t.Errorf("programme after the cancellation = %s", g.raw)
	}
	if g := p.do("GET", "/api/v1/subsidy-programmes/"+m.programmeID, startup, nil); g.status != 200 || g.body["draws"] != nil {
		t.Errorf("a startup sees the programme's draws: %s", g.raw)
	}
	wantProblem(t, p.do("POST", "/api/v1/subsidy-programmes", startup, map[string]any{"name": "x", "sponsor": "y", "share": "0.5", "cap_per_company_per_year": "1.00", "budget": "1.00", "coverages": []string{"enforcement"}}), 403)
}

// patentNo is a CN number with its check digit.
func patentNo(digits12 string) string {
	return "CN" + digits12 + "." + string(applicationsapi.PatentCheckDigit(digits12))
}
