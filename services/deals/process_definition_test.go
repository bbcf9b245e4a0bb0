package deals

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/process"
)

// The syndication and arrears processes as given/when/then: the state
// folded from what they recorded, an input, the decision. The manager
// (services/process) runs decisions; process_test.go runs them over NATS.

// decided folds recorded payloads (and the commands a decision issues) into
// a process state, as the manager would.
func decided[S any](evolve func(S, any) S, s S, d process.Decision) S {
	for _, r := range d.Record {
		s = evolve(s, r)
	}
	for _, c := range d.Send {
		s = evolve(s, process.CommandIssued{CommandSpec: process.CommandSpec{Step: c.Step, Service: c.Service, Op: c.Op}})
	}
	return s
}

func sends(t *testing.T, d process.Decision) string {
	t.Helper()
	var out []string
	for _, c := range d.Send {
		payload, err := json.Marshal(c.Payload)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c.Step+" "+c.Service+" "+c.Op+" "+string(payload))
	}
	return strings.Join(out, "\n")
}

func observe(p events.Payload) process.Observation {
	return process.Observation{ProcessID: "d1", Event: events.Event{Type: p.EventType()}, Payload: p}
}

func TestSyndicationProcess(t *testing.T) {
	deadline := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	proposed := dealsapi.DealProposed{DealID: "d1", LeadBankID: "lead", Equity: dealsapi.EquityTranche{FundID: "f1"}, SyndicationDeadline: deadline}
	d := onSyndicationEvent(Syndication{}, observe(proposed))
	if len(d.Schedule) != 1 || d.Schedule[0].Name != "deadline" || !d.Schedule[0].At.Equal(deadline) || len(d.Send) != 0 {
		t.Fatalf("on proposal: %+v, want the deadline armed and nothing sent", d)
	}
	s := decided(evolveSyndication, Syndication{}, d)
	if d := onSyndicationEvent(s, observe(proposed)); !d.Empty() {
		t.Errorf("the proposal again: %+v", d)
	}
	s = decided(evolveSyndication, s, onSyndicationEvent(s, observe(dealsapi.BankInvited{DealID: "d1", BankID: "b2"})))
	if got := strings.Join(s.Banks, ","); got != "lead,b2" {
		t.Errorf("banks = %s", got)
	}

	t.Run("the book closes: each bank settled to its allocation", func(t *testing.T) {
		d := onSyndicationEvent(s, observe(dealsapi.BookClosed{DealID: "d1", Allocations: []dealsapi.Allocation{{BankID: "b2", Allocated: money.MustParse("4000000.00")}}}))
		want := `settle_0 deals bank.settle_exposure {"bank_id":"lead","deal_id":"d1","target":"0.00","reason":"scaled back as the book closed"}
settle_1 deals bank.settle_exposure {"bank_id":"b2","deal_id":"d1","target":"4000000.00","reason":"scaled back as the book closed"}`
		if got := sends(t, d); got != want {
			t.Errorf("sent\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("the deadline: expire; refused as closed, nothing; as early, again a second later", func(t *testing.T) {
		d := onSyndicationDeadline(s, process.Wake{Name: "deadline", At: deadline})
		if got := sends(t, d); got != `expire_1 deals deal.expire {"deal_id":"d1"}` {
			t.Errorf("sent %s", got)
		}
		s := decided(evolveSyndication, s, d)
		if d := onSyndicationReply(s, process.Reply{Step: "expire_1", Refusal: &fundbridge.Error{Code: fundbridge.ECONFLICT}}); !d.Empty() {
			t.Errorf("expire refused as closed: %+v", d)
		}
		at := deadline.Add(time.Second)
		d = onSyndicationReply(s, process.Reply{Step: "expire_1", At: at, Refusal: &fundbridge.Error{Code: fundbridge.EUNPROCESSABLE}})
		if len(d.Schedule) != 1 || !d.Schedule[0].At.Equal(at.Add(time.Second)) {
			t.Errorf("expire refused as early: %+v", d)
		}
	})
	t.Run("expired: every bank to zero and the fund's tranche back, then completed", func(t *testing.T) {
		d := onSyndicationEvent(s, observe(dealsapi.DealExpired{DealID: "d1"}))
		want := `release_0 deals bank.settle_exposure {"bank_id":"lead","deal_id":"d1","target":"0.00","reason":"the deal expired at its syndication deadline"}
release_1 deals bank.settle_exposure {"bank_id":"b2","deal_id":"d1","target":"0.00","reason":"the deal expired at its syndication deadline"}
release_equity funds fund.release {"fund_id":"f1","deal_id":"d1","reason":"the loan plus equity deal expired at its syndication deadline"}`
		if got := sends(t, d); got != want || len(d.Cancel) != 1 {
			t.Errorf("sent\n%s\nwant\n%s (cancel %v)", got, want, d.Cancel)
		}
		s := decided(evolveSyndication, s, d)
		for i, step := range []string{"release_0", "release_1", "release_equity"} {
			s = evolveSyndication(s, process.CommandSucceeded{Step: step})
			d := onSyndicationReply(s, process.Reply{Step: step})
			if d.Complete != (i == 2) {
				t.Errorf("after %s: complete = %v", step, d.Complete)
			}
		}
		if d := onSyndicationDeadline(s, process.Wake{Name: "deadline", At: deadline}); !d.Empty() {
			t.Errorf("a deadline after the expiry: %+v", d)
		}
	})
	t.Run("closed: the deadline cancelled, the loan opened, then completed", func(t *testing.T) {
		d := onSyndicationEvent(s, observe(dealsapi.DealClosed{DealID: "d1"}))
		if got := sends(t, d); got != `open_loan deals loan.open {"deal_id":"d1"}` || len(d.Cancel) != 1 {
			t.Errorf("sent %s, cancel %v", got, d.Cancel)
		}
		s := decided(evolveSyndication, s, d)
		s = evolveSyndication(s, process.CommandSucceeded{Step: "open_loan"})
		if d := onSyndicationReply(s, process.Reply{Step: "open_loan"}); !d.Complete {
			t.Errorf("after the loan opened: %+v", d)
		}
		if d := onSyndicationReply(s, process.Reply{Step: "open_loan", Refusal: &fundbridge.Error{Code: fundbridge.ECONFLICT, Message: "x"}}); d.Fail == "" {
			t.Errorf("a loan that does not open: %+v", d)
		}
	})
}

func TestArrearsProcess(t *testing.T) {
	due := func(m int) time.Time { return time.Date(2026, time.Month(m), 15, 0, 0, 0, 0, time.UTC) }
	dayAfter := func(m int) time.Time { return time.Date(2026, time.Month(m), 16, 0, 0, 0, 0, china) } // a China day
	fixed := dealsapi.ScheduleFixed{LoanID: "l1", Periods: []dealsapi.ScheduledPeriod{{Number: 1, Due: due(2)}, {Number: 2, Due: due(3)}, {Number: 3, Due: due(4)}}}
	d := onArrearsEvent(Arrears{}, observe(fixed))
	if len(d.Schedule) != 1 || !d.Schedule[0].At.Equal(dayAfter(2)) {
		t.Fatalf("on the schedule: %+v, want the day after the first due date begins in China", d)
	}
	s := decided(evolveArrears, Arrears{}, d)
	if d := onArrearsEvent(s, observe(fixed)); !d.Empty() {
		t.Errorf("the schedule again: %+v", d)
	}

	// Late: the firing for period 1 comes after period 2's date too; one
	// check covers both, and the next is period 3's.
	late := dayAfter(3)
	d = onArrearsDeadline(s, process.Wake{Name: "arrears", At: late})
	if got := sends(t, d); got != `check_1 deals loan.record_arrears {"loan_id":"l1"}` {
		t.Errorf("sent %s", got)
	}
	if len(d.Schedule) != 1 || !d.Schedule[0].At.Equal(dayAfter(4)) {
		t.Errorf("next check: %+v, want the day after period 3", d.Schedule)
	}
	s = decided(evolveArrears, s, d)

	// An early repayment recomputes periods from 3 on.
	early := dealsapi.EarlyRepaymentReceived{LoanID: "l1", Period: 2, Remaining: []dealsapi.ScheduledPeriod{{Number: 3, Due: due(5)}}}
	d = onArrearsEvent(s, observe(early))
	if len(d.Schedule) != 1 || !d.Schedule[0].At.Equal(dayAfter(5)) {
		t.Errorf("after an early repayment: %+v", d)
	}
	s = decided(evolveArrears, s, d)
	if d := onArrearsDeadline(s, process.Wake{Name: "arrears", At: dayAfter(5)}); !strings.HasPrefix(sends(t, d), "check_2 ") || len(d.Schedule) != 0 {
		t.Errorf("the last check: %+v", d)
	}
	for _, end := range []events.Payload{dealsapi.LoanRepaid{LoanID: "l1"}, dealsapi.LoanDefaulted{LoanID: "l1"}} {
		if d := onArrearsEvent(s, observe(end)); !d.Complete || len(d.Cancel) != 1 {
			t.Errorf("on %s: %+v", end.EventType(), d)
		}
	}
}
