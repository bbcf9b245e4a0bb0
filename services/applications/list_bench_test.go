package applications

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
)

// BenchmarkListApplications is the first page of the application list,
// newest first, as an operator sees it, over views of n applications:
//
//	go test ./services/applications -run '^$' -bench ListApplications
func BenchmarkListApplications(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			reg := events.NewRegistry()
			applicationsapi.Register(reg)
			v := newViews(reg, testNow)
			for i := range n {
				p := applicationsapi.ApplicationDrafted{ApplicationID: fmt.Sprintf("app%06d", i), CompanyName: "Acme Vision", Slice: seedSlice(), ApplicationTerms: terms()}
				data, _ := json.Marshal(p)
				e := events.Event{Type: p.EventType(), StreamID: "application-" + p.ApplicationID, Version: 1, Position: uint64(i + 1),
					RecordedAt: testNow().Add(time.Duration(i) * time.Second), Payload: data, LastInCommit: true}
				if err := v.apply(e); err != nil {
					b.Fatal(err)
				}
			}
			operator := fundbridge.Actor{UserID: "op", Role: fundbridge.RoleOperator}
			b.ResetTimer()
			for b.Loop() {
				page, err := v.listApplications(operator, applicationsapi.ListApplications{Limit: 20})
				if err != nil || len(page.Items) != 20 {
					b.Fatal(len(page.Items), err)
				}
			}
		})
	}
}
