package demo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
)

type manager struct {
	token string
	org   string
}

type fund struct {
	id           string
	typ          string
	mgr          *manager
	maxOwnership decimal.Decimal
}

type startup struct {
	token     string
	companyID string
	stage     fundbridge.Stage
	patents   []demoPatent
}

type application struct {
	id      string
	startup *startup
	amount  int64
}

var ticketsByType = map[string][2]int64{ // yuan
	"seed": {500_000, 5_000_000}, "angel": {300_000, 3_000_000}, "vc": {5_000_000, 80_000_000},
	"pe": {50_000_000, 500_000_000}, "guidance": {2_000_000, 200_000_000}, "industry": {10_000_000, 150_000_000},
}

var stagesByType = map[string][]fundbridge.Stage{
	"seed": {"seed", "startup"}, "angel": {"seed", "startup"}, "vc": {"startup", "growth", "expansion"},
	"pe": {"expansion", "pre_ipo"}, "guidance": fundbridge.Stages, "industry": {"growth", "expansion", "pre_ipo"},
}

var amountByStage = map[fundbridge.Stage][2]int64{ // yuan
	"seed": {500_000, 4_000_000}, "startup": {3_000_000, 20_000_000}, "growth": {15_000_000, 70_000_000},
	"expansion": {50_000_000, 140_000_000}, "pre_ipo": {100_000_000, 400_000_000},
}

func (l *loader) between(lo, hi int64) int64 {
	// Round to ten thousand yuan, as people ask.
	return (lo + l.rnd.Int64N(hi-lo+1)) / 10_000 * 10_000
}

func (l *loader) load(ctx context.Context) (Summary, error) {
	sum := Summary{Applications: map[string]int{}, Deals: map[string]int{}, LoanDeals: map[string]int{}}
	l.origin = l.clock.Now()

	managers, err := l.managers(ctx)
	if err != nil {
		return sum, err
	}
	fmt.Fprintf(l.log, "demo: %d fund managers\n", len(managers))
	funds, err := l.funds(ctx, managers)
	if err != nil {
		return sum, err
	}
	sum.Funds = len(funds)
	fmt.Fprintf(l.log, "demo: %d funds with mandates\n", len(funds))
	startups, err := l.startups(ctx, &sum)
	if err != nil {
		return sum, err
	}
	sum.Startups = len(startups)
	fmt.Fprintf(l.log, "demo: %d startups with %d patents\n", len(startups), sum.Patents)
	open, lastPosition, err := l.applications(ctx, startups, &sum)
	if err != nil {
		return sum, err
	}
	fmt.Fprintf(l.log, "demo: %d applications open for matching\n", len(open))

	if err := l.pipelines(ctx, funds, open, lastPosition, &sum); err != nil {
		return sum, err
	}
	// The dated part: loans and insurance, on a timeline of days up to
	// today (months of them on a simulated history).
	tl := &timeline{clock: l.clock, today: time.Now().UTC()}
	if err := l.loanDeals(ctx, tl, startups, funds, &sum); err != nil {
		return sum, err
	}
	if err := l.insurance(ctx, tl, startups, &sum); err != nil {
		return sum, err
	}
	return sum, tl.run(ctx)
}

// managers creates the fund manager orgs, each with a partner signed in.
func (l *loader) managers(ctx context.Context) ([]*manager, error) {
	managers := make([]*manager, l.cfg.Managers)
	for i := range managers {
		email := fmt.Sprintf("manager%d.s%d@demo.fundbridge.cn", i, l.cfg.Seed)
		password := fmt.Sprintf("demo-manager-%d-%d", l.cfg.Seed, i)
		var out struct {
			Org struct {
				OrgID string `json:"org_id"`
			} `json:"org"`
		}
		name := fundNames[i%len(fundNames)] + " Capital"
		if err := l.call(ctx, "POST", "/api/v1/orgs", l.cfg.OperatorToken, l.key("org", i), map[string]any{"name": name, "role": "fund_manager",
			"user": map[string]string{"email": email, "password": password, "name": "Partner " + strconv.Itoa(i)}}, &out); err != nil {
			return nil, err
		}
		tok, err := l.signIn(ctx, email, password)
		if err != nil {
			return nil, err
		}
		managers[i] = &manager{token: tok, org: out.Org.OrgID}
	}
	return managers, nil
}

