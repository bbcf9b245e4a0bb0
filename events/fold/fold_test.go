package fold_test

import (
	"strings"
	"testing"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/fold"
)

type opened struct{ By string }
type topped struct{ N int }
type unknown struct{}

func (opened) EventType() string  { return "account.opened.v1" }
func (topped) EventType() string  { return "account.topped.v1" }
func (unknown) EventType() string { return "account.unknown.v1" }

type account struct {
	By      string
	Total   int
	Version uint64
}

func TestEvolveFoldsEachTypeWithItsStep(t *testing.T) {
	var f fold.Evolve[account]
	fold.Step(&f, func(a account, _ events.Event, p opened) account { a.By = p.By; return a })
	fold.Step(&f, func(a account, _ events.Event, p topped) account { a.Total += p.N; return a })
	f.Then(func(a account, e events.Event) account { a.Version = e.Version; return a })
	a := f.Apply(account{}, events.Event{Version: 1}, opened{By: "li"})
	a = f.Apply(a, events.Event{Version: 2}, topped{N: 5})
	a = f.Apply(a, events.Event{Version: 3}, unknown{})
	if a != (account{By: "li", Total: 5, Version: 2}) {
		t.Errorf("folded %+v", a)
	}
	if !f.Handles("account.topped.v1") || f.Handles("account.unknown.v1") {
		t.Error("Handles does not list exactly the registered types")
	}
}

func TestHandlersRefuseWhatTheyDoNotHandle(t *testing.T) {
	var h fold.Handlers
	total := 0
	fold.On(&h, func(_ events.Event, p topped) error { total += p.N; return nil })
	if err := h.Apply(events.Event{}, topped{N: 2}); err != nil || total != 2 {
		t.Errorf("apply = %v, total %d", err, total)
	}
	if err := h.Apply(events.Event{Type: "account.opened.v1"}, opened{}); err == nil || !strings.Contains(err.Error(), "unexpected payload") {
		t.Errorf("an unregistered payload: %v", err)
	}
}
