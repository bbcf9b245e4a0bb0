package deals

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
)

var (
	operator = fundbridge.Actor{UserID: "u-op", Role: fundbridge.RoleOperator}
	platform = fundbridge.Actor{UserID: "process", Role: fundbridge.RoleSystem}
	leadBank = fundbridge.Actor{UserID: "u-lead", Role: fundbridge.RoleBank, OrgID: "bank-lead"}
	bankB    = fundbridge.Actor{UserID: "u-b", Role: fundbridge.RoleBank, OrgID: "bank-b"}
	bankC    = fundbridge.Actor{UserID: "u-c", Role: fundbridge.RoleBank, OrgID: "bank-c"}
	outsider = fundbridge.Actor{UserID: "u-x", Role: fundbridge.RoleBank, OrgID: "bank-x"}
	borrower = fundbridge.Actor{UserID: "u-s", Role: fundbridge.RoleStartup, OrgID: "co-1"}
	manager  = fundbridge.Actor{UserID: "u-m", Role: fundbridge.RoleFundManager, OrgID: "mgr-1"}
)

// now is when the tests decide; the deal's deadline is two weeks later.
var (
	now      = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	deadline = now.Add(14 * 24 * time.Hour)
)

func amt(s string) money.Amount         { return money.MustParse(s) }
func dec(s string) decimal.Decimal      { return decimal.RequireFromString(s) }
func date(s string) time.Time           { t, _ := time.Parse(time.DateOnly, s); return t }
func days(t time.Time, n int) time.Time { return t.Add(time.Duration(n) * 24 * time.Hour) }

// replay replays history through the registry, as the repository does, so
// the decoders and the evolve function are exercised together.
func replay[S any](t *testing.T, evolve func(S, events.Event, any) S, history []events.Payload) S {
	t.Helper()
	reg := events.NewRegistry()
	dealsapi.Register(reg)
	var s S
	for i, p := range history {
		data, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		e, payload, err := reg.Decode(events.Event{
			Type: p.EventType(), StreamID: "x-1", Version: uint64(i + 1), Position: uint64(i + 1),
			RecordedAt: now.Add(time.Duration(i) * time.Minute), Payload: data,
		})
		if err != nil {
			t.Fatal(err)
		}
		s = evolve(s, e, payload)
	}
	return s
}

// scenario is given events, when a command, then events or an error.
type scenario[S any] struct {
	name  string
	given []events.Payload
	when  func(S) ([]events.Payload, error)
	then  []events.Payload // nil with no code: the command changes nothing
	code  string           // the error code expected instead of events
	field string           // a field the error must name, if any
	msg   string           // the exact message expected, if any
}

func check[S any](t *testing.T, evolve func(S, events.Event, any) S, scenarios []scenario[S]) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			got, err := sc.when(replay(t, evolve, sc.given))
			if sc.code != "" {
				if code := fundbridge.ErrorCode(err); code != sc.code {
					t.Fatalf("error %v (code %q), want code %q; events %s", err, code, sc.code, mustJSON(t, got))
				}
				if got != nil {
					t.Errorf("refused, yet decided %v", got)
				}
				if sc.field != "" && !namesField(err, sc.field) {
					t.Errorf("error %v does not name %s", err, sc.field)
				}
				if sc.msg != "" && fundbridge.ErrorMessage(err) != sc.msg {
					t.Errorf("message\n  %q\nwant\n  %q", fundbridge.ErrorMessage(err), sc.msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if g, w := mustJSON(t, got), mustJSON(t, sc.then); g != w {
				t.Errorf("decided\n  %s\nwant\n  %s", g, w)
			}
			for i := range min(len(got), len(sc.then)) {
				if got[i].EventType() != sc.then[i].EventType() {
					t.Errorf("event %d is %s, want %s", i, got[i].EventType(), sc.then[i].EventType())
				}
			}
		})
	}
}

