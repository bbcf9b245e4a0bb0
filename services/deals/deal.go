package deals

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/fold"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
)

// DealBank is one bank in a deal's syndicate.
type DealBank struct {
	BankID    string                    `json:"bank_id"`
	Status    dealsapi.CommitmentStatus `json:"status"`
	Committed money.Amount              `json:"committed"`
	Allocated money.Amount              `json:"allocated"` // once the book closed
	Share     decimal.Decimal           `json:"share"`
	Reason    string                    `json:"reason,omitempty"` // why it declined
}

// Deal is a loan plus external direct investment deal in syndication. It
// is a value: evolve never writes into the slices it was given.
type Deal struct {
	dealsapi.DealProposed
	Status         dealsapi.DealStatus `json:"status"`
	Banks          []DealBank          `json:"banks"` // the lead first, then in order of invitation
	Committed      money.Amount        `json:"committed"`
	BookClosed     bool                `json:"book_closed"`
	Oversubscribed bool                `json:"oversubscribed"`
	EquityIn       bool                `json:"equity_in"`
	ProposedAt     time.Time           `json:"proposed_at"`
	UpdatedAt      time.Time           `json:"updated_at"`
	Version        uint64              `json:"version"`
}

func (d Deal) exists() bool { return d.DealID != "" }

func (d Deal) bank(id string) int {
	return slices.IndexFunc(d.Banks, func(b DealBank) bool { return b.BankID == id })
}

// DealFolds is the deal's fold, one step per event type.
func DealFolds() *fold.Evolve[Deal] {
	var f fold.Evolve[Deal]
	fold.Step(&f, func(_ Deal, e events.Event, p dealsapi.DealProposed) Deal {
		d := Deal{DealProposed: p, Status: dealsapi.StatusSyndicating, ProposedAt: e.RecordedAt,
			Banks: []DealBank{{BankID: p.LeadBankID, Status: dealsapi.CommitmentInvited}}}
		return d
	})
	fold.Step(&f, func(d Deal, e events.Event, p dealsapi.BankInvited) Deal {
		d.Banks = append(slices.Clip(d.Banks), DealBank{BankID: p.BankID, Status: dealsapi.CommitmentInvited})
		return d
	})
	fold.Step(&f, func(d Deal, e events.Event, p dealsapi.BankCommitted) Deal {
		d.Banks = d.withBank(p.BankID, func(b *DealBank) { b.Status, b.Committed = dealsapi.CommitmentCommitted, p.Amount })
		d.Committed = p.CommittedAfter
		return d
	})
	fold.Step(&f, func(d Deal, e events.Event, p dealsapi.BankDeclined) Deal {
		d.Banks = d.withBank(p.BankID, func(b *DealBank) { b.Status, b.Reason = dealsapi.CommitmentDeclined, p.Reason })
		return d
	})
	fold.Step(&f, func(d Deal, e events.Event, p dealsapi.BookClosed) Deal {
		d.Banks = slices.Clone(d.Banks)
		for _, al := range p.Allocations {
			if i := d.bank(al.BankID); i >= 0 {
				d.Banks[i].Status, d.Banks[i].Allocated, d.Banks[i].Share = dealsapi.CommitmentAllocated, al.Allocated, al.Share
			}
		}
		d.BookClosed, d.Oversubscribed = true, p.Oversubscribed
		return d
	})
	fold.Step(&f, func(d Deal, e events.Event, p dealsapi.EquityTrancheCommitted) Deal {
		d.EquityIn = true
		return d
	})
	fold.Step(&f, func(d Deal, e events.Event, p dealsapi.DealClosed) Deal {
		d.Status = dealsapi.StatusClosed
		return d
	})
	fold.Step(&f, func(d Deal, e events.Event, p dealsapi.DealExpired) Deal {
		d.Status = dealsapi.StatusExpired
		d.Banks = slices.Clone(d.Banks)
		for _, r := range p.Released {
			if i := d.bank(r.BankID); i >= 0 {
				d.Banks[i].Status = dealsapi.CommitmentReleased
			}
		}
		return d
	})
	f.Then(func(d Deal, e events.Event) Deal {
		d.Version, d.UpdatedAt = e.Version, e.RecordedAt
		return d
	})
	return &f
}

