package deals

import (
	"testing"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
)

func TestBankDeciders(t *testing.T) {
	b := onboarded("bank-b", "100000000", "30000000")
	reserved := func(deal, borrower, amount, after, borrowerAfter string) dealsapi.ExposureReserved {
		return dealsapi.ExposureReserved{BankID: "bank-b", DealID: deal, BorrowerID: borrower, Amount: amt(amount), ExposureAfter: amt(after), BorrowerExposureAfter: amt(borrowerAfter)}
	}
	reserve := func(deal, borrower, amount string) func(Bank) ([]events.Payload, error) {
		return func(s Bank) ([]events.Payload, error) {
			return DecideReserveExposure(s, platform, dealsapi.ReserveExposure{BankID: "bank-b", DealID: deal, BorrowerID: borrower, Amount: amt(amount)})
		}
	}
	programme := dealsapi.Programme{ProgrammeID: "tech-loans", Name: "Tech loans", Stages: []fundbridge.Stage{fundbridge.StageGrowth},
		LoanMin: amt("1000000"), LoanMax: amt("20000000"), MaxMonths: 60, RequiresEquityPartner: true, NeedsCreditConsent: true}
	check(t, BankFolds().Apply, []scenario[Bank]{
		{name: "an operator onboards a bank",
			when: func(s Bank) ([]events.Payload, error) {
				return DecideOnboardBank(s, operator, dealsapi.OnboardBank{BankID: "bank-b", Name: " Bank bank-b ", CreditLimit: amt("100000000"), SingleBorrowerLimit: amt("30000000")})
			},
			then: []events.Payload{b}},
		{name: "a bank cannot onboard itself",
			when: func(s Bank) ([]events.Payload, error) {
				return DecideOnboardBank(s, bankB, dealsapi.OnboardBank{BankID: "bank-b", Name: "B", CreditLimit: amt("1"), SingleBorrowerLimit: amt("1")})
			},
			code: fundbridge.EFORBIDDEN},
		{name: "a single-borrower limit above the credit limit is refused",
			when: func(s Bank) ([]events.Payload, error) {
				return DecideOnboardBank(s, operator, dealsapi.OnboardBank{BankID: "bank-b", Name: "B", CreditLimit: amt("10"), SingleBorrowerLimit: amt("20")})
			},
			code: fundbridge.EINVALID, field: "single_borrower_limit"},
		{name: "onboarding twice is refused", given: []events.Payload{b},
			when: func(s Bank) ([]events.Payload, error) {
				return DecideOnboardBank(s, operator, dealsapi.OnboardBank{BankID: "bank-b", Name: "B", CreditLimit: amt("10"), SingleBorrowerLimit: amt("10")})
			},
			code: fundbridge.ECONFLICT},
		{name: "exposure within both limits is reserved", given: []events.Payload{b, reserved("deal-0", "co-9", "50000000", "50000000", "50000000")},
			when: reserve("deal-1", "co-1", "30000000"),
			then: []events.Payload{reserved("deal-1", "co-1", "30000000", "80000000", "30000000")}},
		{name: "over the credit limit", given: []events.Payload{b, reserved("deal-0", "co-9", "80000000", "80000000", "80000000")},
			when: reserve("deal-1", "co-1", "30000000"), code: fundbridge.EUNPROCESSABLE, field: "amount",
			msg: "commitment ¥30,000,000.00 would take bank bank-b's exposure to ¥110,000,000.00, above its credit limit of ¥100,000,000.00 (¥80,000,000.00 already used)"},
		{name: "over the single-borrower limit", given: []events.Payload{b, reserved("deal-0", "co-1", "20000000", "20000000", "20000000")},
			when: reserve("deal-1", "co-1", "10000000.01"), code: fundbridge.EUNPROCESSABLE, field: "amount",
			msg: "commitment ¥10,000,000.01 would take bank bank-b's exposure to ¥30,000,000.01, above its single-borrower limit of ¥30,000,000.00 (¥20,000,000.00 already used)"},
		{name: "released exposure makes room again", given: []events.Payload{b, reserved("deal-0", "co-1", "20000000", "20000000", "20000000"),
			dealsapi.ExposureReleased{BankID: "bank-b", DealID: "deal-0", Amount: amt("5000000"), Reason: "principal repaid", ExposureAfter: amt("15000000")}},
			when: reserve("deal-1", "co-1", "15000000"),
			then: []events.Payload{reserved("deal-1", "co-1", "15000000", "30000000", "30000000")}},
		{name: "releasing more than the deal holds is refused", given: []events.Payload{b, reserved("deal-0", "co-1", "20000000", "20000000", "20000000")},
			when: func(s Bank) ([]events.Payload, error) {
				return DecideReleaseExposure(s, platform, dealsapi.ReleaseExposure{BankID: "bank-b", DealID: "deal-0", Amount: amt("20000000.01"), Reason: "expired"})
			},
			code: fundbridge.EUNPROCESSABLE},
		{name: "a bank publishes a programme", given: []events.Payload{b},
			when: func(s Bank) ([]events.Payload, error) {
				return DecidePublishProgramme(s, bankB, dealsapi.PublishProgramme{BankID: "bank-b", Programme: programme})
			},
			then: []events.Payload{dealsapi.ProgrammePublished{BankID: "bank-b", Programme: programme}}},
		{name: "a programme lending beyond the single-borrower limit is refused", given: []events.Payload{b},
			when: func(s Bank) ([]events.Payload, error) {
				p := programme
				p.LoanMax = amt("30000000.01")
				return DecidePublishProgramme(s, bankB, dealsapi.PublishProgramme{BankID: "bank-b", Programme: p})
			},
			code: fundbridge.EUNPROCESSABLE, field: "loan_max"},
		{name: "a programme without stages or tenor names both", given: []events.Payload{b},
			when: func(s Bank) ([]events.Payload, error) {
				p := programme
				p.Stages, p.MaxMonths = nil, 361
				return DecidePublishProgramme(s, bankB, dealsapi.PublishProgramme{BankID: "bank-b", Programme: p})
			},
			code: fundbridge.EINVALID, field: "max_months"},
		{name: "another bank's programmes are not found", given: []events.Payload{b},
			when: func(s Bank) ([]events.Payload, error) {
				return DecidePublishProgramme(s, bankC, dealsapi.PublishProgramme{BankID: "bank-b", Programme: programme})
			},
			code: fundbridge.ENOTFOUND},
		{name: "withdrawing a programme", given: []events.Payload{b, dealsapi.ProgrammePublished{BankID: "bank-b", Programme: programme}},
			when: func(s Bank) ([]events.Payload, error) {
				return DecideWithdrawProgramme(s, bankB, dealsapi.WithdrawProgramme{BankID: "bank-b", ProgrammeID: "tech-loans"})
			},
			then: []events.Payload{dealsapi.ProgrammeWithdrawn{BankID: "bank-b", ProgrammeID: "tech-loans"}}},
		{name: "limits set to what they are change nothing", given: []events.Payload{b},
			when: func(s Bank) ([]events.Payload, error) {
				return DecideSetBankLimits(s, operator, dealsapi.SetBankLimits{BankID: "bank-b", CreditLimit: amt("100000000"), SingleBorrowerLimit: amt("30000000")})
			}},
	})
}

