package applications

import (
	"testing"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
)

// A deal's closing holds the application (application.reserve) before it
// commits capital, and releases it if the closing fails.

func reservedFor(deal string) events.Payload {
	return applicationsapi.ApplicationReserved{ApplicationID: "app1", DealID: deal, FundID: "f1", Slice: seedSlice()}
}

func reserve(t *testing.T, deal string) func(Application) ([]events.Payload, error) {
	cmd := applicationsapi.ReserveApplication{ApplicationID: "app1", DealID: deal, FundID: "f1"}
	return validated(cmd, func(a Application, cmd applicationsapi.ReserveApplication) ([]events.Payload, error) {
		return reserveApplication(a, company(t, fundbridge.StageSeed), cmd)
	})
}

func TestApplicationReserve(t *testing.T) {
	d := applicationDecider()
	// Withdrawn, rejected, expired, drafts and applications funded by
	// another deal are refused, naming their status.
	lifecycle(t, []applicationsapi.Status{applicationsapi.StatusSubmitted, applicationsapi.StatusMatched, applicationsapi.StatusUnderReview}, reserve(t, "d2"),
		func(applicationsapi.Status) []events.Payload { return []events.Payload{reservedFor("d2")} })
	underReview := histories()[applicationsapi.StatusUnderReview]
	t.Run("the same deal again is a no-op", func(t *testing.T) {
		check(t, d, append(underReview, reservedFor("d2")), reserve(t, "d2"), []events.Payload(nil))
	})
	t.Run("the deal that funded it is a no-op", func(t *testing.T) {
		check(t, d, histories()[applicationsapi.StatusFunded], reserve(t, "d1"), []events.Payload(nil))
	})
	t.Run("another deal's closing holds it", func(t *testing.T) {
		check(t, d, append(underReview, reservedFor("d1")), reserve(t, "d2"), refused{code: fundbridge.ECONFLICT, says: "being closed by deal d1"})
	})
	t.Run("no deal", func(t *testing.T) {
		check(t, d, underReview, validated(applicationsapi.ReserveApplication{ApplicationID: "app1", FundID: "f1"}, func(a Application, cmd applicationsapi.ReserveApplication) ([]events.Payload, error) {
			return reserveApplication(a, company(t, fundbridge.StageSeed), cmd)
		}), refused{code: fundbridge.EINVALID, field: "deal_id"})
	})
}

func TestApplicationHeldWhileClosing(t *testing.T) {
	d := applicationDecider()
	held := append(histories()[applicationsapi.StatusUnderReview], reservedFor("d1"))
	seed := company(t, fundbridge.StageSeed)
	for name, when := range map[string]func(Application) ([]events.Payload, error){
		"withdrawn": func(a Application) ([]events.Payload, error) {
			return withdrawApplication(a, seed, applicationsapi.WithdrawApplication{ApplicationID: "app1", Reason: "raised elsewhere"})
		},
		"rejected": func(a Application) ([]events.Payload, error) {
			return rejectApplication(a, seed, applicationsapi.RejectApplication{ApplicationID: "app1", Reason: "no"})
		},
		"expired": func(a Application) ([]events.Payload, error) { return expireApplication(a, seed) },
	} {
		t.Run(name, func(t *testing.T) {
			check(t, d, held, when, refused{code: fundbridge.ECONFLICT, says: "is being closed by deal d1: it cannot be " + name})
		})
	}
	t.Run("funded by the holder, even before the match is recorded", func(t *testing.T) {
		given := []events.Payload{drafted(), submitted(), reservedFor("d1")}
		amt := amount("20000000")
		fund := func(a Application) ([]events.Payload, error) {
			return markFunded(a, seed, applicationsapi.MarkFunded{ApplicationID: "app1", DealID: "d1", FundID: "f1", Instrument: fundbridge.InstrumentEquity, Amount: amt})
		}
		check(t, d, given, fund, []events.Payload{funded("d1", "f1")})
		if a := replayed(t, append(given, funded("d1", "f1"))); a.ReservedBy != "" || a.Status != applicationsapi.StatusFunded {
			t.Errorf("after funding: %+v", a)
		}
	})
	t.Run("funded by another deal", func(t *testing.T) {
		fund := func(a Application) ([]events.Payload, error) {
			return markFunded(a, seed, applicationsapi.MarkFunded{ApplicationID: "app1", DealID: "d2", FundID: "f2", Instrument: fundbridge.InstrumentEquity, Amount: amount("1000")})
		}
		check(t, d, held, fund, refused{code: fundbridge.ECONFLICT, says: "being closed by deal d1"})
	})
	t.Run("released by the holder only", func(t *testing.T) {
		release := func(deal string) func(Application) ([]events.Payload, error) {
			return func(a Application) ([]events.Payload, error) {
				return releaseReservation(a, seed, applicationsapi.ReleaseReservation{ApplicationID: "app1", DealID: deal, Reason: "fund refused"})
			}
		}
		check(t, d, held, release("d2"), []events.Payload(nil))
		released := applicationsapi.ReservationReleased{ApplicationID: "app1", DealID: "d1", Reason: "fund refused", Slice: seedSlice()}
		check(t, d, held, release("d1"), []events.Payload{released})
		// Released, the startup may withdraw again.
		check(t, d, append(held, released), func(a Application) ([]events.Payload, error) {
			return withdrawApplication(a, seed, applicationsapi.WithdrawApplication{ApplicationID: "app1"})
		}, []events.Payload{applicationsapi.ApplicationWithdrawn{ApplicationID: "app1", Slice: seedSlice()}})
	})
}