// withBank returns the banks with one changed, leaving d's slice alone.
func (d Deal) withBank(id string, change func(*DealBank)) []DealBank {
	banks := slices.Clone(d.Banks)
	if i := d.bank(id); i >= 0 {
		change(&banks[i])
	}
	return banks
}

// Application is what the deals service needs to know of the application
// a deal is proposed for (from the applications service, by the caller).
type Application struct {
	ID          string
	CompanyID   string
	Instruments []fundbridge.Instrument
}

// Proposal is what a proposal is checked against besides the command:
// the application, the org managing the equity fund, the lead bank.
type Proposal struct {
	Application    Application
	FundManagerOrg string
	LeadBank       Bank
	// WarrantHolder is the bank the warrant names, if it names a bank
	// (not the equity fund): not onboarded if it does not exist.
	WarrantHolder Bank
	// InsurerOnboarded says whether the insurer the risk sharing names is
	// one an operator onboarded.
	InsurerOnboarded bool
}

// decidePropose opens a deal: the lead bank, the fund's manager, an
// operator or the platform propose it for an application that asked for
// a loan plus equity.
func decidePropose(d Deal, a fundbridge.Actor, now time.Time, id string, cmd dealsapi.ProposeDeal, with Proposal) ([]events.Payload, error) {
	if err := requireRole(a, "propose loan plus equity deals", fundbridge.RoleBank, fundbridge.RoleFundManager, fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return nil, err
	}
	p, err := cmd.Proposal(id)
	if err != nil {
		return nil, err
	}
	switch {
	case a.Role == fundbridge.RoleBank && a.OrgID != p.LeadBankID:
		return nil, fundbridge.Errorf(fundbridge.EFORBIDDEN, "a bank proposes deals it leads; lead_bank_id is %s", p.LeadBankID)
	case a.Role == fundbridge.RoleFundManager && a.OrgID != with.FundManagerOrg:
		return nil, fundbridge.Errorf(fundbridge.EFORBIDDEN, "a fund manager proposes deals for its own funds; fund %s is not one of them", p.Equity.FundID)
	case d.exists():
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "deal %s is already proposed", d.DealID)
	case !with.LeadBank.exists():
		return nil, unprocessable("lead_bank_id", "bank %s is not onboarded", p.LeadBankID)
	case with.Application.ID != p.ApplicationID || with.Application.CompanyID != p.BorrowerID:
		return nil, unprocessable("application_id", "application %s is not an application of company %s", p.ApplicationID, p.BorrowerID)
	case !slices.Contains(with.Application.Instruments, fundbridge.InstrumentLoanPlusEquity):
		return nil, unprocessable("application_id", "application %s did not ask for %s", p.ApplicationID, fundbridge.InstrumentLoanPlusEquity)
	case !p.SyndicationDeadline.After(now):
		return nil, unprocessable("syndication_deadline", "the syndication deadline %s has already passed", p.SyndicationDeadline.Format(time.RFC3339))
	case p.Warrant != nil && !p.Warrant.ExerciseUntil.After(now):
		return nil, unprocessable("warrant.exercise_until", "the warrant's exercise window ended on %s", p.Warrant.ExerciseUntil.Format(time.DateOnly))
	case p.Warrant != nil && !with.knowsHolder(p.Warrant.HolderID, p.Equity.FundID):
		return nil, unprocessable("warrant.holder_id", "%s is neither an onboarded bank nor the equity fund %s: a warrant is held by one of them", p.Warrant.HolderID, p.Equity.FundID)
	case p.RiskSharing.InsurerID != "" && !with.InsurerOnboarded:
		return nil, unprocessable("risk_sharing.insurer_id", "no insurer %s: name an insurer an operator has onboarded", p.RiskSharing.InsurerID)
	}
	return []events.Payload{p}, nil
}

// knowsHolder reports whether a warrant's holder is the equity fund
// fundID (by its ID or its manager's org) or the onboarded bank looked up
// as WarrantHolder.
func (w Proposal) knowsHolder(holder, fundID string) bool {
	return holder == fundID || holder == w.FundManagerOrg || w.WarrantHolder.exists() && w.WarrantHolder.ID == holder
}