func TestBankExposureFolds(t *testing.T) {
	s := bank(t, onboarded("bank-b", "100", "50"),
		dealsapi.ExposureReserved{BankID: "bank-b", DealID: "d1", BorrowerID: "co-1", Amount: amt("30")},
		dealsapi.ExposureReserved{BankID: "bank-b", DealID: "d2", BorrowerID: "co-2", Amount: amt("20")},
		dealsapi.ExposureReserved{BankID: "bank-b", DealID: "d1", BorrowerID: "co-1", Amount: amt("5")},
		dealsapi.ExposureReleased{BankID: "bank-b", DealID: "d2", Amount: amt("20")},
	)
	if s.Exposure().String() != "35.00" || s.BorrowerExposure("co-1").String() != "35.00" || len(s.Exposures) != 1 || s.Version != 5 {
		t.Errorf("bank %+v: exposure %s", s, s.Exposure())
	}
}

// A limit refusal names the amount and says how much would still fit.
func TestLimitRefusalNamesTheAmount(t *testing.T) {
	err := error(&LimitError{BankID: "bank-b", Limit: "credit limit", Amount: amt("30000000"), Exposure: amt("80000000"), Max: amt("100000000")})
	fs := fundbridge.ErrorFields(err)
	if len(fs) != 1 || fs[0].Field != "amount" || fs[0].Reason != "is above what bank bank-b's credit limit leaves: at most ¥20,000,000.00" {
		t.Errorf("fields = %+v", fs)
	}
}
