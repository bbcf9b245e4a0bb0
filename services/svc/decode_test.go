package svc

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
)

type person struct {
	Name string `json:"name"`
}

type request struct {
	person
	Amount  money.Amount `json:"amount"`
	Tags    []string     `json:"tags"`
	Count   int          `json:"count"`
	Consent bool         `json:"consent"`
	Loan    *loanTerms   `json:"loan"`
}

type loanTerms struct {
	Principal money.Amount `json:"principal"`
	Months    int          `json:"months"`
}

func TestDecodeNamesEveryBadField(t *testing.T) {
	for _, tc := range []struct {
		payload string
		fields  []string
	}{
		{``, nil},
		{`null`, nil},
		{`{"name":"x","amount":"1.50","tags":["a"],"count":2,"consent":true}`, nil},
		{`{"name":"x"`, []string{"body"}},
		{`{"name":"x"} {}`, []string{"body"}},
		{`[1]`, []string{"body"}},
		{`{"colour":"red"}`, []string{"colour"}},
		{`{"name":1,"amount":150,"count":"two","consent":"yes"}`, []string{"amount", "consent", "count", "name"}},
		{`{"tags":["a",2,"c",{}]}`, []string{"tags[1]", "tags[3]"}},
		{`{"amount":"lots"}`, []string{"amount"}},
		{`{"loan":{"principal":1000,"months":"36","rate":"0.04"}}`, []string{"loan.months", "loan.principal", "loan.rate"}},
		{`{"loan":7}`, []string{"loan"}},
	} {
		var r request
		err := Decode(json.RawMessage(tc.payload), &r)
		if tc.fields == nil {
			if err != nil {
				t.Errorf("%s: %v", tc.payload, err)
			}
			continue
		}
		if fundbridge.ErrorCode(err) != fundbridge.EINVALID {
			t.Errorf("%s: %v, want invalid", tc.payload, err)
			continue
		}
		var named []string
		for _, f := range fundbridge.ErrorFields(err) {
			named = append(named, f.Field)
		}
		if !slices.Equal(named, tc.fields) {
			t.Errorf("%s: names %v, want %v (%v)", tc.payload, named, tc.fields, err)
		}
	}
}

func TestDecodeIsStrictAboutNames(t *testing.T) {
	for _, tc := range []struct {
		payload string
		field   string
	}{
		{`{"NAME":"x"}`, "NAME"},
		{`{"Amount":"1.00"}`, "Amount"},
		{`{"name":"a","name":"b"}`, "name"},
		{`{"name":"a","count":1,"count":2}`, "count"},
		{"{\"name\":\"\xff\"}", "body"},
	} {
		var r request
		err := Decode(json.RawMessage(tc.payload), &r)
		fields := fundbridge.ErrorFields(err)
		if fundbridge.ErrorCode(err) != fundbridge.EINVALID || len(fields) != 1 || fields[0].Field != tc.field {
			t.Errorf("%s: %v %v, want invalid naming %s", tc.payload, err, fields, tc.field)
			continue
		}
		if r := fields[0].Reason; strings.Contains(r, "json") || strings.Contains(r, "Go ") || strings.Contains(r, "svc.") {
			t.Errorf("%s: reason %q is not written for a person", tc.payload, r)
		}
	}
}

// checked is a request with its own checks: a name is required and a
// loan's term is 1 to 360 months.
type checked struct{ request }

func (c checked) Validate() error {
	var fe fundbridge.FieldErrors
	if c.Name == "" {
		fe.Add("name", "required")
	}
	if c.Loan != nil && (c.Loan.Months < 1 || c.Loan.Months > 360) {
		fe.Add("loan.months", "1 to 360")
	}
	if c.Amount.IsZero() {
		fe.Add("amount", "required")
	}
	return fe.Err("invalid request")
}

// A request that fails to decode names what its own checks find in the
// rest too, but not again a member the decoder named.
func TestHandleNamesBadMembersAndTheRest(t *testing.T) {
	op := Handle(Endpoint[checked, Empty]{Op: "thing.do"}, func(context.Context, *Request, checked) (Result[Empty], error) {
		return Result[Empty]{}, nil
	})
	for _, tc := range []struct{ payload, fields string }{
		{`{"amount":150}`, "amount name"},
		{`{"amount":"1.234","loan":{"months":400}}`, "amount name loan.months"},
		{`{"name":"x","loan":{"months":"36"}}`, "loan.months amount"},
		{`{"name":"x","amount":"5","colour":"red"}`, "colour"},
		{`{"name":1`, "body"},
	} {
		_, err := op.Handler(context.Background(), &Request{Payload: json.RawMessage(tc.payload)})
		var named []string
		for _, f := range fundbridge.ErrorFields(err) {
			named = append(named, f.Field)
		}
		if fundbridge.ErrorCode(err) != fundbridge.EINVALID || strings.Join(named, " ") != tc.fields {
			t.Errorf("%s: %v, want %s named", tc.payload, err, tc.fields)
		}
	}
}

// A body that is not JSON is refused with what was met and where, in
// words a person can act on.
func TestDecodeSaysWhatIsWrongWithTheJSON(t *testing.T) {
	for _, tc := range []struct{ payload, reason string }{
		{`{'name':'x'}`, `is not valid JSON at byte 1: invalid character '\'' at start of value`},
		{`{"name":"x",}`, `is not valid JSON at byte 11: invalid character`},
		{"\ufeff{\"name\":\"x\"}", "starts with a byte-order mark (U+FEFF): send UTF-8 JSON without one"},
		{strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000), "nests objects or arrays too deep"},
		{`{"name":"x"`, "is cut short: the JSON ends before it is complete"},
	} {
		var r request
		fields := fundbridge.ErrorFields(Decode(json.RawMessage(tc.payload), &r))
		if len(fields) != 1 || fields[0].Field != "body" || !strings.HasPrefix(fields[0].Reason, tc.reason) {
			t.Errorf("%.20q: %v; want body: %s", tc.payload, fields, tc.reason)
		}
	}
}

// A date and time that does not parse is refused in words, with an
// example, not with Go's layout ("parsing time … as "2006-01-02T15:04:05Z07:00"").
func TestDecodeSaysWhatADateAndTimeLooksLike(t *testing.T) {
	type deadline struct {
		Deadline time.Time  `json:"deadline"`
		Until    *time.Time `json:"until"`
	}
	for _, payload := range []string{`{"deadline":"2026-12-20"}`, `{"deadline":"soon"}`, `{"deadline":20261220}`, `{"until":"2026-12-20 18:00"}`} {
		var d deadline
		fs := fundbridge.ErrorFields(Decode(json.RawMessage(payload), &d))
		if len(fs) != 1 {
			t.Errorf("%s: fields %v, want one", payload, fs)
			continue
		}
		if r := fs[0].Reason; !strings.Contains(r, `like "2026-06-30T18:00:00+08:00"`) || strings.Contains(r, "2006-01-02") || strings.Contains(r, "parsing time") {
			t.Errorf("%s: %s %q, want what a date and time looks like", payload, fs[0].Field, r)
		}
	}
	var d deadline
	if err := Decode(json.RawMessage(`{"deadline":"2026-12-20T18:00:00+08:00"}`), &d); err != nil || !d.Deadline.Equal(time.Date(2026, 12, 20, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("a good deadline: %v %v", d.Deadline, err)
	}
}