// decideInvite invites a bank into the syndicate: the lead bank or an
// operator, while the book is open. Inviting a bank again changes nothing.
func decideInvite(d Deal, a fundbridge.Actor, now time.Time, cmd dealsapi.InviteBank, invitee Bank) ([]events.Payload, error) {
	if err := requireRole(a, "invite banks", fundbridge.RoleBank, fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return nil, err
	}
	if err := cmd.Validate(); err != nil {
		return nil, err
	}
	if err := visibleTo(a, d, cmd.DealID); err != nil {
		return nil, err
	}
	if a.Role == fundbridge.RoleBank && a.OrgID != d.LeadBankID {
		return nil, fundbridge.Errorf(fundbridge.EFORBIDDEN, "only the lead bank %s invites banks", d.LeadBankID)
	}
	if err := open(d, now); err != nil {
		return nil, err
	}
	if d.bank(cmd.BankID) >= 0 {
		return nil, nil
	}
	if d.BookClosed {
		// Every fen of the loan is allocated: a bank invited now could
		// only sit in the syndicate, invited for ever.
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "the book of deal %s has closed at %s, all of it allocated: no bank can join it now", d.DealID, yuan(d.Loan.Principal))
	}
	if !invitee.exists() || invitee.ID != cmd.BankID {
		return nil, unprocessable("bank_id", "bank %s is not onboarded", cmd.BankID)
	}
	return []events.Payload{dealsapi.BankInvited{DealID: d.DealID, BankID: cmd.BankID}}, nil
}

// decideCommit commits an invited bank within its limits (bank is its
// state, loaded by the caller). The commitment that reaches the loan
// amount closes the book, scaled back pro rata when oversubscribed, and
// closes the deal if the equity tranche is in.
func decideCommit(d Deal, bank Bank, a fundbridge.Actor, now time.Time, cmd dealsapi.CommitToDeal) ([]events.Payload, error) {
	i, err := invited(d, a, now, cmd.DealID, cmd.BankID, "commit to deals", cmd.Validate)
	if err != nil {
		return nil, err
	}
	switch b := d.Banks[i]; {
	case d.BookClosed:
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "the book of deal %s has closed at %s", d.DealID, yuan(d.Loan.Principal))
	case b.Status == dealsapi.CommitmentCommitted:
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "bank %s has already committed %s to deal %s", b.BankID, yuan(b.Committed), d.DealID)
	case b.Status == dealsapi.CommitmentDeclined:
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "bank %s declined deal %s", b.BankID, d.DealID)
	case d.Sequence == dealsapi.EquityFirst && !d.EquityIn:
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "deal %s is equity first (先投后贷): banks commit once fund %s's tranche is in", d.DealID, d.Equity.FundID)
	case cmd.Amount.GreaterThan(d.Loan.Principal):
		return nil, unprocessable("amount", "commitment %s is more than the whole loan %s", yuan(cmd.Amount), yuan(d.Loan.Principal))
	case bank.ID != cmd.BankID:
		return nil, fmt.Errorf("decide commit: bank state %q given for bank %q", bank.ID, cmd.BankID)
	}
	if err := bank.CheckLimits(d.BorrowerID, cmd.Amount); err != nil {
		return nil, err
	}
	total := d.Committed.Add(cmd.Amount)
	out := []events.Payload{dealsapi.BankCommitted{DealID: d.DealID, BankID: cmd.BankID, Amount: cmd.Amount, CommittedAfter: total}}
	if total.LessThan(d.Loan.Principal) {
		return out, nil
	}
	closed, err := closeBook(d, cmd.BankID, cmd.Amount, total)
	if err != nil {
		return nil, err
	}
	out = append(out, closed)
	if d.EquityIn {
		out = append(out, dealsapi.DealClosed{DealID: d.DealID})
	}
	return out, nil
}

