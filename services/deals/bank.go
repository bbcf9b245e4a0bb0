package deals

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/fold"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
)

// Aggregate types: streams are "<type>-<id>".
const (
	BankAggregate = "bank"
	DealAggregate = "loan_deal"
	LoanAggregate = "loan"
)

// Exposure is what a bank carries for one deal: live commitment and
// outstanding principal together.
type Exposure struct {
	DealID     string       `json:"deal_id"`
	BorrowerID string       `json:"borrower_id"`
	Amount     money.Amount `json:"amount"`
}

// Bank is a bank in the programme. It is a value: evolve returns a new
// one and never writes into the slices of the one it was given.
type Bank struct {
	ID                  string               `json:"id"`
	Name                string               `json:"name"`
	CreditLimit         money.Amount         `json:"credit_limit"`
	SingleBorrowerLimit money.Amount         `json:"single_borrower_limit"`
	Programmes          []dealsapi.Programme `json:"programmes,omitempty"`
	Exposures           []Exposure           `json:"exposures,omitempty"` // by deal, in order of first reservation
	OnboardedAt         time.Time            `json:"onboarded_at"`
	UpdatedAt           time.Time            `json:"updated_at"`
	Version             uint64               `json:"version"`
}

func (b Bank) exists() bool { return b.ID != "" }

// Exposure is the sum of the bank's live commitments and outstanding
// principal over every deal.
func (b Bank) Exposure() money.Amount {
	sum := money.Zero
	for _, e := range b.Exposures {
		sum = sum.Add(e.Amount)
	}
	return sum
}

// BorrowerExposure is the bank's exposure to one company over its deals.
func (b Bank) BorrowerExposure(borrowerID string) money.Amount {
	sum := money.Zero
	for _, e := range b.Exposures {
		if e.BorrowerID == borrowerID {
			sum = sum.Add(e.Amount)
		}
	}
	return sum
}

// DealExposure is the bank's exposure in one deal.
func (b Bank) DealExposure(dealID string) money.Amount {
	if i := b.exposure(dealID); i >= 0 {
		return b.Exposures[i].Amount
	}
	return money.Zero
}

func (b Bank) exposure(dealID string) int {
	return slices.IndexFunc(b.Exposures, func(e Exposure) bool { return e.DealID == dealID })
}

// BankFolds is the bank's fold, one step per event type.
func BankFolds() *fold.Evolve[Bank] {
	var f fold.Evolve[Bank]
	fold.Step(&f, func(_ Bank, e events.Event, p dealsapi.BankOnboarded) Bank {
		b := Bank{ID: p.BankID, Name: p.Name, CreditLimit: p.CreditLimit, SingleBorrowerLimit: p.SingleBorrowerLimit, OnboardedAt: e.RecordedAt}
		return b
	})
	fold.Step(&f, func(b Bank, e events.Event, p dealsapi.BankLimitsChanged) Bank {
		b.CreditLimit, b.SingleBorrowerLimit = p.CreditLimit, p.SingleBorrowerLimit
		return b
	})
	fold.Step(&f, func(b Bank, e events.Event, p dealsapi.ProgrammePublished) Bank {
		i := slices.IndexFunc(b.Programmes, func(q dealsapi.Programme) bool { return q.ProgrammeID == p.ProgrammeID })
		b.Programmes = slices.Clone(b.Programmes)
		if i >= 0 {
			b.Programmes[i] = p.Programme
		} else {
			b.Programmes = append(b.Programmes, p.Programme)
		}
		return b
	})
	fold.Step(&f, func(b Bank, e events.Event, p dealsapi.ProgrammeWithdrawn) Bank {
		b.Programmes = slices.DeleteFunc(slices.Clone(b.Programmes), func(q dealsapi.Programme) bool { return q.ProgrammeID == p.ProgrammeID })
		return b
	})
	fold.Step(&f, func(b Bank, e events.Event, p dealsapi.ExposureReserved) Bank {
		b.Exposures = slices.Clone(b.Exposures)
		if i := b.exposure(p.DealID); i >= 0 {
			b.Exposures[i].Amount = b.Exposures[i].Amount.Add(p.Amount)
		} else {
			b.Exposures = append(b.Exposures, Exposure{DealID: p.DealID, BorrowerID: p.BorrowerID, Amount: p.Amount})
		}
		return b
	})
	fold.Step(&f, func(b Bank, e events.Event, p dealsapi.ExposureReleased) Bank {
		if i := b.exposure(p.DealID); i >= 0 {
			b.Exposures = slices.Clone(b.Exposures)
			b.Exposures[i].Amount = b.Exposures[i].Amount.Sub(p.Amount)
			if b.Exposures[i].Amount.IsZero() {
				b.Exposures = slices.Delete(b.Exposures, i, i+1)
			}
		}
		return b
	})
	f.Then(func(b Bank, e events.Event) Bank {
		b.Version, b.UpdatedAt = e.Version, e.RecordedAt
		return b
	})
	return &f
}

