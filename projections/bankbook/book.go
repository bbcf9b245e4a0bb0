package bankbook

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"
	"time"

	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
)

// Buckets are the arrears buckets by days past due, oldest unpaid period
// of a loan first: 1–30, 31–60, 61–90 and more than 90 days.
var Buckets = []string{"1-30", "31-60", "61-90", "90+"}

func bucket(days int) string {
	switch {
	case days <= 30:
		return Buckets[0]
	case days <= 60:
		return Buckets[1]
	case days <= 90:
		return Buckets[2]
	}
	return Buckets[3]
}

// ChinaDay is the day number (days since 1970-01-01) of t's China date.
func ChinaDay(t time.Time) int32 {
	return int32(t.UTC().Add(8*time.Hour).Unix() / 86400)
}

// Date writes a day number as YYYY-MM-DD.
func Date(day int32) string { return time.Unix(int64(day)*86400, 0).UTC().Format(time.DateOnly) }

// Book is a bank's book on one China day.
type Book struct {
	BankID, Name                     string
	CreditLimit, SingleBorrowerLimit money.Amount
	Exposure                         projections.Total
	Borrowers                        []Borrower
	OpenCommitments                  int
	Committed                        projections.Total
	Disbursed, Outstanding           projections.Total
	Defaulted                        projections.Total // of Outstanding, on defaulted loans
	DueSoon                          projections.Total
	DueSoonPeriods                   int
	Arrears                          []Arrears // one per bucket, in Buckets order
	Losses                           projections.Total
	RecoveryExpected                 projections.Total
	RecoveryReceived                 projections.Total
	Lines                            []BookLine
}

// Borrower is the bank's exposure to one company.
type Borrower struct {
	BorrowerID string
	Exposure   Fen
}

// Arrears are the loans whose oldest unpaid overdue period is in one
// bucket, and the bank's part of what they have overdue.
type Arrears struct {
	Bucket string
	Loans  int
	Amount projections.Total
}

// BookLine is the bank's part of one deal on that day.
type BookLine struct {
	Line
	DealStatus     string
	DueSoon        Fen
	DuePeriods     int    // periods with something due in the next 30 days
	NextDue        string // the first unpaid period due today or later, YYYY-MM-DD
	Overdue        Fen
	DaysPastDue    int
	Bucket         string
	OutstandingNow Fen // disbursed minus principal repaid, as the deals service counts it
	// DefaultedPrincipal is what is outstanding on a defaulted loan (its
	// loss, the bank's share by the risk-sharing table, is in Loss).
	DefaultedPrincipal Fen
}

// Book returns the bank's book on China day today; false if the bank was
// never onboarded.
func (p *Projection) Book(bankID string, today int32) (Book, bool, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	i, ok := p.banks[bankID]
	if !ok {
		return Book{}, false, nil
	}
	b := p.st.Banks[i]
	book := Book{BankID: b.ID, Name: b.Name, CreditLimit: b.CreditLimit.Amount(), SingleBorrowerLimit: b.SingleBorrowerLimit.Amount(),
		Lines: []BookLine{}, Borrowers: []Borrower{}}
	for _, name := range Buckets {
		book.Arrears = append(book.Arrears, Arrears{Bucket: name})
	}
	borrowers := map[string]int{}
	for _, li := range p.byBank[bankID] {
		l := p.st.Lines[li]
		bl, err := p.bookLine(l, today)
		if err != nil {
			return Book{}, false, err
		}
		book.add(bl)
		if l.Exposure != 0 {
			k, ok := borrowers[l.BorrowerID]
			if !ok {
				k = len(book.Borrowers)
				borrowers[l.BorrowerID] = k
				book.Borrowers = append(book.Borrowers, Borrower{BorrowerID: l.BorrowerID})
			}
			book.Borrowers[k].Exposure += l.Exposure
		}
		book.Lines = append(book.Lines, bl)
	}
	slices.SortFunc(book.Borrowers, func(a, b Borrower) int {
		return cmp.Or(cmp.Compare(b.Exposure, a.Exposure), cmp.Compare(a.BorrowerID, b.BorrowerID))
	})
	return book, true, nil
}

