package insurance

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/fold"
	api "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// tableType names the rating table streams: "ratingtable-<insurer id>".
// Each insurer has one current table; publishing replaces it, and the
// stream keeps every table it ever published.
const tableType = "ratingtable"

// TableState is the rating table aggregate's state: the insurer as an
// operator onboarded it, and its current table.
type TableState struct {
	InsurerID   string          `json:"insurer_id"`
	Table       api.RatingTable `json:"table"`
	PublishedAt time.Time       `json:"published_at"`
	Version     uint64          `json:"version"`
	// Name and OnboardedAt: the insurer was onboarded (insurer.onboarded.v1).
	Name        string    `json:"name,omitempty"`
	OnboardedAt time.Time `json:"onboarded_at"`
}

// Exists reports whether the insurer has published a table.
func (t TableState) Exists() bool { return !t.PublishedAt.IsZero() }

// Onboarded reports whether an operator admitted the insurer.
func (t TableState) Onboarded() bool { return !t.OnboardedAt.IsZero() }

// tableDecider is the rating table aggregate for the repository.
func tableDecider() svc.Decider[TableState] {
	return svc.Decider[TableState]{Type: tableType, Initial: func() TableState { return TableState{} }, Evolve: evolveTable, SnapshotSchema: "insurance-table.v1"}
}

// evolveTable folds one event into the state; the event's table is never
// shared with the state of another version, since each decode is fresh.
// An event the table does not know changes nothing.
var evolveTable = tableFolds().Apply

func tableFolds() *fold.Evolve[TableState] {
	var f fold.Evolve[TableState]
	fold.Step(&f, func(t TableState, e events.Event, p api.RatingTablePublished) TableState {
		t.InsurerID, t.Table, t.PublishedAt = p.InsurerID, p.Table, e.RecordedAt
		return t
	})
	fold.Step(&f, func(t TableState, e events.Event, p api.InsurerOnboarded) TableState {
		t.InsurerID, t.Name, t.OnboardedAt = p.InsurerID, p.Name, e.RecordedAt
		return t
	})
	f.Then(func(t TableState, e events.Event) TableState {
		t.Version = e.Version
		return t
	})
	return &f
}

// decideOnboard admits an insurer; onboarding it again under the same
// name changes nothing. Whether its org exists with role insurer is a
// fact the service reads from identity's events before deciding.
func decideOnboard(t TableState, a fundbridge.Actor, cmd api.OnboardInsurer) ([]events.Payload, error) {
	if err := requireRole(a, "onboard insurers", fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return nil, err
	}
	if err := cmd.Validate(); err != nil {
		return nil, err
	}
	name := strings.TrimSpace(cmd.Name)
	if t.Onboarded() {
		if t.Name == name {
			return nil, nil
		}
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "insurer %s is already onboarded as %q", t.InsurerID, t.Name)
	}
	return []events.Payload{api.InsurerOnboarded{InsurerID: cmd.InsurerID, Name: name}}, nil
}

// decidePublishTable publishes an insurer's table: an insurer its own,
// operators any insurer's. Publishing the current table again changes
// nothing.
func decidePublishTable(t TableState, a fundbridge.Actor, cmd api.PublishRatingTable) ([]events.Payload, error) {
	if err := requireRole(a, "publish rating tables", fundbridge.RoleInsurer, fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return nil, err
	}
	if err := cmd.Validate(); err != nil {
		return nil, err
	}
	insurer, err := actingOrg(a, cmd.InsurerID, "insurer_id", "publish a rating table")
	if err != nil {
		return nil, err
	}
	if cmd.Table.InsurerID != "" && cmd.Table.InsurerID != insurer {
		return nil, fundbridge.Invalid("invalid rating table", fundbridge.FieldError{Field: "table.insurer_id", Reason: "must be the publishing insurer, " + insurer})
	}
	table := cmd.Table
	table.InsurerID = insurer
	if t.Exists() && sameJSON(t.Table, table) {
		return nil, nil
	}
	return []events.Payload{api.RatingTablePublished{InsurerID: insurer, Table: table}}, nil
}

// sameJSON compares two values as the log would store them.
func sameJSON(a, b any) bool {
	x, errA := json.Marshal(a)
	y, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(x) == string(y)
}