// LimitError refuses exposure beyond one of a bank's limits, with the
// figures a credit officer needs to see why.
type LimitError struct {
	BankID   string
	Limit    string // "credit limit" or "single-borrower limit"
	Amount   money.Amount
	Exposure money.Amount // before the commitment
	Max      money.Amount
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("commitment %s would take bank %s's exposure to %s, above its %s of %s (%s already used)",
		yuan(e.Amount), e.BankID, yuan(e.Exposure.Add(e.Amount)), e.Limit, yuan(e.Max), yuan(e.Exposure))
}
func (e *LimitError) ErrorCode() string { return fundbridge.EUNPROCESSABLE }

// ErrorFields names the amount, with what would still fit.
func (e *LimitError) ErrorFields() []fundbridge.FieldError {
	room := e.Max.Sub(e.Exposure)
	if room.IsNegative() { // a limit lowered below the exposure
		room = money.Zero
	}
	return []fundbridge.FieldError{{Field: "amount", Reason: fmt.Sprintf("is above what bank %s's %s leaves: at most %s", e.BankID, e.Limit, yuan(room))}}
}

// CheckLimits refuses amount more exposure to the borrower beyond either
// of the bank's limits.
func (b Bank) CheckLimits(borrowerID string, amount money.Amount) error {
	if total := b.Exposure(); total.Add(amount).GreaterThan(b.CreditLimit) {
		return &LimitError{BankID: b.ID, Limit: "credit limit", Amount: amount, Exposure: total, Max: b.CreditLimit}
	}
	if one := b.BorrowerExposure(borrowerID); one.Add(amount).GreaterThan(b.SingleBorrowerLimit) {
		return &LimitError{BankID: b.ID, Limit: "single-borrower limit", Amount: amount, Exposure: one, Max: b.SingleBorrowerLimit}
	}
	return nil
}

// yuan writes an amount exactly, with thousands separators: limit
// refusals are read by credit officers, who need the fen.
func yuan(a money.Amount) string { return a.Exact() }

// DecideOnboardBank adds a bank (operators and the platform).
func DecideOnboardBank(b Bank, a fundbridge.Actor, cmd dealsapi.OnboardBank) ([]events.Payload, error) {
	if err := platformOnly(a, "onboard banks", cmd.Validate); err != nil {
		return nil, err
	}
	if b.exists() {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "bank %s is already onboarded", b.ID)
	}
	return []events.Payload{dealsapi.BankOnboarded{
		BankID: cmd.BankID, Name: strings.TrimSpace(cmd.Name), CreditLimit: cmd.CreditLimit, SingleBorrowerLimit: cmd.SingleBorrowerLimit,
	}}, nil
}

// DecideSetBankLimits changes a bank's limits (operators and the platform).
func DecideSetBankLimits(b Bank, a fundbridge.Actor, cmd dealsapi.SetBankLimits) ([]events.Payload, error) {
	if err := platformOnly(a, "set bank limits", cmd.Validate); err != nil {
		return nil, err
	}
	if !b.exists() {
		return nil, notFound("bank", cmd.BankID)
	}
	if b.CreditLimit.Equal(cmd.CreditLimit) && b.SingleBorrowerLimit.Equal(cmd.SingleBorrowerLimit) {
		return nil, nil
	}
	return []events.Payload{dealsapi.BankLimitsChanged{BankID: b.ID, CreditLimit: cmd.CreditLimit, SingleBorrowerLimit: cmd.SingleBorrowerLimit}}, nil
}

// DecidePublishProgramme publishes or replaces a programme: the bank for
// itself, or an operator.
func DecidePublishProgramme(b Bank, a fundbridge.Actor, cmd dealsapi.PublishProgramme) ([]events.Payload, error) {
	if err := authorizeBank(a, b, cmd.BankID, "publish lending programmes"); err != nil {
		return nil, err
	}
	if err := cmd.Validate(); err != nil {
		return nil, err
	}
	if cmd.LoanMax.GreaterThan(b.SingleBorrowerLimit) {
		e := fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "loan maximum %s is above the bank's single-borrower limit %s", yuan(cmd.LoanMax), yuan(b.SingleBorrowerLimit))
		e.Fields = []fundbridge.FieldError{{Field: "loan_max", Reason: "above the single-borrower limit " + b.SingleBorrowerLimit.String()}}
		return nil, e
	}
	return []events.Payload{dealsapi.ProgrammePublished{BankID: b.ID, Programme: cmd.Programme}}, nil
}

