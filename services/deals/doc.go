// Package deals is the deals service's domain: banks with their limits
// and lending programmes, loan plus external direct investment deals
// (贷款+外部直投) syndicated among banks, and the loans they service. Every
// decide function is pure: what it needs from elsewhere (a bank's state,
// the application, the time) is passed in; every evolve function folds
// one event into a new state without touching the old one.
//
// Three aggregates, each its own stream:
//   - bank-<bankID> (BankFolds): limits, programmes, and exposure
//     reserved and released per deal. Exposure is reserved on the bank's
//     stream so that two deals cannot both pass a limit only one fits
//     under; the deal's commit decider checks the same limits first, so a
//     refusal names the limit and the figures before anything is written.
//   - loan_deal-<dealID> (DealFolds): proposal, invitations, commitments
//     and declines, the book closing (scaled back pro rata when
//     oversubscribed), the equity tranche, and close or expiry.
//   - loan-<dealID> (LoanFolds): opened from the closed deal (OpenLoan);
//     drawdowns, the schedule fixed when the loan is fully drawn or drawing
//     ends, repayments, fees, arrears, early repayment, default, warrant.
//
// Commands answer at once and do what follows in their own handler
// (exposure reserved before a commitment and given back if the deal
// refuses it, scaled back when the book closes, the loan opened when the
// deal closes, exposure following the loan), so the caller's position
// covers it. Two processes on the process manager (services/process) make
// that certain after a crash and act where no command comes at all:
//   - syndication (process_syndication.go), one per deal: the syndication
//     deadline is a durable deadline; at it the deal expires and every
//     invited bank's exposure and the fund's tranche (fund.release) are
//     released; a closed book settles each bank to its allocation; a
//     closed deal opens its loan.
//   - loan_arrears (process_arrears.go), one per loan: a durable deadline
//     the day after each due date records what is then unpaid as overdue
//     (loan.record_arrears); repaying it records loan.arrears_cleared.
//
// A default records loan.defaulted and loan.loss_allocated: the loss as
// each party bears it, naming the banks, the fund and (if the proposal
// named one) the insurer, whose part is a claim on its guarantee cover.
package deals
