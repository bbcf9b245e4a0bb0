package projections_test

import (
	"strings"
	"testing"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/projections"
)

type noted struct{ Text string }

func (noted) EventType() string { return "note.noted.v1" }

type erased struct{}

func (erased) EventType() string { return "note.erased.v1" }

func TestFoldsDispatchByTypeAndHandleOnlyWhatIsRegistered(t *testing.T) {
	var got []string
	var f projections.Folds
	projections.On(&f, func(_ events.Event, n noted) error { got = append(got, n.Text); return nil })
	if !f.Handles("note.noted.v1") || f.Handles("note.erased.v1") {
		t.Fatal("Handles does not follow the registrations")
	}
	if err := f.Apply(events.Event{Type: "note.noted.v1"}, noted{Text: "hi"}); err != nil || len(got) != 1 || got[0] != "hi" {
		t.Fatalf("apply: %v, %v", got, err)
	}
	if err := f.Apply(events.Event{Type: "note.erased.v1"}, erased{}); err == nil || !strings.Contains(err.Error(), "unexpected") {
		t.Fatalf("an unregistered payload: %v", err)
	}
}