// DecideWithdrawProgramme withdraws a programme; withdrawing one that is
// not published changes nothing.
func DecideWithdrawProgramme(b Bank, a fundbridge.Actor, cmd dealsapi.WithdrawProgramme) ([]events.Payload, error) {
	if err := authorizeBank(a, b, cmd.BankID, "withdraw lending programmes"); err != nil {
		return nil, err
	}
	if err := cmd.Validate(); err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(b.Programmes, func(p dealsapi.Programme) bool { return p.ProgrammeID == cmd.ProgrammeID }) {
		return nil, nil
	}
	return []events.Payload{dealsapi.ProgrammeWithdrawn{BankID: b.ID, ProgrammeID: cmd.ProgrammeID}}, nil
}

// DecideReserveExposure takes on exposure for a deal within both limits
// (the platform, as a bank commits). On the bank's own stream, two deals
// cannot both pass a limit that only one fits under.
func DecideReserveExposure(b Bank, a fundbridge.Actor, cmd dealsapi.ReserveExposure) ([]events.Payload, error) {
	if err := platformOnly(a, "reserve bank exposure", cmd.Validate); err != nil {
		return nil, err
	}
	if !b.exists() {
		return nil, notFound("bank", cmd.BankID)
	}
	if i := b.exposure(cmd.DealID); i >= 0 && b.Exposures[i].BorrowerID != cmd.BorrowerID {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "deal %s is a loan to %s, not %s", cmd.DealID, b.Exposures[i].BorrowerID, cmd.BorrowerID)
	}
	if err := b.CheckLimits(cmd.BorrowerID, cmd.Amount); err != nil {
		return nil, err
	}
	return []events.Payload{dealsapi.ExposureReserved{
		BankID: b.ID, DealID: cmd.DealID, BorrowerID: cmd.BorrowerID, Amount: cmd.Amount,
		ExposureAfter: b.Exposure().Add(cmd.Amount), BorrowerExposureAfter: b.BorrowerExposure(cmd.BorrowerID).Add(cmd.Amount),
	}}, nil
}

// DecideReleaseExposure gives back exposure the bank carries for a deal.
func DecideReleaseExposure(b Bank, a fundbridge.Actor, cmd dealsapi.ReleaseExposure) ([]events.Payload, error) {
	if err := platformOnly(a, "release bank exposure", cmd.Validate); err != nil {
		return nil, err
	}
	if !b.exists() {
		return nil, notFound("bank", cmd.BankID)
	}
	if held := b.DealExposure(cmd.DealID); cmd.Amount.GreaterThan(held) {
		return nil, fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "cannot release %s for deal %s: bank %s carries only %s there", yuan(cmd.Amount), cmd.DealID, b.ID, yuan(held))
	}
	return []events.Payload{dealsapi.ExposureReleased{
		BankID: b.ID, DealID: cmd.DealID, Amount: cmd.Amount, Reason: strings.TrimSpace(cmd.Reason), ExposureAfter: b.Exposure().Sub(cmd.Amount),
	}}, nil
}

// authorizeBank lets a bank act for itself and operators for any bank;
// to another bank this one does not exist.
func authorizeBank(a fundbridge.Actor, b Bank, id, what string) error {
	if err := requireRole(a, what, fundbridge.RoleBank, fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return err
	}
	if !b.exists() || a.Role == fundbridge.RoleBank && a.OrgID != b.ID {
		return notFound("bank", id)
	}
	return nil
}

func requireRole(a fundbridge.Actor, what string, roles ...fundbridge.Role) error {
	if !slices.Contains(roles, a.Role) {
		return fundbridge.Errorf(fundbridge.EFORBIDDEN, "%s may not %s", fundbridge.Article(a.Role), what)
	}
	if a.Role != fundbridge.RoleOperator && a.Role != fundbridge.RoleSystem && a.OrgID == "" {
		return fundbridge.Errorf(fundbridge.EFORBIDDEN, "%s without an org may not %s", fundbridge.Article(a.Role), what)
	}
	return nil
}

// platformOnly checks a command only operators and the platform send:
// sagas, deadlines and back-office corrections.
func platformOnly(a fundbridge.Actor, what string, validate func() error) error {
	if err := requireRole(a, what, fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return err
	}
	return validate()
}

// notFound answers both for what does not exist and for what the actor
// may not see, so that existence is not revealed.
func notFound(what, id string) error {
	return fundbridge.Errorf(fundbridge.ENOTFOUND, "no %s %s", what, id)
}