func (book *Book) add(bl BookLine) {
	book.Exposure.Add(bl.Exposure)
	if bl.Commitment == string(dealsapi.CommitmentCommitted) && bl.DealStatus == string(dealsapi.StatusSyndicating) {
		book.OpenCommitments++
		book.Committed.Add(bl.Committed)
	}
	book.Disbursed.Add(bl.Disbursed)
	book.Outstanding.Add(bl.OutstandingNow)
	book.Defaulted.Add(bl.DefaultedPrincipal)
	book.DueSoon.Add(bl.DueSoon)
	book.DueSoonPeriods += bl.DuePeriods
	book.Losses.Add(bl.Loss)
	book.RecoveryExpected.Add(bl.expected())
	book.RecoveryReceived.Add(bl.RecoveryReceived)
	if bl.Overdue > 0 {
		k := slices.Index(Buckets, bl.Bucket)
		book.Arrears[k].Loans++
		book.Arrears[k].Amount.Add(bl.Overdue)
	}
}

// expected is what the guarantee is still expected to pay in all: the
// insurer's share, or what it paid once the claim was denied.
func (l Line) expected() Fen {
	if l.RecoveryDenied {
		return l.RecoveryReceived
	}
	return l.RecoveryExpected
}

// bookLine works out what the bank has due and overdue on the deal.
func (p *Projection) bookLine(l Line, today int32) (BookLine, error) {
	bl := BookLine{Line: l}
	bl.RecoveryExpected = l.expected()
	d, ok := p.deals[l.DealID]
	if !ok {
		return bl, nil // exposure reserved for a deal whose proposal is not folded yet
	}
	deal := &p.st.Deals[d]
	bl.DealStatus = deal.Status
	bl.OutstandingNow = l.Disbursed - l.PrincipalRepaid
	if deal.Status == string(dealsapi.StatusDefaulted) {
		bl.DefaultedPrincipal = bl.OutstandingNow
	}
	if deal.Status != string(dealsapi.StatusRepaying) {
		return bl, nil
	}
	k := slices.Index(deal.Banks, l.BankID)
	if k < 0 {
		return bl, nil
	}
	weights := make([]uint64, len(deal.Banks))
	for i, id := range deal.Banks {
		if j, ok := p.lines[[2]string{id, deal.ID}]; ok {
			if o := p.st.Lines[j]; o.Disbursed > o.PrincipalRepaid {
				weights[i] = uint64(o.Disbursed - o.PrincipalRepaid)
			}
		}
	}
	part := func(owed Fen) (Fen, error) {
		parts, err := splitFen(owed, weights)
		if err != nil {
			return 0, fmt.Errorf("bank %s's part of loan %s: %w", l.BankID, deal.ID, err)
		}
		return parts[k], nil
	}
	for _, pd := range deal.Periods {
		owed := pd.Principal + pd.Interest - pd.Paid
		if owed <= 0 {
			continue
		}
		if pd.Due > today+30 {
			break // periods fall due in order
		}
		mine, err := part(owed)
		if err != nil {
			return bl, err
		}
		if pd.Due < today {
			if bl.Overdue == 0 {
				bl.DaysPastDue = int(today - pd.Due)
				bl.Bucket = bucket(bl.DaysPastDue)
			}
			bl.Overdue += mine
			continue
		}
		if bl.NextDue == "" {
			bl.NextDue = Date(pd.Due)
		}
		bl.DueSoon += mine
		bl.DuePeriods++
	}
	return bl, nil
}

// splitFen splits total by the weights as money.Split does, in whole fen:
// each part rounded down, the fen left over one each to the largest
// remainders, ties to the earlier part; all-zero weights split evenly.
// The parts always sum to total.
func splitFen(total Fen, weights []uint64) ([]Fen, error) {
	if total < 0 || len(weights) == 0 {
		return nil, fmt.Errorf("cannot split %s over %d parts", total.Amount(), len(weights))
	}
	var sum uint64
	for _, w := range weights {
		var carry uint64
		if sum, carry = bits.Add64(sum, w, 0); carry != 0 {
			return nil, fmt.Errorf("weights overflow")
		}
	}
	if sum == 0 {
		weights = slices.Repeat([]uint64{1}, len(weights))
		sum = uint64(len(weights))
	}
	parts := make([]Fen, len(weights))
	rems := make([]uint64, len(weights))
	left := uint64(total)
	for i, w := range weights {
		hi, lo := bits.Mul64(uint64(total), w) // total·w < sum·2^64, as w ≤ sum
		q, r := bits.Div64(hi, lo, sum)
		parts[i], rems[i] = Fen(q), r
		left -= q
	}
	order := make([]int, len(weights))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rems[b], rems[a]) })
	for _, i := range order[:left] {
		parts[i]++
	}
	return parts, nil
}
