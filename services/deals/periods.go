package deals

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"time"

	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
)

// period is a scheduled period as a loan holds it, in whole fen: a
// 360-month schedule of money.Amounts (each a big.Int) is about 100 KB,
// in fen about 17 KB, and the repository caches 10,000 aggregates.
// Amounts are at most 10^15 fen, well within int64. It reads and writes
// JSON as dealsapi.ScheduledPeriod does, amounts as strings.
type period struct {
	number                                int
	due                                   int64 // Unix seconds, midnight UTC
	payment, principal, interest, balance int64 // fen
}

func fenOf(a money.Amount) int64 { return a.Decimal().Shift(2).IntPart() }

func compact(sp dealsapi.ScheduledPeriod) period {
	return period{number: sp.Number, due: sp.Due.Unix(), payment: fenOf(sp.Payment),
		principal: fenOf(sp.Principal), interest: fenOf(sp.Interest), balance: fenOf(sp.Balance)}
}

func compactAll(ps []dealsapi.ScheduledPeriod) []period {
	out := make([]period, len(ps))
	for i, p := range ps {
		out[i] = compact(p)
	}
	return out
}

// Due is when the period falls due.
func (p period) Due() time.Time { return time.Unix(p.due, 0).UTC() }

// scheduled is the period as the contract writes it.
func (p period) scheduled() dealsapi.ScheduledPeriod {
	return dealsapi.ScheduledPeriod{Number: p.number, Due: p.Due(), Payment: money.Fen(p.payment),
		Principal: money.Fen(p.principal), Interest: money.Fen(p.interest), Balance: money.Fen(p.balance)}
}

func (p period) MarshalJSON() ([]byte, error) { return json.Marshal(p.scheduled()) }

func (p *period) UnmarshalJSON(data []byte) error {
	var sp dealsapi.ScheduledPeriod
	if err := json.Unmarshal(data, &sp); err != nil {
		return err
	}
	*p = compact(sp)
	return nil
}

// GobEncode writes the period's numbers as varints, so a loan's schedule
// survives a view's checkpoint (services/svc/viewstate), which is gob.
func (p period) GobEncode() ([]byte, error) {
	out := make([]byte, 0, 6*binary.MaxVarintLen64)
	for _, n := range []int64{int64(p.number), p.due, p.payment, p.principal, p.interest, p.balance} {
		out = binary.AppendVarint(out, n)
	}
	return out, nil
}

// GobDecode reads what GobEncode wrote.
func (p *period) GobDecode(data []byte) error {
	var ns [6]int64
	for i := range ns {
		n, size := binary.Varint(data)
		if size <= 0 {
			return errors.New("period: malformed")
		}
		ns[i], data = n, data[size:]
	}
	*p = period{number: int(ns[0]), due: ns[1], payment: ns[2], principal: ns[3], interest: ns[4], balance: ns[5]}
	return nil
}
