package matching

import (
	"log/slog"
	"slices"
	"testing"
	"time"
)

func TestNewFundsSendsOnlyWhatIsNotRecorded(t *testing.T) {
	board := []Match{{FundID: "f1", Score: 100}, {FundID: "f2", Score: 90}, {FundID: "f3", Score: 80}, {FundID: "f4", Score: 70}}
	recorded := map[string]struct{}{"f1": {}}
	sent := map[string]struct{}{"f3": {}}
	if got := newFunds(board, recorded, sent); !slices.Equal(got, []string{"f2", "f4"}) {
		t.Errorf("new funds = %v, want f2, f4 (best first)", got)
	}
	if got := newFunds(board, map[string]struct{}{"f1": {}, "f2": {}, "f3": {}, "f4": {}}, nil); len(got) != 0 {
		t.Errorf("all recorded, yet %v", got)
	}
	if a, b := matchKey("match", "a1", 0, []string{"f1", "f2"}), matchKey("match", "a1", 0, []string{"f1", "f2"}); a != b {
		t.Error("the same fund set gave two keys")
	}
	if a, b := matchKey("match", "a1", 0, []string{"f1", "f2"}), matchKey("match", "a1", 0, []string{"f1", "f3"}); a == b {
		t.Error("two fund sets gave one key")
	}
	if a, b := matchKey("match", "a1", 0, []string{"f1"}), matchKey("match", "a1", 2, []string{"f1"}); a == b {
		t.Error("matching a fund again after its removal gave the key of the first match")
	}
}

func TestStaleFundsAreRecordedButOffTheBoard(t *testing.T) {
	board := []Match{{FundID: "f1", Score: 100}, {FundID: "f2", Score: 90}}
	recorded := map[string]struct{}{"f1": {}, "f3": {}, "f4": {}, "f5": {}}
	unsent := map[string]struct{}{"f4": {}}
	if got := staleFunds(board, recorded, unsent); !slices.Equal(got, []string{"f3", "f5"}) {
		t.Errorf("stale funds = %v, want f3, f5", got)
	}
}

func TestReactorQueue(t *testing.T) {
	r := newReactor(newViews(nil), nil, slog.New(slog.DiscardHandler), 100*time.Millisecond, time.Second)
	now := time.Now()
	a := taskKey{kind: taskMatch, id: "a"}
	b := taskKey{kind: taskReview, id: "b"}

	r.add([]task{{key: a}, {key: a}})
	if k, _, ok, _ := r.next(now); !ok || k != a {
		t.Fatalf("next = %v %v, want a", k, ok)
	}
	r.add([]task{{key: a}}) // an event while a is in flight
	r.finish(a, done, now)
	if k, _, ok, _ := r.next(now); !ok || k != a {
		t.Fatalf("a marked while in flight did not run again: %v %v", k, ok)
	}
	r.finish(a, done, now)
	if _, _, ok, _ := r.next(now); ok {
		t.Fatal("a ran a third time")
	}

	r.add([]task{{key: b}})
	r.next(now)
	r.finish(b, later, now)
	r.add([]task{{key: b}}) // pending in backoff: not queued twice
	if _, _, ok, wait := r.next(now); ok || wait != 100*time.Millisecond {
		t.Fatalf("b in backoff: ok %v, wait %v; want 100ms", ok, wait)
	}
	k, _, ok, _ := r.next(now.Add(100 * time.Millisecond))
	if !ok || k != b {
		t.Fatalf("b after its backoff: %v %v", k, ok)
	}
	r.finish(b, later, now)
	if _, _, _, wait := r.next(now); wait != 200*time.Millisecond {
		t.Errorf("second backoff = %v, want 200ms", wait)
	}
	if _, _, ok, _ := r.next(now.Add(200 * time.Millisecond)); !ok {
		t.Fatal("b lost")
	}
	if n := len(r.ready) + len(r.waiting); n != 0 {
		t.Errorf("%d tasks left over", n)
	}
}
