package insurance

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	api "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

var (
	founder       = fundbridge.Actor{UserID: "u-s", Role: fundbridge.RoleStartup, OrgID: "co-1"}
	rival         = fundbridge.Actor{UserID: "u-r", Role: fundbridge.RoleStartup, OrgID: "co-2"}
	insurerA      = fundbridge.Actor{UserID: "u-ia", Role: fundbridge.RoleInsurer, OrgID: "ins-a"}
	insurerB      = fundbridge.Actor{UserID: "u-ib", Role: fundbridge.RoleInsurer, OrgID: "ins-b"}
	insurerC      = fundbridge.Actor{UserID: "u-ic", Role: fundbridge.RoleInsurer, OrgID: "ins-c"}
	operator      = fundbridge.Actor{UserID: "u-op", Role: fundbridge.RoleOperator}
	platformActor = fundbridge.Actor{UserID: "insurance", Role: fundbridge.RoleSystem}
	banker        = fundbridge.Actor{UserID: "u-bk", Role: fundbridge.RoleBank, OrgID: "bank-1"}
)

// now is 10:00 on 1 March 2026 in China.
var now = time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)

// on is 10:00 China time on a day given as YYYY-MM-DD.
func on(day string) time.Time {
	d, err := api.ParseDate(day)
	if err != nil {
		panic(err)
	}
	return d.Add(2 * time.Hour)
}

// replay replays history through the registry, as the repository does,
// so the decoders and the evolver are exercised together.
func replay[S any](t *testing.T, d svc.Decider[S], history []events.Payload) S {
	t.Helper()
	reg := events.NewRegistry()
	api.Register(reg)
	s := d.Initial()
	for i, p := range history {
		data, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		e, payload, err := reg.Decode(events.Event{
			Type: p.EventType(), StreamID: d.Type + "-x", Version: uint64(i + 1), Position: uint64(i + 1),
			RecordedAt: now.Add(time.Duration(i) * time.Minute), Payload: data,
		})
		if err != nil {
			t.Fatal(err)
		}
		s = d.Evolve(s, e, payload)
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
	says  string           // words the error's message must contain, if any
}

func check[S any](t *testing.T, d svc.Decider[S], scenarios []scenario[S]) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			got, err := sc.when(replay(t, d, sc.given))
			if sc.code != "" {
				if code := fundbridge.ErrorCode(err); code != sc.code {
					t.Fatalf("error %v (code %q), want code %q; events %v", err, code, sc.code, got)
				}
				if got != nil {
					t.Errorf("refused, yet decided %v", got)
				}
				if sc.field != "" && !namesField(err, sc.field) {
					t.Errorf("error %v does not name %s", err, sc.field)
				}
				if sc.says != "" && !strings.Contains(fundbridge.ErrorMessage(err), sc.says) {
					t.Errorf("message %q does not say %q", fundbridge.ErrorMessage(err), sc.says)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if g, w := mustJSON(t, got), mustJSON(t, sc.then); g != w {
				t.Errorf("decided\n  %s\nwant\n  %s", g, w)
			}
			for i := range got {
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

func amt(s string) money.Amount { return money.MustParse(s) }
