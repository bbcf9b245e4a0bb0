package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi/loan"
)

// runSchedule prints a loan's repayment schedule with the code the deals
// service uses, so a startup and a bank can check figures before they agree.
func runSchedule(_ context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("schedule", "fundbridge schedule --principal 1000000 --annual-rate 0.0435 --months 36 --method equal_installment [flags]", stderr)
	principal := f.string("principal", "", "amount lent in CNY, like 1000000 or 1250000.50")
	rate := f.string("annual-rate", "", `annual interest rate as a fraction, like 0.0435 for 4.35%; the monthly rate is a twelfth of it`)
	months := f.int("months", 0, fmt.Sprintf("tenor in months, 1 to %d", loan.MaxMonths))
	method := f.string("method", string(loan.EqualInstallment), "repayment method: equal_installment (等额本息), equal_principal (等额本金) or interest_only_bullet (先息后本)")
	interestOnly := f.int("interest-only-months", 0, "months at the start that pay interest only; fewer than --months")
	asJSON := f.bool("json", false, "print the schedule as JSON")
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return inputError("schedule: " + err.Error())
	}
	if f.NArg() > 0 {
		return inputError(fmt.Sprintf("schedule takes only flags, not %q", f.Arg(0)))
	}
	terms, err := scheduleTerms(*principal, *rate, *months, *method, *interestOnly)
	if err != nil {
		return err
	}
	s, err := loan.New(terms)
	if err != nil {
		return flagError(err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Terms loan.Terms `json:"terms"`
			loan.Schedule
		}{terms, s})
	}
	return printSchedule(stdout, s)
}

// scheduleTerms reads the flags into terms with the rules the schedule
// preview applies to its query, naming every bad flag at once.
func scheduleTerms(principal, rate string, months int, method string, interestOnly int) (loan.Terms, error) {
	q := dealsapi.PreviewSchedule{Principal: principal, AnnualRate: rate, Method: method}
	if months != 0 {
		q.Months = strconv.Itoa(months)
	}
	if interestOnly != 0 {
		q.InterestOnlyMonths = strconv.Itoa(interestOnly)
	}
	terms, err := q.Terms()
	if err != nil {
		return loan.Terms{}, flagError(err)
	}
	return terms, nil
}

// flagError rewrites the fields of a validation error as the flags that
// set them: "--annual-rate: 0.3 is outside (0, 0.24]".
func flagError(err error) error {
	fields := fundbridge.ErrorFields(err)
	if len(fields) == 0 {
		return err
	}
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = "--" + strings.ReplaceAll(f.Field, "_", "-") + ": " + f.Reason
	}
	return inputError("schedule: " + strings.Join(parts, "; "))
}

// inputError is bad input on the command line: its message is all a
// person needs, and it exits 2 like any usage error.
type inputError string

func (e inputError) Error() string        { return string(e) }
func (e inputError) Is(target error) bool { return target == errUsage }

func printSchedule(w io.Writer, s loan.Schedule) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "period\tpayment\tprincipal\tinterest\tbalance\t")
	for _, p := range s.Periods {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t\n", p.Number, p.Payment, p.Principal, p.Interest, p.Balance)
	}
	fmt.Fprintf(tw, "total\t%s\t%s\t%s\t\t\n", s.TotalPayment, s.Principal(), s.TotalInterest)
	return tw.Flush()
}