// funds creates the funds, the managers taking turns, each of a type and
// with a mandate of that type's stages and tickets.
func (l *loader) funds(ctx context.Context, managers []*manager) ([]*fund, error) {
	fundTypes := []string{"seed", "angel", "vc", "pe", "guidance", "industry"}
	funds := make([]*fund, l.cfg.Funds)
	for j := range funds {
		m := managers[j%len(managers)]
		typ := fundTypes[j%len(fundTypes)]
		tickets := ticketsByType[typ]
		capital := tickets[1] * (5 + l.rnd.Int64N(20))
		var out struct {
			FundID string `json:"fund_id"`
		}
		name := fmt.Sprintf("%s %s Fund %d", fundNames[j%len(fundNames)], map[string]string{"seed": "Seed", "angel": "Angel", "vc": "Venture", "pe": "Growth Equity", "guidance": "Guidance", "industry": "Industry"}[typ], 1+j/len(fundNames))
		if err := l.call(ctx, "POST", "/api/v1/funds", m.token, l.key("fund", j), map[string]any{"name": name, "type": typ, "committed_capital": yuan(capital)}, &out); err != nil {
			return nil, err
		}
		f := &fund{id: out.FundID, typ: typ, mgr: m, maxOwnership: decimal.New(int64(10+5*l.rnd.IntN(5)), -2)}
		if err := l.call(ctx, "PUT", "/api/v1/funds/"+f.id+"/mandate", m.token, l.key("mandate", j), l.mandate(f, tickets), nil); err != nil {
			return nil, err
		}
		funds[j] = f
	}
	return funds, nil
}

// mandate is f's: its type's stages and tickets, and now and then a
// focus on a layer (and sectors of it) or on cities.
func (l *loader) mandate(f *fund, tickets [2]int64) map[string]any {
	mandate := map[string]any{
		"stages":        stagesByType[f.typ],
		"ticket_min":    yuan(tickets[0]),
		"ticket_max":    yuan(tickets[1]),
		"max_ownership": f.maxOwnership.StringFixed(2),
	}
	if l.rnd.IntN(3) == 0 { // a focused fund
		layer := pick(l.rnd, fundbridge.Layers)
		mandate["layers"] = []fundbridge.Layer{layer}
		if l.rnd.IntN(2) == 0 {
			mandate["sectors"] = fundbridge.SectorsOf(layer)[:2]
		}
	}
	if l.rnd.IntN(4) == 0 { // a regional fund
		mandate["cities"] = []fundbridge.City{fundbridge.Cities[l.rnd.IntN(5)], fundbridge.Cities[5+l.rnd.IntN(5)]}
	}
	if f.typ == "guidance" {
		mandate["excluded_sectors"] = []fundbridge.Sector{"finance"}
	}
	return mandate
}

// startups signs up the startups over days 1 to 6, each filing a few
// patents.
func (l *loader) startups(ctx context.Context, sum *Summary) ([]*startup, error) {
	startups := make([]*startup, l.cfg.Startups)
	for k := range startups {
		l.day(1 + 5*float64(k)/float64(len(startups))) // sign-ups over days 1 to 6
		s, err := l.signUpStartup(ctx, k)
		if err != nil {
			return nil, err
		}
		startups[k] = s
		if err := l.filePatents(ctx, k, s, sum); err != nil {
			return nil, err
		}
	}
	return startups, nil
}

// signUpStartup signs up the k-th founder with a company of a stage,
// layer and city, and signs them in.
func (l *loader) signUpStartup(ctx context.Context, k int) (*startup, error) {
	stage := fundbridge.Stages[k%len(fundbridge.Stages)]
	layer := fundbridge.Layers[l.rnd.IntN(len(fundbridge.Layers))]
	sector := pick(l.rnd, fundbridge.SectorsOf(layer))
	city := fundbridge.Cities[l.rnd.IntN(5)]
	if l.rnd.IntN(3) == 0 {
		city = pick(l.rnd, fundbridge.Cities)
	}
	founded := 2026 - map[fundbridge.Stage]int{"seed": 1, "startup": 2, "growth": 4, "expansion": 6, "pre_ipo": 9}[stage] - l.rnd.IntN(2)
	email := fmt.Sprintf("founder%d.s%d@demo.fundbridge.cn", k, l.cfg.Seed)
	password := fmt.Sprintf("demo-founder-%d-%d", l.cfg.Seed, k)
	company := map[string]any{
		"name":       pick(l.rnd, companyWords) + pick(l.rnd, companyWords) + pick(l.rnd, companyKinds) + fmt.Sprintf(" %d", k),
		"uscc":       uscc(int(l.cfg.Seed%1000)*100000 + k),
		"city":       city,
		"layer":      layer,
		"sector":     sector,
		"founded_on": fmt.Sprintf("%d-%02d-%02d", founded, 1+l.rnd.IntN(12), 1+l.rnd.IntN(28)),
		"headcount":  map[fundbridge.Stage]int{"seed": 5, "startup": 20, "growth": 80, "expansion": 300, "pre_ipo": 900}[stage] + l.rnd.IntN(40),
		"stage":      stage,
	}
	err := l.call(ctx, "POST", "/api/v1/auth/signup", "", l.key("signup", k), map[string]any{
		"email": email, "password": password, "name": "Founder " + strconv.Itoa(k), "company": company}, nil)
	if err != nil && !isStatus(err, http.StatusConflict) { // 409: signed up by an earlier run
		return nil, err
	}
	tok, err := l.signIn(ctx, email, password)
	if err != nil {
		return nil, err
	}
	var me struct {
		User struct {
			OrgID string `json:"org_id"`
		} `json:"user"`
	}
	if err := l.call(ctx, "GET", "/api/v1/me", tok, "", nil, &me); err != nil {
		return nil, err
	}
	return &startup{token: tok, companyID: me.User.OrgID, stage: stage}, nil
}