func namesField(err error, field string) bool {
	for _, f := range fundbridge.ErrorFields(err) {
		if f.Field == field {
			return true
		}
	}
	return false
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// bank is a bank's state from its history.
func bank(t *testing.T, history ...events.Payload) Bank { return replay(t, BankFolds().Apply, history) }

func onboarded(id, credit, single string) dealsapi.BankOnboarded {
	return dealsapi.BankOnboarded{BankID: id, Name: "Bank " + id, CreditLimit: amt(credit), SingleBorrowerLimit: amt(single)}
}

// Banks with room for the test deals.
func leadState(t *testing.T) Bank  { return bank(t, onboarded("bank-lead", "500000000", "50000000")) }
func bankBState(t *testing.T) Bank { return bank(t, onboarded("bank-b", "500000000", "50000000")) }
func bankCState(t *testing.T) Bank { return bank(t, onboarded("bank-c", "500000000", "50000000")) }

// proposal is the test deal as proposed: ¥1m over 36 months at 4.35%
// (the check), ¥5m of equity at ¥45m pre-money, a 10% warrant.
func proposal() dealsapi.ProposeDeal {
	return dealsapi.ProposeDeal{
		BorrowerID: "co-1", ApplicationID: "app-1", LeadBankID: "bank-lead",
		Loan:     dealsapi.LoanTermsInput{Principal: amt("1000000"), AnnualRate: "0.0435", Months: 36, Method: dealsapi.EqualInstallment},
		Equity:   dealsapi.EquityInput{FundID: "fund-1", Amount: amt("5000000"), PreMoney: amt("45000000")},
		Sequence: dealsapi.Together,
		Warrant: &dealsapi.WarrantInput{Coverage: "0.10", StrikeValuation: amt("60000000"),
			ExerciseFrom: "2026-06-01", ExerciseUntil: "2028-12-31", HolderID: "bank-lead"},
		RiskSharing:         dealsapi.RiskSharingInput{Banks: "0.5", Fund: "0.1", RiskCompensationFund: "0.3", Insurer: "0.1", InsurerID: "ins-1"},
		SyndicationDeadline: deadline,
	}
}

func proposed(edit ...func(*dealsapi.DealProposed)) dealsapi.DealProposed {
	p, err := proposal().Proposal("deal-1")
	if err != nil {
		panic(err)
	}
	for _, e := range edit {
		e(&p)
	}
	return p
}

func sequence(s dealsapi.Sequence) func(*dealsapi.DealProposed) {
	return func(p *dealsapi.DealProposed) { p.Sequence = s }
}

func invitedB() dealsapi.BankInvited { return dealsapi.BankInvited{DealID: "deal-1", BankID: "bank-b"} }
func invitedC() dealsapi.BankInvited { return dealsapi.BankInvited{DealID: "deal-1", BankID: "bank-c"} }

func committed(bankID, amount, after string) dealsapi.BankCommitted {
	return dealsapi.BankCommitted{DealID: "deal-1", BankID: bankID, Amount: amt(amount), CommittedAfter: amt(after)}
}

// closedBook is the book of the test deal: the lead ¥600k, bank-b ¥400k.
func closedBook() dealsapi.BookClosed {
	return dealsapi.BookClosed{DealID: "deal-1", Committed: amt("1000000"), Allocations: []dealsapi.Allocation{
		{BankID: "bank-lead", Committed: amt("600000"), Allocated: amt("600000"), Share: dec("0.6")},
		{BankID: "bank-b", Committed: amt("400000"), Allocated: amt("400000"), Share: dec("0.4")},
	}}
}

func equityIn() dealsapi.EquityTrancheCommitted {
	return dealsapi.EquityTrancheCommitted{DealID: "deal-1", FundID: "fund-1", Amount: amt("5000000")}
}

// closedDeal is the history of the test deal up to its close.
func closedDeal() []events.Payload {
	return []events.Payload{proposed(), invitedB(), committed("bank-lead", "600000", "600000"), committed("bank-b", "400000", "1000000"),
		closedBook(), equityIn(), dealsapi.DealClosed{DealID: "deal-1"}}
}

// opened is the loan of the closed test deal.
func opened() dealsapi.LoanOpened {
	p := proposed()
	return dealsapi.LoanOpened{LoanID: "deal-1", BorrowerID: "co-1", LeadBankID: "bank-lead", EquityFundID: "fund-1",
		Terms: p.Loan, RiskSharing: p.RiskSharing, Warrant: p.Warrant, Banks: []dealsapi.LoanBank{
			{BankID: "bank-lead", Commitment: amt("600000"), Share: dec("0.6")},
			{BankID: "bank-b", Commitment: amt("400000"), Share: dec("0.4")},
		}}
}

// The folds as functions, each table built once, for loops.
var (
	evolveDeal = DealFolds().Apply
	evolveLoan = LoanFolds().Apply
)
