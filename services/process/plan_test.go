package process

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
)

// Given the events of a process stream, when an input arrives, then these
// events are recorded: the manager's planning is pure and tested so.

var t0 = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

func given(d Definition[closing], recorded ...events.Payload) Instance[closing] {
	in := d.initial("deal1")
	for i, p := range recorded {
		in = d.fold(in, p)
		in.Version = uint64(i + 1)
	}
	return in
}

func requested(pos uint64, settle *time.Time) (events.Event, ClosingRequested) {
	r := ClosingRequested{ClosingID: "deal1", ApplicationID: "app1", FundID: "fund1", Amount: money.Yuan(5_000_000), SettleAt: settle}
	return events.Event{ID: "ev" + string(rune('0'+pos)), Type: r.EventType(), StreamID: "closing-deal1", Version: 1, Position: pos, RecordedAt: t0}, r
}

func raw(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

var (
	reserveIssued = CommandIssued{
		CommandSpec:    CommandSpec{Step: "reserve", Service: "ledger", Op: "application.reserve", Payload: raw(reserveApp{ApplicationID: "app1", Deal: "deal1"})},
		IdempotencyKey: "process/closing/deal1/reserve",
		Undo:           &CommandSpec{Step: "undo_reserve", Service: "ledger", Op: "application.release", Payload: raw(reserveApp{ApplicationID: "app1", Deal: "deal1"})},
	}
	commitIssued = CommandIssued{
		CommandSpec:    CommandSpec{Step: "commit", Service: "ledger", Op: "fund.commit", Payload: raw(commitFund{FundID: "fund1", Deal: "deal1", Amount: money.Yuan(5_000_000)})},
		IdempotencyKey: "process/closing/deal1/commit",
		Undo:           &CommandSpec{Step: "undo_commit", Service: "ledger", Op: "fund.release", Payload: raw(commitFund{FundID: "fund1", Deal: "deal1"})},
	}
	undoReserveIssued = CommandIssued{CommandSpec: *reserveIssued.Undo, IdempotencyKey: "process/closing/deal1/undo_reserve", UndoOf: "reserve"}
	started           = ClosingStarted{ApplicationID: "app1", FundID: "fund1", Amount: money.Yuan(5_000_000)}
	observed1         = Observed{EventID: "ev1", Type: "closing.requested.v1", StreamID: "closing-deal1", Version: 1, Position: 1}
)

func then(t *testing.T, got []events.Payload, want ...events.Payload) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(encodeAll(got), encodeAll(want)) {
		t.Fatalf("recorded\n  %s\nwant\n  %s", strings.Join(encodeAll(got), "\n  "), strings.Join(encodeAll(want), "\n  "))
	}
}

func encodeAll(ps []events.Payload) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.EventType() + " " + string(raw(p))
	}
	return out
}

func ok(step string) Reply {
	return Reply{ProcessID: "deal1", Step: step, At: t0, Result: raw(map[string]int{"n": 1})}
}
func refused(step, code, msg string) Reply {
	return Reply{ProcessID: "deal1", Step: step, At: t0, Refusal: &fundbridge.Error{Code: code, Message: msg}}
}

func TestARequestStartsTheClosingAndIssuesTheReservation(t *testing.T) {
	d := closingDefinition()
	e, r := requested(1, nil)
	then(t, d.observe(given(d), e, r), observed1, started, reserveIssued)
}

func TestAnEventSeenBeforeIsANoOp(t *testing.T) {
	d := closingDefinition()
	e, r := requested(1, nil)
	then(t, d.observe(given(d, observed1, started, reserveIssued), e, r))
}

func TestAnEventThatStartsNothingCreatesNoProcess(t *testing.T) {
	d := closingDefinition()
	e, _ := requested(1, nil)
	then(t, d.observe(given(d), e, FundOpened{}))
}

func TestAReservedApplicationLeadsToTheCommitment(t *testing.T) {
	d := closingDefinition()
	in := given(d, observed1, started, reserveIssued)
	then(t, d.reply(in, ok("reserve")), CommandSucceeded{Step: "reserve", Result: raw(map[string]int{"n": 1}), At: t0}, commitIssued)
}

func TestACommittedFundCompletesTheClosing(t *testing.T) {
	d := closingDefinition()
	in := given(d, observed1, started, reserveIssued, CommandSucceeded{Step: "reserve"}, commitIssued)
	got := d.reply(in, ok("commit"))
	then(t, got, CommandSucceeded{Step: "commit", Result: raw(map[string]int{"n": 1}), At: t0}, Ended{Outcome: Completed})
}

func TestARefusedReservationFailsWithTheReason(t *testing.T) {
	d := closingDefinition()
	in := given(d, observed1, started, reserveIssued)
	then(t, d.reply(in, refused("reserve", fundbridge.ECONFLICT, "application app1 is withdrawn")),
		CommandRefused{Step: "reserve", Code: fundbridge.ECONFLICT, Message: "application app1 is withdrawn", At: t0},
		Ended{Outcome: Failed, Reason: "the application cannot be reserved: application app1 is withdrawn"})
}