// filePatents files one to three patents of the k-th startup s.
func (l *loader) filePatents(ctx context.Context, k int, s *startup, sum *Summary) error {
	for p := range 1 + l.rnd.IntN(3) {
		kind := []string{"invention", "utility_model", "design"}[l.rnd.IntN(3)]
		filed := 2014 + l.rnd.IntN(11)
		patent := map[string]any{
			"number":     patentNumber(filed, kind, k*10+p),
			"kind":       kind,
			"title":      pick(l.rnd, []string{"一种基于深度学习的图像识别方法", "多模态语音交互系统", "低功耗神经网络加速器", "自动驾驶路径规划装置", "医疗影像分割方法"}),
			"filed_on":   fmt.Sprintf("%d-%02d-15", filed, 1+l.rnd.IntN(12)),
			"granted_on": fmt.Sprintf("%d-06-30", filed+2),
			"holding":    pick(l.rnd, []string{"owner", "owner", "licensee"}),
		}
		if err := l.call(ctx, "POST", "/api/v1/companies/"+s.companyID+"/patents", s.token, l.key("patent", k, p), patent, nil); err != nil && !isStatus(err, http.StatusConflict) {
			return err
		}
		s.patents = append(s.patents, demoPatent{number: patent["number"].(string), kind: kind, filedOn: patent["filed_on"].(string), holding: patent["holding"].(string)})
		sum.Patents++
	}
	return nil
}

// applications has each startup apply once or twice over days 6 to 10;
// open are those left open for matching, lastPosition the log's position
// after the last submission (the matches are read after it).
func (l *loader) applications(ctx context.Context, startups []*startup, sum *Summary) (open []*application, lastPosition uint64, err error) {
	for k, s := range startups {
		l.day(6 + 4*float64(k)/float64(len(startups))) // applications over days 6 to 10
		for a := range 1 + boolInt(l.rnd.IntN(3) == 0) {
			app, position, err := l.apply(ctx, k, a, s, sum)
			if err != nil {
				return nil, 0, err
			}
			lastPosition = max(lastPosition, position)
			if app != nil {
				open = append(open, app)
			}
		}
	}
	return open, lastPosition, nil
}

