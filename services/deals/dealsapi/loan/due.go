package loan

import "time"

// DueDate is the day period n (from 1) falls due for a loan disbursed on
// start: the same day n months later, or the month's last day when the
// month is shorter (disbursed 31 January: due 28 or 29 February, 31 March).
func DueDate(start time.Time, n int) time.Time {
	y, m, d := start.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}
