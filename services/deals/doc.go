// Package deals is the deals service's domain: banks with their limits
// and lending programmes, loan plus external direct investment deals
// (贷款+外部直投) syndicated among banks, and the loans they service. Every
// decide function is pure: what it needs from elsewhere (a bank's state,
// the application, the time) is passed in; every evolve function folds
// one event into a new state without touching the old one.
//
// Three aggregates, each its own stream:
//   - bank-<bankID> (EvolveBank): limits, programmes, and exposure
//     reserved and released per deal. Exposure is reserved on the bank's
//     stream so that two deals cannot both pass a limit only one fits
//     under; the deal's commit decider checks the same limits first, so a
//     refusal names the limit and the figures before anything is written.
//   - loan_deal-<dealID> (EvolveDeal): proposal, invitations, commitments
//     and declines, the book closing (scaled back pro rata when
//     oversubscribed), the equity tranche, and close or expiry.
//   - loan-<dealID> (EvolveLoan): opened from the closed deal (OpenLoan);
//     drawdowns, the schedule fixed when the loan is fully drawn or drawing
//     ends, repayments, fees, arrears, early repayment, default, warrant.
//
// What the syndication process does with these (on the process manager):
//   - bank.commit: decideCommit on the deal (limits checked against the
//     bank's state), then ReserveExposure on the bank; if the reservation
//     is refused because another deal took the room meanwhile, the
//     process answers with the bank's LimitError and appends nothing to
//     the deal (reserve first, then record, releasing on failure).
//   - loan_deal.book_closed: release each bank's committed − allocated.
//   - loan_deal.bank_committed for an equity-first deal, or book_closed
//     for loan-first: ask the funds service to commit the tranche, then
//     RecordEquityCommitted.
//   - loan_deal.proposed: a durable deadline at syndication_deadline that
//     sends ExpireDeal; loan_deal.expired: release every bank's exposure
//     and the fund's tranche.
//   - loan_deal.closed: decideOpenLoan.
//   - loan.schedule_fixed: a durable deadline the day after each due date
//     that sends RecordArrears; release each bank's undrawn commitment.
//   - loan.repayment_received / early_repayment_received: release each
//     bank's principal repaid. loan.defaulted: release what is written
//     off; the insurer's share becomes a claim on the guarantee cover.
package deals