// apply drafts the a-th application of the k-th startup s and gives it a
// fate: left a draft, withdrawn, rejected, expired, or left open (app).
// position is the log's after its submission, 0 for a draft.
func (l *loader) apply(ctx context.Context, k, a int, s *startup, sum *Summary) (app *application, position uint64, err error) {
	op := l.cfg.OperatorToken
	rng := amountByStage[s.stage]
	amount := l.between(rng[0], rng[1])
	instruments := []string{"equity"}
	switch l.rnd.IntN(6) {
	case 0:
		instruments = append(instruments, "venture_loan")
	case 1:
		instruments = append(instruments, "loan_plus_equity")
	case 2:
		instruments = append(instruments, "patent_insurance")
	}
	draft := map[string]any{
		"amount_requested":    yuan(amount),
		"instruments":         instruments,
		"use_of_funds":        pick(l.rnd, useOfFunds),
		"credit_data_consent": l.rnd.IntN(4) != 0,
	}
	if l.rnd.IntN(2) == 0 {
		draft["valuation_ask"] = yuan(amount * (4 + l.rnd.Int64N(6)))
	}
	var out struct {
		ApplicationID string `json:"application_id"`
		Status        string `json:"status"`
		Position      uint64 `json:"position"`
	}
	if err := l.call(ctx, "POST", "/api/v1/applications", s.token, l.key("app", k, a), draft, &out); err != nil {
		return nil, 0, err
	}
	app = &application{id: out.ApplicationID, startup: s, amount: amount}
	fate := l.rnd.IntN(100)
	if fate < 10 {
		sum.Applications["draft"]++
		return nil, 0, nil
	}
	path := "/api/v1/applications/" + app.id
	if err := l.call(ctx, "POST", path+"/submit", s.token, l.key("submit", k, a), map[string]any{}, &out); err != nil && !isStatus(err, http.StatusConflict) {
		return nil, 0, err
	}
	position = out.Position
	switch {
	case fate < 18:
		if err := l.call(ctx, "POST", path+"/withdraw", s.token, l.key("withdraw", k, a), map[string]any{"reason": "raised elsewhere"}, nil); err != nil && !isStatus(err, http.StatusConflict) {
			return nil, 0, err
		}
		sum.Applications["withdrawn"]++
	case fate < 23:
		if err := l.call(ctx, "POST", path+"/reject", op, l.key("reject", k, a), map[string]any{"reason": "incomplete financial statements"}, nil); err != nil && !isStatus(err, http.StatusConflict) {
			return nil, 0, err
		}
		sum.Applications["rejected"]++
	case fate < 28:
		if err := l.call(ctx, "POST", path+"/expire", op, l.key("expire", k, a), map[string]any{}, nil); err != nil && !isStatus(err, http.StatusConflict) {
			return nil, 0, err
		}
		sum.Applications["expired"]++
	default:
		return app, position, nil
	}
	return nil, position, nil
}

// pipelines moves deals through every step: each fund manager sources
// some of its fund's matches and takes each to a step of its own.
func (l *loader) pipelines(ctx context.Context, funds []*fund, open []*application, after uint64, sum *Summary) error {
	byID := map[string]*application{}
	for _, a := range open {
		byID[a.id] = a
	}
	funded := map[string]bool{}
	targets := []string{"sourced", "screening", "first_meeting", "due_diligence", "ic_review", "term_sheet", "accepted", "declined", "closed", "passed"}
	n := 0
	for j, f := range funds {
		l.day(10 + 4*float64(j)/float64(len(funds))) // each fund's pipeline over days 10 to 14
		existing, err := l.existingDeals(ctx, f, sum, funded)
		if err != nil {
			return err
		}
		if existing > 0 {
			n += existing
			continue
		}
		var matches struct {
			Items []struct {
				ApplicationID string `json:"application_id"`
			} `json:"items"`
		}
		q := url.Values{"limit": {"8"}, "after": {strconv.FormatUint(after, 10)}}
		if err := l.call(ctx, "GET", "/api/v1/funds/"+f.id+"/matches?"+q.Encode(), f.mgr.token, "", nil, &matches); err != nil {
			return err
		}
		for i, m := range matches.Items {
			app, ok := byID[m.ApplicationID]
			if !ok || funded[app.id] || i >= 4 {
				continue
			}
			target := targets[n%len(targets)]
			n++
			reached, err := l.dealTo(ctx, j, f, app, target, funded)
			if err != nil {
				return err
			}
			if reached {
				sum.Deals[target]++
			}
		}
	}
	sum.Applications["funded"] = len(funded)
	fmt.Fprintf(l.log, "demo: %d deals across the pipeline, %d funded\n", n, len(funded))
	return nil
}

// existingDeals counts f's deals into sum (and the closed ones into
// funded) and says how many there are. A fund with deals had its
// pipeline loaded by an earlier run: the board has moved on since, so
// sourcing again would add new deals.
func (l *loader) existingDeals(ctx context.Context, f *fund, sum *Summary, funded map[string]bool) (int, error) {
	var existing struct {
		Items []struct {
			DealID        string `json:"deal_id"`
			ApplicationID string `json:"application_id"`
			Step          string `json:"step"`
		} `json:"items"`
	}
	if err := l.call(ctx, "GET", "/api/v1/deals?fund_id="+f.id+"&limit=200", f.mgr.token, "", nil, &existing); err != nil {
		return 0, err
	}
	for _, d := range existing.Items {
		sum.Deals[d.Step]++
		if d.Step == "closed" {
			funded[d.ApplicationID] = true
		}
	}
	return len(existing.Items), nil
}

