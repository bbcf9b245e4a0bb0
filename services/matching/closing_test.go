package matching

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/process"
)

// The closing process as given/when/then: its state from what it recorded,
// an input (the deal's event, a reply), and the decision it makes. The
// manager (services/process) runs the decisions; its own tests cover
// recording, resending and undoing.

func begun() Closing {
	return evolveClosing(Closing{}, ClosingBegun{DealID: testDeal, FundID: "f1", ApplicationID: "a1", CompanyID: "c1",
		Amount: yuanM(10), Ownership: decimal.RequireFromString("0.1666666667")})
}

func ok(step string) process.Reply {
	return process.Reply{ProcessID: "p1", Step: step, Result: json.RawMessage(`{}`)}
}

func refused(step, code, msg string) process.Reply {
	return process.Reply{ProcessID: "p1", Step: step, Refusal: &fundbridge.Error{Code: code, Message: msg}}
}

// sent is a decision's one command as "service op payload".
func sent(t *testing.T, d process.Decision) string {
	t.Helper()
	if len(d.Send) != 1 || d.Complete || d.Compensate != "" || d.Fail != "" {
		t.Fatalf("decision = %+v, want exactly one command", d)
	}
	c := d.Send[0]
	payload, err := json.Marshal(c.Payload)
	if err != nil {
		t.Fatal(err)
	}
	out := c.Step + " " + c.Service + " " + c.Op + " " + string(payload)
	if c.Undo != nil {
		undo, _ := json.Marshal(c.Undo.Payload)
		out += " | undo " + c.Undo.Service + " " + c.Undo.Op + " " + string(undo)
	}
	return out
}

func TestClosingStartsOnTheDealsEvent(t *testing.T) {
	started := closingStarted("p1")
	d := onClosingStarted(Closing{}, process.Observation{ProcessID: "p1", Event: events.Event{Type: started.EventType()}, Payload: started})
	if len(d.Record) != 1 {
		t.Fatalf("recorded %+v, want ClosingBegun", d.Record)
	}
	if got := evolveClosing(Closing{}, d.Record[0]); got.DealID != testDeal || !got.Amount.Equal(yuanM(10)) || got.CompanyID != "c1" {
		t.Errorf("state after begun = %+v", got)
	}
	want := `hold matching deal.hold_closing {"deal_id":"f1_a1","process":"p1"} | undo matching deal.abandon_closing {"deal_id":"f1_a1","process":"p1"}`
	if got := sent(t, d); got != want {
		t.Errorf("first step:\n got %s\nwant %s", got, want)
	}
	// The same event again (a replay) starts nothing twice.
	if d := onClosingStarted(begun(), process.Observation{ProcessID: "p1", Payload: started}); !d.Empty() {
		t.Errorf("second start = %+v", d)
	}
	if got := ClosingProcess().Route[started.EventType()](events.Event{}, started); got != "p1" {
		t.Errorf("routed to %q, want p1", got)
	}
}

func TestClosingStepsInOrder(t *testing.T) {
	for _, tc := range []struct{ after, want string }{
		{"hold", `reserve applications application.reserve {"application_id":"a1","deal_id":"f1_a1","fund_id":"f1"} | undo applications application.release_reservation {"application_id":"a1","deal_id":"f1_a1","reason":"the deal's closing did not complete"}`},
		{"reserve", `commit funds fund.commit {"fund_id":"f1","deal_id":"f1_a1","application_id":"a1","company_id":"c1","amount":"10000000.00"} | undo funds fund.release {"fund_id":"f1","deal_id":"f1_a1","reason":"the deal's closing did not complete"}`},
		{"commit", `fund applications application.mark_funded {"application_id":"a1","deal_id":"f1_a1","fund_id":"f1","instrument":"equity","amount":"10000000.00"}`},
		{"fund", `close matching deal.complete_closing {"deal_id":"f1_a1","process":"p1"}`},
	} {
		if got := sent(t, onClosingReply(begun(), ok(tc.after))); got != tc.want {
			t.Errorf("after %s:\n got %s\nwant %s", tc.after, got, tc.want)
		}
	}
	if d := onClosingReply(begun(), ok("close")); !d.Complete || len(d.Send) != 0 {
		t.Errorf("after close = %+v, want completed", d)
	}
}

func TestClosingRefusals(t *testing.T) {
	for _, tc := range []struct {
		step, code, msg string
		compensate      bool
		reason          string
	}{
		{"hold", fundbridge.ECONFLICT, "deal f1_a1 is not being closed by process p1", false, "the deal is no longer closing"},
		{"reserve", fundbridge.ECONFLICT, "application a1 is withdrawn: it cannot be funded", true, "the application cannot be reserved: application a1 is withdrawn"},
		{"commit", fundbridge.EUNPROCESSABLE, "commitment ¥10m exceeds dry powder ¥5m", true, "the fund cannot commit the capital: commitment ¥10m exceeds dry powder ¥5m"},
		{"fund", fundbridge.ECONFLICT, "application a1 is withdrawn", true, "the application cannot be marked funded"},
		{"close", fundbridge.ECONFLICT, "deal f1_a1 is not being closed by process p1", false, "the deal refused to close after it was funded"},
	} {
		d := onClosingReply(begun(), refused(tc.step, tc.code, tc.msg))
		reason := d.Fail
		if tc.compensate {
			reason = d.Compensate
		}
		if len(d.Send) != 0 || d.Complete || !strings.Contains(reason, tc.reason) {
			t.Errorf("%s refused: %+v; want to %s saying %q", tc.step, d, map[bool]string{true: "compensate", false: "fail"}[tc.compensate], tc.reason)
		}
	}
	// The first refusal is kept: its code is the close command's answer.
	s := evolveClosing(begun(), process.CommandRefused{Step: "commit", Code: fundbridge.EUNPROCESSABLE, Message: "dry"})
	s = evolveClosing(s, process.CommandRefused{Step: "undo_reserve", Code: fundbridge.ECONFLICT, Message: "later"})
	if s.Refusal == nil || s.Refusal.Code != fundbridge.EUNPROCESSABLE {
		t.Errorf("refusal = %+v, want the commit's", s.Refusal)
	}
}

func TestClosingProcessIDs(t *testing.T) {
	if got := closingProcessID("f1_a1", 9); got != "f1_a1-9" {
		t.Errorf("id = %q", got)
	}
	long := strings.Repeat("x", 150)
	if got := closingProcessID(long, 9); len(got) > 80 || !strings.HasSuffix(got, "-9") || got == closingProcessID(long+"y", 9) {
		t.Errorf("long id = %q", got)
	}
}