func TestARefusedCommitmentUndoesTheReservation(t *testing.T) {
	d := closingDefinition()
	in := given(d, observed1, started, reserveIssued, CommandSucceeded{Step: "reserve"}, commitIssued)
	reason := "the fund refused the commitment: beyond dry powder"
	then(t, d.reply(in, refused("commit", fundbridge.EUNPROCESSABLE, "beyond dry powder")),
		CommandRefused{Step: "commit", Code: fundbridge.EUNPROCESSABLE, Message: "beyond dry powder", At: t0},
		CompensationStarted{Reason: reason},
		undoReserveIssued)

	in = given(d, observed1, started, reserveIssued, CommandSucceeded{Step: "reserve"}, commitIssued,
		CommandRefused{Step: "commit"}, CompensationStarted{Reason: reason}, undoReserveIssued)
	then(t, d.reply(in, ok("undo_reserve")),
		CommandSucceeded{Step: "undo_reserve", Result: raw(map[string]int{"n": 1}), At: t0},
		Ended{Outcome: Compensated, Reason: reason})
}

func TestARefusedUndoEndsTheProcessFailedSayingWhat(t *testing.T) {
	d := closingDefinition()
	in := given(d, observed1, started, reserveIssued, CommandSucceeded{Step: "reserve"}, commitIssued,
		CommandRefused{Step: "commit"}, CompensationStarted{Reason: "fund refused"}, undoReserveIssued)
	then(t, d.reply(in, refused("undo_reserve", fundbridge.ECONFLICT, "application is funded")),
		CommandRefused{Step: "undo_reserve", Code: fundbridge.ECONFLICT, Message: "application is funded", At: t0},
		Ended{Outcome: Failed, Reason: "fund refused; then undoing reserve was refused: application is funded"})
}

func TestAReplyToAStepNotPendingIsANoOp(t *testing.T) {
	d := closingDefinition()
	in := given(d, observed1, started, reserveIssued, CommandSucceeded{Step: "reserve"}, commitIssued)
	then(t, d.reply(in, ok("reserve")))
	then(t, d.reply(in, ok("no_such_step")))
}

func TestADeadlineFiresOnceAndOnlyAtItsTime(t *testing.T) {
	d := closingDefinition()
	settle := t0.Add(48 * time.Hour)
	e, r := requested(1, &settle)
	then(t, d.observe(given(d), e, r), observed1, started, DeadlineScheduled{Name: "settle", At: settle})

	in := given(d, observed1, started, DeadlineScheduled{Name: "settle", At: settle})
	then(t, d.wake(in, Wake{ProcessID: "deal1", Name: "settle", At: settle.Add(-time.Hour)})) // a stale firing
	then(t, d.wake(in, Wake{ProcessID: "deal1", Name: "expiry", At: settle}))                 // never scheduled
	then(t, d.wake(in, Wake{ProcessID: "deal1", Name: "settle", At: settle}), DeadlineFired{Name: "settle", At: settle}, reserveIssued)

	in = given(d, observed1, started, DeadlineScheduled{Name: "settle", At: settle}, DeadlineFired{Name: "settle", At: settle}, reserveIssued)
	then(t, d.wake(in, Wake{ProcessID: "deal1", Name: "settle", At: settle})) // fired already
}

func TestAnEndedProcessIgnoresWhatComesLater(t *testing.T) {
	d := closingDefinition()
	in := given(d, observed1, started, Ended{Outcome: Failed, Reason: "x"})
	e, r := requested(9, nil)
	then(t, d.observe(in, e, r))
}

func TestAStepUsedTwiceFailsTheProcessAsADefinitionError(t *testing.T) {
	d := closingDefinition()
	d.OnReply = func(closing, Reply) Decision { return Decision{Send: []Command{reserve("deal1", "app1")}} }
	in := given(d, observed1, started, reserveIssued)
	then(t, d.reply(in, ok("reserve")),
		CommandSucceeded{Step: "reserve", Result: raw(map[string]int{"n": 1}), At: t0},
		Ended{Outcome: Failed, Reason: `definition error: step "reserve" is used twice in this process`})
}

func TestADecisionWithTwoEndingsIsADefinitionError(t *testing.T) {
	d := closingDefinition()
	d.OnReply = func(closing, Reply) Decision { return Decision{Complete: true, Fail: "no"} }
	in := given(d, observed1, started, reserveIssued)
	got := d.reply(in, ok("reserve"))
	if end, isEnd := got[len(got)-1].(Ended); !isEnd || end.Outcome != Failed || !strings.Contains(end.Reason, "2 ways") {
		t.Fatalf("ended %+v", got[len(got)-1])
	}
}

func TestADefinitionIsCheckedWhenAManagerIsMade(t *testing.T) {
	d := closingDefinition()
	d.Name = "Closing-1"
	d.OnReply = nil
	err := d.validate()
	if err == nil || !strings.Contains(err.Error(), `"Closing-1" is not a lower-case word`) || !strings.Contains(err.Error(), "OnReply") {
		t.Fatalf("validate: %v", err)
	}
}

func TestTheCheckpointStaysBeforeTheFirstSendStillRunning(t *testing.T) {
	f := &inflight{scanned: 10, pending: map[uint64]int{}}
	f.begin(12)
	f.begin(12)
	f.scan(12)
	f.begin(15)
	f.scan(17)
	if cp := f.checkpoint(); cp != 11 {
		t.Fatalf("checkpoint %d with sends running at 12 and 15, want 11", cp)
	}
	f.end(12)
	if cp := f.checkpoint(); cp != 11 {
		t.Fatalf("checkpoint %d with one of two sends at 12 still running, want 11", cp)
	}
	f.end(12)
	if cp := f.checkpoint(); cp != 14 {
		t.Fatalf("checkpoint %d with a send running at 15, want 14", cp)
	}
	f.end(15)
	if cp := f.checkpoint(); cp != 17 {
		t.Fatalf("checkpoint %d with nothing running, want the last commit scanned, 17", cp)
	}
}
