package app_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/internal/natsauth"
	"github.com/fundbridge/fundbridge/services/funds"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// A stolen service key may publish only on its own aggregates' subjects,
// but it could file another service's event types there: funds writing
// application.funded into a fund stream. Such a commit is quarantined:
// the market does not count the money, and no view stops on it.
func TestAServiceCannotFileAnotherServicesEventsInItsStreams(t *testing.T) {
	p := start(t)
	startup, companyID := p.signUp(41, "growth")
	submit := func() (string, uint64) {
		d := p.do("POST", "/api/v1/applications", startup, map[string]any{"amount_requested": "1000000.00", "instruments": []string{"equity"}, "use_of_funds": "GPUs"})
		appID, _ := d.body["application_id"].(string)
		s := p.do("POST", "/api/v1/applications/"+appID+"/submit", startup, map[string]any{})
		if s.status != 200 {
			t.Fatalf("submit = %d %s", s.status, s.raw)
		}
		pos, _ := strconv.ParseUint(s.header.Get("Fundbridge-Position"), 10, 64)
		return appID, pos
	}
	appID, _ := submit()

	u := connectAs(t, p, funds.Name)
	forged := fmt.Sprintf(`{"id":"01KFORGEDCOMMIT00000000000","stream":"fund-forged","first":1,"recorded_at":"2026-01-01T00:00:00Z",`+
		`"actor":{"user":"made-up","role":"operator"},"events":[{"id":"01KFORGEDEVENT000000000000","type":"application.funded.v1",`+
		`"payload":{"application_id":%q,"deal_id":"x_%s","fund_id":"x","instrument":"equity","amount":"999999999.00","company_id":%q,`+
		`"stage":"growth","layer":"technology","sector":"computer_vision","city":"beijing"}},`+
		// One for an application that never was: before it was quarantined, it stopped the lifecycle view.
		`{"id":"01KFORGEDEVENT000000000001","type":"application.funded.v1","payload":{"application_id":"made-up","deal_id":"x_made-up","fund_id":"x",`+
		`"instrument":"equity","amount":"1.00","company_id":%q,"stage":"growth","layer":"technology","sector":"computer_vision","city":"beijing"}}]}`,
		appID, appID, companyID, companyID)
	if _, err := u.js.Publish(context.Background(), "fb.ev.fund.forged", []byte(forged)); err != nil {
		t.Fatalf("funds publishing on its own aggregate's subject: %v", err)
	}

	// What comes after the forged commit is still folded.
	_, pos := submit()
	after := "?after=" + strconv.FormatUint(pos, 10)
	m := p.do("GET", "/api/v1/views/market"+after, p.opToken, nil)
	if m.status != 200 {
		t.Fatalf("market = %d %s", m.status, m.raw)
	}
	total := m.body["items"].([]any)[0].(map[string]any)
	if total["applications"] != float64(2) || total["funded"] != float64(0) || total["amount_funded"] != "0.00" {
		t.Errorf("market total = applications %v, funded %v, amount funded %v; want 2, 0, 0.00",
			total["applications"], total["funded"], total["amount_funded"])
	}
	l := p.do("GET", "/api/v1/views/lifecycle-stages"+after, p.opToken, nil)
	if l.status != 200 {
		t.Fatalf("lifecycle view after the forged commit = %d %s", l.status, l.raw)
	}
	for _, it := range l.body["items"].([]any) {
		row := it.(map[string]any)
		if row["stage"] == "growth" && (row["submitted"] != float64(2) || row["funded"] != float64(0)) {
			t.Errorf("lifecycle growth row = submitted %v, funded %v; want 2, 0", row["submitted"], row["funded"])
		}
	}
	if a := p.do("GET", "/api/v1/applications/"+appID, startup, nil); a.body["status"] == "funded" {
		t.Errorf("the forged funding reached the application: %s", a.raw)
	}
}

// The gateway's key may send requests with any person's actor, and with
// its own system actor for sign-up and sign-in; not as a service: a
// stolen gateway key could otherwise release a fund's committed capital
// (fund.release, which only the system may call) and misstate its dry
// powder.
func TestTheGatewayKeyCannotActAsAService(t *testing.T) {
	p := start(t)
	ctx := context.Background()
	u := connectAs(t, p, natsauth.Gateway)
	release := `{"fund_id":"f1","deal_id":"f1_a1","reason":"forged"}`
	subject := svc.Subject("funds", fundsapi.OpRelease)
	if err := rawRequest(ctx, u.nc, subject, svc.SystemActor("matching"), release); fundbridge.ErrorCode(err) != fundbridge.EUNAUTHORIZED {
		t.Errorf("the gateway's key releasing capital as matching: %v, want unauthorized", err)
	}
	if err := rawRequest(ctx, u.nc, subject, svc.SystemActor(natsauth.Gateway), release); fundbridge.ErrorCode(err) != fundbridge.EFORBIDDEN {
		t.Errorf("the gateway's key releasing capital as itself: %v, want forbidden", err)
	}
	// What the gateway does as itself still works: sign-up and sign-in.
	startup, _ := p.signUp(42, "seed")
	if r := p.do("GET", "/api/v1/me", startup, nil); r.status != 200 {
		t.Errorf("signed up and in, /me = %d %s", r.status, r.raw)
	}
}
