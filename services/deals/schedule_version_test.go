package deals

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi/loan"
)

// scheduleFixedV1 is the event as v1 wrote it: every period, no terms.
func scheduleFixedV1(t *testing.T, v2 dealsapi.ScheduleFixed) json.RawMessage {
	t.Helper()
	s, err := loan.New(v2.Terms())
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(struct {
		LoanID    string                     `json:"loan_id"`
		Principal string                     `json:"principal"`
		Start     time.Time                  `json:"start"`
		Periods   []dealsapi.ScheduledPeriod `json:"periods"`
		Undrawn   []dealsapi.BankAmount      `json:"undrawn,omitempty"`
	}{v2.LoanID, v2.Principal.String(), v2.Start, dealsapi.Scheduled(v2.Start, s.Periods), v2.Undrawn})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// foldAs folds opened, drawn and the schedule event of type typ written
// as data, all read through the registry as the repository reads them.
func foldAs(t *testing.T, reg *events.Registry, head []events.Payload, typ string, data json.RawMessage) Loan {
	t.Helper()
	l := replay(t, LoanFolds().Apply, head)
	e, p, err := reg.Decode(events.Event{Type: typ, StreamID: "loan-deal-1", Version: uint64(len(head) + 1), RecordedAt: now, Payload: data})
	if err != nil {
		t.Fatalf("decode %s: %v", typ, err)
	}
	return LoanFolds().Apply(l, e, p)
}

// A schedule fixed by a v1 event (periods written out) and by a v2 event
// (terms only, periods computed when folded) gives the same loan, for
// random terms, and the same loan again after it is repaid in part.
func TestScheduleFixedV1AndV2FoldAlike(t *testing.T) {
	reg := events.NewRegistry()
	dealsapi.Register(reg)
	r := rand.New(rand.NewPCG(2026, 2))
	var v1Bytes, v2Bytes int
	for n := range 150 {
		opened := randomLoan(r, 1+r.IntN(loan.MaxMonths))
		total := opened.Terms.Principal
		drawn := dealsapi.LoanDrawnDown{LoanID: opened.LoanID, Amount: total, DrawnAfter: total, UndrawnAfter: total.Sub(total)}
		for _, b := range opened.Banks {
			drawn.Banks = append(drawn.Banks, dealsapi.BankAmount{BankID: b.BankID, Amount: b.Commitment})
		}
		head := []events.Payload{opened, drawn}
		at := time.Date(2026, time.Month(1+r.IntN(12)), 1+r.IntN(31), r.IntN(24), 0, 0, 0, time.UTC)
		v2, err := fixSchedule(replay(t, LoanFolds().Apply, head), total, nil, at)
		if err != nil {
			t.Fatalf("loan %d: %v", n, err)
		}
		if len(v2.Periods) != 0 || v2.Rules != dealsapi.ScheduleRules {
			t.Fatalf("loan %d: a new schedule is written with %d periods and rules %q", n, len(v2.Periods), v2.Rules)
		}
		v2data, err := json.Marshal(v2)
		if err != nil {
			t.Fatal(err)
		}
		v1data := scheduleFixedV1(t, v2)
		v1Bytes, v2Bytes = v1Bytes+len(v1data), v2Bytes+len(v2data)

		a := foldAs(t, reg, head, dealsapi.ScheduleFixedV1, v1data)
		b := foldAs(t, reg, head, v2.EventType(), v2data)
		if len(a.Schedule) != opened.Terms.Months || !reflect.DeepEqual(a, b) {
			t.Fatalf("loan %d (%+v from %s): v1 folds to %s\nv2 folds to %s", n, opened.Terms, v2.Start, mustJSON(t, a), mustJSON(t, b))
		}
		// Repaying a few periods decides and folds alike too.
		var va, vb uint64 = 3, 3
		for k := 0; k < 3 && a.Status == dealsapi.StatusRepaying; k++ {
			in := a.Installment(a.Next)
			cmd := dealsapi.LoanAmount{LoanID: a.ID, Amount: in.owed()}
			outA, errA := decideRepay(a, borrower, in.Due, cmd)
			outB, errB := decideRepay(b, borrower, in.Due, cmd)
			if errA != nil || errB != nil || mustJSON(t, outA) != mustJSON(t, outB) {
				t.Fatalf("loan %d, repayment %d: v1 decides %s (%v), v2 %s (%v)", n, k+1, mustJSON(t, outA), errA, mustJSON(t, outB), errB)
			}
			a, b = apply(a, &va, in.Due, outA), apply(b, &vb, in.Due, outB)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("loan %d after repayment %d: v1 %s\nv2 %s", n, k+1, mustJSON(t, a), mustJSON(t, b))
			}
		}
	}
	t.Logf("schedule events: v1 %d bytes, v2 %d bytes on average", v1Bytes/150, v2Bytes/150)
}

// Only v2 is appended; v1 stays readable; an event that cannot give a
// schedule is refused when decoded, naming why.
func TestScheduleFixedVersions(t *testing.T) {
	reg := events.NewRegistry()
	dealsapi.Register(reg)
	if reg.Known(dealsapi.ScheduleFixedV1) || !reg.Readable(dealsapi.ScheduleFixedV1) || !reg.Known(dealsapi.ScheduleFixed{}.EventType()) {
		t.Fatalf("v1 appendable %v readable %v, v2 appendable %v", reg.Known(dealsapi.ScheduleFixedV1), reg.Readable(dealsapi.ScheduleFixedV1),
			reg.Known(dealsapi.ScheduleFixed{}.EventType()))
	}
	for _, c := range []struct{ name, typ, payload, want string }{
		{"a v1 event without periods", dealsapi.ScheduleFixedV1, `{"loan_id":"l1","principal":"100.00","start":"2026-03-01T00:00:00Z"}`,
			"a v1 schedule without periods"},
		{"rules this build does not know", "loan.schedule_fixed.v2",
			`{"loan_id":"l1","principal":"100.00","start":"2026-03-01T00:00:00Z","annual_rate":"0.05","months":12,"method":"equal_principal","rules":"loan/2099-1"}`,
			`unknown rules "loan/2099-1"`},
		{"terms that do not compute", "loan.schedule_fixed.v2",
			`{"loan_id":"l1","principal":"100.00","start":"2026-03-01T00:00:00Z","annual_rate":"0.05","months":400,"method":"equal_principal","rules":"` + dealsapi.ScheduleRules + `"}`,
			"months"},
	} {
		_, _, err := reg.Decode(events.Event{Type: c.typ, StreamID: "loan-l1", Version: 3, Payload: json.RawMessage(c.payload)})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: decoded with error %v, want one saying %q", c.name, err, c.want)
		}
	}
}