// closeBook allocates the loan among the committed banks, the last one
// committing amount: exactly the loan, scaled back pro rata (largest
// remainder, ties to the earlier commitment) when oversubscribed.
func closeBook(d Deal, lastBank string, amount, total money.Amount) (dealsapi.BookClosed, error) {
	var ids []string
	var committed []money.Amount
	for _, b := range d.Banks {
		if b.Status == dealsapi.CommitmentCommitted {
			ids, committed = append(ids, b.BankID), append(committed, b.Committed)
		}
	}
	ids, committed = append(ids, lastBank), append(committed, amount)
	allocated, err := money.ScaleBack(d.Loan.Principal, committed)
	if err != nil {
		return dealsapi.BookClosed{}, fmt.Errorf("close the book of deal %s: %w", d.DealID, err)
	}
	out := dealsapi.BookClosed{DealID: d.DealID, Committed: total, Oversubscribed: total.GreaterThan(d.Loan.Principal)}
	for k, id := range ids {
		out.Allocations = append(out.Allocations, dealsapi.Allocation{
			BankID: id, Committed: committed[k], Allocated: allocated[k], Share: allocated[k].Ratio(d.Loan.Principal),
		})
	}
	return out, nil
}

// decideDecline records an invited bank declining; declining again
// changes nothing, and a bank that committed must stay.
func decideDecline(d Deal, a fundbridge.Actor, now time.Time, cmd dealsapi.DeclineDeal) ([]events.Payload, error) {
	i, err := invited(d, a, now, cmd.DealID, cmd.BankID, "decline deals", cmd.Validate)
	if err != nil {
		return nil, err
	}
	switch d.Banks[i].Status {
	case dealsapi.CommitmentDeclined:
		return nil, nil
	case dealsapi.CommitmentCommitted:
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "bank %s has committed %s to deal %s and cannot decline it", cmd.BankID, yuan(d.Banks[i].Committed), d.DealID)
	case dealsapi.CommitmentAllocated:
		// The book has closed on this bank's part: without it the loan
		// would open short of its principal, and the bank's exposure for
		// the deal would never be settled.
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "the book of deal %s has closed with %s of the loan allocated to bank %s, which cannot decline it now", d.DealID, yuan(d.Banks[i].Allocated), cmd.BankID)
	}
	return []events.Payload{dealsapi.BankDeclined{DealID: d.DealID, BankID: cmd.BankID, Reason: strings.TrimSpace(cmd.Reason)}}, nil
}

// invited checks what committing and declining share: the bank acts for
// itself (operators and the platform for any), the deal is open and
// before its deadline, and the bank was invited. It returns the bank's
// index in the syndicate.
func invited(d Deal, a fundbridge.Actor, now time.Time, dealID, bankID, what string, validate func() error) (int, error) {
	if err := requireRole(a, what, fundbridge.RoleBank, fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return -1, err
	}
	if err := validate(); err != nil {
		return -1, err
	}
	if a.Role == fundbridge.RoleBank && a.OrgID != bankID {
		return -1, fundbridge.Errorf(fundbridge.EFORBIDDEN, "a bank acts for itself only, not for bank %s", bankID)
	}
	if err := visibleTo(a, d, dealID); err != nil {
		return -1, err
	}
	i := d.bank(bankID)
	if i < 0 {
		return -1, unprocessable("bank_id", "bank %s was not invited to deal %s", bankID, d.DealID)
	}
	if err := open(d, now); err != nil {
		return -1, err
	}
	return i, nil
}

// decideRecordEquity records the fund's tranche as committed (the
// platform, once the funds service committed it). The same record again
// changes nothing.
func decideRecordEquity(d Deal, a fundbridge.Actor, now time.Time, cmd dealsapi.RecordEquityCommitted) ([]events.Payload, error) {
	if err := platformOnly(a, "record equity commitments", cmd.Validate); err != nil {
		return nil, err
	}
	if !d.exists() {
		return nil, notFound("deal", cmd.DealID)
	}
	if cmd.FundID != d.Equity.FundID || !cmd.Amount.Equal(d.Equity.Amount) {
		return nil, unprocessable("amount", "deal %s's equity tranche is %s from fund %s, not %s from %s",
			d.DealID, yuan(d.Equity.Amount), d.Equity.FundID, yuan(cmd.Amount), cmd.FundID)
	}
	if d.EquityIn {
		return nil, nil
	}
	if err := open(d, now); err != nil {
		return nil, err
	}
	if d.Sequence == dealsapi.LoanFirst && !d.BookClosed {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "deal %s is loan first (先贷后投): the fund commits once the loan book has closed", d.DealID)
	}
	out := []events.Payload{dealsapi.EquityTrancheCommitted{DealID: d.DealID, FundID: d.Equity.FundID, Amount: d.Equity.Amount}}
	if d.BookClosed {
		out = append(out, dealsapi.DealClosed{DealID: d.DealID})
	}
	return out, nil
}

