package deals

import (
	"slices"
	"strconv"
	"time"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/process"
)

// A loan's arrears are watched by a process (services/process) from the
// schedule's fixing to the loan's end. For each period, a durable deadline
// (a JetStream message schedule, which survives restarts and fires once
// across instances) wakes the process the day after the due date; it
// then sends loan.record_arrears, whose decider records every period then
// unpaid as overdue with its days past due (and nothing for a period
// paid on time). A repayment clears arrears by itself: the loan's
// arrears are what is unpaid of periods past due, so paying them ends
// them (loan.arrears_cleared records it).
//
//	loan.schedule_fixed            remember the due dates; arm "arrears"
//	                               for the day after the first
//	loan.early_repayment_received  the periods after the one it paid
//	                               are recomputed: watch those instead
//	deadline fires                 check_<n>: loan.record_arrears, for
//	                               every period due by then; arm the next
//	loan.repaid, loan.defaulted    cancel; completed
//
// The operator's POST /loans/{id}/arrears stays as a manual override: the
// same decider, run at once.

// ArrearsName is the process's name: its instances live in the streams
// "process-loan_arrears-<loan id>".
const ArrearsName = "loan_arrears"

const arrearsDeadline = "arrears"

// Due is a period's due date, as the arrears process watches it.
type Due struct {
	Number int       `json:"period"`
	Due    time.Time `json:"due"`
}

// checkAt is when a period unpaid is in arrears: the start, in China, of
// the day after its due date.
func (d Due) checkAt() time.Time { return startOfDay(day(d.Due).AddDate(0, 0, 1)) }

// Arrears is the state of one loan's arrears watch.
type Arrears struct {
	LoanID string `json:"loan_id"`
	Dues   []Due  `json:"dues"` // not yet checked, in order
	Checks int    `json:"checks"`
}

// ArrearsWatched records the due dates to watch, replacing those watched
// from its first period on: at the schedule's fixing, and after an early
// repayment recomputed what remains.
type ArrearsWatched struct {
	LoanID string `json:"loan_id"`
	Dues   []Due  `json:"dues"`
}

func (ArrearsWatched) EventType() string { return "loan_arrears.watched.v1" }

// ArrearsChecked records a check: every watched period due before At was
// checked by it.
type ArrearsChecked struct {
	At time.Time `json:"at"`
}

func (ArrearsChecked) EventType() string { return "loan_arrears.checked.v1" }

// ArrearsProcessID is the instance watching loan id.
func ArrearsProcessID(loanID string) string { return processID(loanID) }

// ArrearsProcess is the definition the process manager runs.
func ArrearsProcess() process.Definition[Arrears] {
	route := func(id func(any) string) func(events.Event, any) string {
		return func(_ events.Event, p any) string { return processID(id(p)) }
	}
	return process.Definition[Arrears]{
		Name:    ArrearsName,
		Initial: func() Arrears { return Arrears{} },
		Evolve:  evolveArrears,
		Route: map[string]func(events.Event, any) string{
			dealsapi.ScheduleFixed{}.EventType():          route(func(p any) string { return p.(dealsapi.ScheduleFixed).LoanID }),
			dealsapi.EarlyRepaymentReceived{}.EventType(): route(func(p any) string { return p.(dealsapi.EarlyRepaymentReceived).LoanID }),
			dealsapi.LoanRepaid{}.EventType():             route(func(p any) string { return p.(dealsapi.LoanRepaid).LoanID }),
			dealsapi.LoanDefaulted{}.EventType():          route(func(p any) string { return p.(dealsapi.LoanDefaulted).LoanID }),
		},
		On:         onArrearsEvent,
		OnReply:    func(Arrears, process.Reply) process.Decision { return process.Decision{} },
		OnDeadline: onArrearsDeadline,
	}
}

func evolveArrears(s Arrears, p any) Arrears {
	switch p := p.(type) {
	case ArrearsWatched:
		s.LoanID = p.LoanID
		if len(p.Dues) == 0 {
			s.Dues = nil
			break
		}
		keep := slices.IndexFunc(s.Dues, func(d Due) bool { return d.Number >= p.Dues[0].Number })
		if keep < 0 {
			keep = len(s.Dues)
		}
		s.Dues = append(slices.Clone(s.Dues[:keep]), p.Dues...)
	case ArrearsChecked:
		k := slices.IndexFunc(s.Dues, func(d Due) bool { return d.checkAt().After(p.At) })
		if k < 0 {
			k = len(s.Dues)
		}
		s.Dues = s.Dues[k:]
		s.Checks++
	}
	return s
}

func dues(periods []dealsapi.ScheduledPeriod) []Due {
	out := make([]Due, len(periods))
	for i, p := range periods {
		out[i] = Due{Number: p.Number, Due: p.Due}
	}
	return out
}

// next arms the check of the first period still watched, if any.
func (s Arrears) next() []process.Deadline {
	if len(s.Dues) == 0 {
		return nil
	}
	return []process.Deadline{{Name: arrearsDeadline, At: s.Dues[0].checkAt()}}
}

func onArrearsEvent(s Arrears, in process.Observation) process.Decision {
	switch p := in.Payload.(type) {
	case dealsapi.ScheduleFixed:
		if s.LoanID != "" {
			return process.Decision{}
		}
		periods, _ := p.Schedule() // decoding refused one that does not compute
		w := ArrearsWatched{LoanID: p.LoanID, Dues: dues(periods)}
		return process.Decision{Record: []events.Payload{w}, Schedule: evolveArrears(s, w).next()}
	case dealsapi.EarlyRepaymentReceived:
		if s.LoanID == "" || len(p.Remaining) == 0 {
			return process.Decision{} // a full prepayment: loan.repaid follows in the same commit
		}
		w := ArrearsWatched{LoanID: p.LoanID, Dues: dues(p.Remaining)}
		return process.Decision{Record: []events.Payload{w}, Schedule: evolveArrears(s, w).next()}
	case dealsapi.LoanRepaid, dealsapi.LoanDefaulted:
		if s.LoanID == "" {
			return process.Decision{}
		}
		return process.Decision{Cancel: []string{arrearsDeadline}, Complete: true}
	}
	return process.Decision{}
}

// onArrearsDeadline checks every period due before the deadline's time
// with one command, then arms the next period's check: a loan whose
// deadlines fired late (the whole platform was down for weeks) catches
// up in one check.
func onArrearsDeadline(s Arrears, w process.Wake) process.Decision {
	if w.Name != arrearsDeadline || s.LoanID == "" {
		return process.Decision{}
	}
	checked := ArrearsChecked{At: w.At}
	return process.Decision{
		Record:   []events.Payload{checked},
		Send:     []process.Command{{Step: "check_" + strconv.Itoa(s.Checks+1), Service: Name, Op: dealsapi.OpRecordArrears, Payload: dealsapi.LoanRef{LoanID: s.LoanID}}},
		Schedule: evolveArrears(s, checked).next(),
	}
}