// dealTo sources a deal of f (the j-th fund) on app and takes it to
// target; reached is false when the product turned it down on the way
// (no longer a match, beyond the mandate or dry powder).
func (l *loader) dealTo(ctx context.Context, j int, f *fund, app *application, target string, funded map[string]bool) (reached bool, err error) {
	var deal struct {
		DealID string `json:"deal_id"`
	}
	if err := l.call(ctx, "POST", "/api/v1/deals", f.mgr.token, l.key("deal", j, app.id), map[string]any{"fund_id": f.id, "application_id": app.id}, &deal); err != nil {
		if isStatus(err, http.StatusUnprocessableEntity) {
			return false, nil // no longer a match: dry powder moved on
		}
		return false, err
	}
	path := "/api/v1/deals/" + deal.DealID
	step := func(name, suffix, token string, body map[string]any) error {
		err := l.call(ctx, "POST", path+suffix, token, l.key(name, deal.DealID), body, nil)
		if isStatus(err, http.StatusConflict) {
			return nil // an earlier run got here
		}
		return err
	}
	if err := advanceTo(target, f.mgr.token, step); err != nil {
		return false, err
	}
	switch target {
	case "passed":
		if err := step("pass", "/pass", f.mgr.token, map[string]any{"reason": "team too early for our mandate"}); err != nil {
			return false, err
		}
	case "term_sheet", "accepted", "declined", "closed":
		return termSheetTo(f, app, target, step, funded)
	}
	return true, nil
}

// dealStep posts one step of a deal (name keys it; suffix is its path
// under the deal's) as token.
type dealStep func(name, suffix, token string, body map[string]any) error

// advanceTo advances a sourced deal through screening to ic_review as far
// as target asks: a deal to be passed on goes as far as first_meeting, one
// to get a term sheet all the way.
func advanceTo(target, token string, step dealStep) error {
	order := []string{"screening", "first_meeting", "due_diligence", "ic_review"}
	reached := "sourced"
	for _, s := range order {
		if target == "sourced" || (target == s) {
			break
		}
		if target == "passed" && s == "due_diligence" {
			break
		}
		if err := step("advance-"+s, "/advance", token, map[string]any{"to": s}); err != nil {
			return err
		}
		reached = s
		if target == s {
			break
		}
	}
	if target == "screening" || target == "first_meeting" || target == "due_diligence" || target == "ic_review" {
		if reached != target {
			if err := step("advance-"+target, "/advance", token, map[string]any{"to": target}); err != nil {
				return err
			}
		}
	}
	return nil
}

// termSheetTo offers f's term sheet on app and takes it to target: left
// offered, declined, accepted or closed (then app is funded).
func termSheetTo(f *fund, app *application, target string, step dealStep, funded map[string]bool) (reached bool, err error) {
	// Ask for four fifths of the most the mandate allows:
	// pre-money = amount / ownership − amount, to the ten thousand.
	ownership := f.maxOwnership.Mul(decimal.New(8, -1))
	amount := decimal.NewFromInt(app.amount)
	pre := amount.Div(ownership).Sub(amount).Div(decimal.NewFromInt(10_000)).Ceil().IntPart() * 10_000
	if err := step("term-sheet", "/term-sheet", f.mgr.token, map[string]any{"amount": yuan(app.amount), "pre_money": yuan(pre)}); err != nil {
		if isStatus(err, http.StatusUnprocessableEntity) {
			return false, nil
		}
		return false, err
	}
	if target == "declined" {
		if err := step("decline", "/term-sheet/decline", app.startup.token, map[string]any{"reason": "valuation too low"}); err != nil {
			return false, err
		}
	}
	if target == "accepted" || target == "closed" {
		if err := step("accept", "/term-sheet/accept", app.startup.token, map[string]any{}); err != nil {
			return false, err
		}
	}
	if target == "closed" {
		if err := step("close", "/close", f.mgr.token, map[string]any{}); err != nil {
			if isStatus(err, http.StatusUnprocessableEntity) {
				return false, nil // beyond dry powder: the deal stays open
			}
			return false, err
		}
		funded[app.id] = true
	}
	return true, nil
}

func isStatus(err error, status int) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.Status == status
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// patentNumber makes a CN application number: year, kind digit, serial
// and the check digit (weights 2..9, 2..5 over the 12 digits, mod 11).
func patentNumber(year int, kind string, serial int) string {
	kindDigit := map[string]int{"invention": 1, "utility_model": 2, "design": 3}[kind]
	for ; ; serial++ {
		digits := fmt.Sprintf("%04d%d%07d", year, kindDigit, serial%10_000_000)
		weights := []int{2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5}
		s := 0
		for i, c := range digits {
			s += int(c-'0') * weights[i]
		}
		if check := s % 11; check < 10 {
			return fmt.Sprintf("CN%s.%d", digits, check)
		}
	}
}
