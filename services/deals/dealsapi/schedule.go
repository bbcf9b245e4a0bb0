package dealsapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/fundbridge/fundbridge/services/deals/dealsapi/loan"
)

// ScheduleFixedV1 is the first shape of ScheduleFixed: every period
// written out, no terms. Read through upcastScheduleFixedV1.
const ScheduleFixedV1 = "loan.schedule_fixed.v1"

// ScheduleRules names the rules a v2 ScheduleFixed's periods are computed
// by: package loan's conventions (monthly rate = annual / 12, half-up to
// the fen, the last period takes what remains) and loan.DueDate. Code
// that computes a different schedule from the same terms must come with
// a new name, and the old rules stay to read the events that name them.
const ScheduleRules = "loan/2026-1"

// upcastScheduleFixedV1 reads a v1 event as v2: the same fields, the
// periods kept as written. A v1 event without periods cannot be read as
// a schedule, so it is refused here rather than folded as an empty one.
func upcastScheduleFixedV1(payload json.RawMessage) (json.RawMessage, error) {
	var v1 struct {
		Periods []json.RawMessage `json:"periods"`
	}
	if err := json.Unmarshal(payload, &v1); err != nil {
		return nil, err
	}
	if len(v1.Periods) == 0 {
		return nil, errors.New("a v1 schedule without periods")
	}
	return payload, nil
}

// Terms are what the schedule is computed from.
func (p ScheduleFixed) Terms() loan.Terms {
	return loan.Terms{Principal: p.Principal, AnnualRate: p.AnnualRate, Months: p.Months, Method: p.Method, InterestOnlyMonths: p.InterestOnlyMonths}
}

// Schedule is the fixed schedule's periods: as written in a v1 event, or
// computed from the terms by the rules the event names (about 1 ms for
// 360 months). The caller owns the slice.
func (p ScheduleFixed) Schedule() ([]ScheduledPeriod, error) {
	if len(p.Periods) > 0 {
		return p.Periods, nil
	}
	if p.Rules != ScheduleRules {
		return nil, fmt.Errorf("schedule of loan %s: unknown rules %q (this build computes %q)", p.LoanID, p.Rules, ScheduleRules)
	}
	s, err := loan.New(p.Terms())
	if err != nil {
		return nil, fmt.Errorf("schedule of loan %s: %w", p.LoanID, err)
	}
	return Scheduled(p.Start, s.Periods), nil
}

// FixSchedule is the v2 event fixing the schedule of terms from the day
// start, checked to compute.
func FixSchedule(loanID string, terms loan.Terms, start time.Time, undrawn []BankAmount) (ScheduleFixed, error) {
	if err := terms.Validate(); err != nil {
		return ScheduleFixed{}, fmt.Errorf("schedule of loan %s: %w", loanID, err)
	}
	return ScheduleFixed{LoanID: loanID, Principal: terms.Principal, Start: start, AnnualRate: terms.AnnualRate, Months: terms.Months,
		Method: terms.Method, InterestOnlyMonths: terms.InterestOnlyMonths, Rules: ScheduleRules, Undrawn: undrawn}, nil
}

// Scheduled dates periods from start: period n falls due n months later.
func Scheduled(start time.Time, periods []loan.Period) []ScheduledPeriod {
	out := make([]ScheduledPeriod, len(periods))
	for i, p := range periods {
		out[i] = ScheduledPeriod{Number: p.Number, Due: loan.DueDate(start, p.Number),
			Payment: p.Payment, Principal: p.Principal, Interest: p.Interest, Balance: p.Balance}
	}
	return out
}

// PeriodCount is how many periods the schedule has, without computing it.
func (p ScheduleFixed) PeriodCount() int {
	if len(p.Periods) > 0 {
		return len(p.Periods)
	}
	return p.Months
}

// UnmarshalJSON refuses a schedule that cannot be read — neither periods
// written out nor terms that compute by known rules — so a bad event is
// an error where it is decoded, not an empty schedule in a fold.
func (p *ScheduleFixed) UnmarshalJSON(data []byte) error {
	type plain ScheduleFixed // without this method
	var v plain
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	if len(v.Periods) == 0 {
		if v.Rules != ScheduleRules {
			return fmt.Errorf("schedule of loan %s: unknown rules %q (this build computes %q)", v.LoanID, v.Rules, ScheduleRules)
		}
		if err := ScheduleFixed(v).Terms().Validate(); err != nil {
			return fmt.Errorf("schedule of loan %s: %w", v.LoanID, err)
		}
	}
	*p = ScheduleFixed(v)
	return nil
}