// decideExpire expires a deal still open at its deadline, releasing every
// bank's commitment and the equity tranche if it was in. The deadline
// firing again changes nothing.
func decideExpire(d Deal, a fundbridge.Actor, now time.Time, cmd dealsapi.DealRef) ([]events.Payload, error) {
	if err := platformOnly(a, "expire deals", cmd.Validate); err != nil {
		return nil, err
	}
	switch {
	case !d.exists():
		return nil, notFound("deal", cmd.DealID)
	case d.Status == dealsapi.StatusExpired:
		return nil, nil
	case d.Status == dealsapi.StatusClosed:
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "deal %s closed; it cannot expire", d.DealID)
	case now.Before(d.SyndicationDeadline):
		return nil, fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "deal %s is open until its deadline %s", d.DealID, d.SyndicationDeadline.Format(time.RFC3339))
	}
	expired := dealsapi.DealExpired{DealID: d.DealID, Released: []dealsapi.BankAmount{}}
	for _, b := range d.Banks {
		amount := b.Committed
		if d.BookClosed {
			amount = b.Allocated
		}
		if amount.IsPositive() {
			expired.Released = append(expired.Released, dealsapi.BankAmount{BankID: b.BankID, Amount: amount})
		}
	}
	if d.EquityIn {
		expired.EquityReleased = d.Equity.Amount
	}
	return []events.Payload{expired}, nil
}

// open refuses commands on a deal no longer syndicating or past its
// deadline.
func open(d Deal, now time.Time) error {
	switch {
	case d.Status != dealsapi.StatusSyndicating:
		return fundbridge.Errorf(fundbridge.ECONFLICT, "deal %s is %s", d.DealID, d.Status)
	case d.BookClosed && d.EquityIn:
		return fundbridge.Errorf(fundbridge.ECONFLICT, "deal %s has closed", d.DealID)
	case !now.Before(d.SyndicationDeadline):
		return fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "deal %s's syndication deadline passed at %s", d.DealID, d.SyndicationDeadline.Format(time.RFC3339))
	}
	return nil
}

// visibleTo answers not found for a deal that does not exist or that a
// bank was not invited to.
func visibleTo(a fundbridge.Actor, d Deal, id string) error {
	if !d.exists() || a.Role == fundbridge.RoleBank && d.bank(a.OrgID) < 0 {
		return notFound("deal", id)
	}
	return nil
}

// OpenLoan is the loan a closed deal opens, for the loan's stream.
func OpenLoan(d Deal) (dealsapi.LoanOpened, error) {
	if d.Status != dealsapi.StatusClosed {
		return dealsapi.LoanOpened{}, fundbridge.Errorf(fundbridge.ECONFLICT, "deal %s is %s, not closed", d.DealID, d.Status)
	}
	l := dealsapi.LoanOpened{
		LoanID: d.DealID, BorrowerID: d.BorrowerID, LeadBankID: d.LeadBankID, EquityFundID: d.Equity.FundID,
		Terms: d.Loan, RiskSharing: d.RiskSharing, Warrant: d.Warrant,
	}
	for _, b := range d.Banks {
		if b.Status == dealsapi.CommitmentAllocated && b.Allocated.IsPositive() {
			l.Banks = append(l.Banks, dealsapi.LoanBank{BankID: b.BankID, Commitment: b.Allocated, Share: b.Share})
		}
	}
	return l, nil
}

func unprocessable(field, format string, args ...any) error {
	e := fundbridge.Errorf(fundbridge.EUNPROCESSABLE, format, args...)
	e.Fields = []fundbridge.FieldError{{Field: field, Reason: e.Message}}
	return e
}
